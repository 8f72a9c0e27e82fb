"""Action dates: the date an action took effect in the registry of record, as opposed to the
moment the ledger recorded it (the entry's ``timestamp``).

Every action request may state its ``action_date`` (default: the recording date, UTC). The
entry keeps it in its payload; an entry without one (written before action dates existed, or
of a kind that is no action, such as reference data) is dated by its timestamp's UTC date.
:func:`action_date` is the one reading of an entry's date: AEF Table 3 "Action date", the
reported year of an action, the 31 December holdings, the authorizations and entities in force
by a date, and every time rule use it.

Guard rails, each a named domain error, the ledger unchanged when refused:

- an action date is never in the future (:class:`~ledger.errors.ActionDateInFuture`);
- an action dated in a reported year for which a Party concerned already submitted its AEF is
  accepted only with ``restates`` (:class:`~ledger.errors.SubmittedYearNotRestated`); the entry
  then records the year it restates (``restates`` in its payload);
- the per-unit order of action dates and the time rules are checked by the use cases with the
  pure rules of :mod:`ledger.registry.rules`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ledger.errors import ActionDateInFuture, SubmittedYearNotRestated
from ledger.log.canonical import JsonValue
from ledger.log.chain import Entry, MalformedEntry
from ledger.ports import UnitOfWork

ACTION_DATE = "action_date"
"""Payload member of an action entry: its action date (ISO 8601 date)."""
RESTATES = "restates"
"""Payload member of an action dated in a submitted reported year: that year."""

END_OF_PERIOD_BTR_AFTER = 2
"""Years from the last year of an NDC period to the submission of the BTR that contains its
information. Default 2: BTRs are biennial and their latest reported year is at most two years
before submission (decision 18/CMA.1; not read in full here), so the period 2021-2030 goes into
the BTR due by 31 December 2032 and OIMP first transfers of it close on 31 December 2031 (the
JCM's secondary sources also place the deadline before BTR5 in 2032, article6.md §6). A Party
fact the decisions leave to the BTR cycle: a deployment setting."""


@dataclass(frozen=True, slots=True)
class Dating:
    """What an action request says about its date: ``action_date`` (``None``: the recording
    date) and whether it knowingly ``restates`` a reported year whose AEF was submitted; and
    the deployment's time-rule setting, the years from an NDC period's last year to the BTR
    reporting it (:data:`END_OF_PERIOD_BTR_AFTER`)."""

    action_date: date | None = None
    restates: bool = False
    end_of_period_btr_after: int = END_OF_PERIOD_BTR_AFTER


UNDATED = Dating()
"""An action dated on its recording date."""


@dataclass(frozen=True, slots=True)
class DatedAction:
    """An action's checked date: ``on``, the reported year it restates (if it lands in a year
    with a submitted AEF and the request said so) and the time-rule setting."""

    on: date
    restated_year: int | None = None
    end_of_period_btr_after: int = END_OF_PERIOD_BTR_AFTER

    def payload(self) -> dict[str, JsonValue]:
        """The payload members every entry of the action carries."""
        members: dict[str, JsonValue] = {ACTION_DATE: self.on.isoformat()}
        if self.restated_year is not None:
            members[RESTATES] = self.restated_year
        return members


def action_date(entry: Entry) -> date:
    """The entry's action date: its payload's ``action_date``, else its timestamp's UTC date."""
    raw = entry.payload.get(ACTION_DATE)
    if raw is None:
        return entry.timestamp.date()
    try:
        if not isinstance(raw, str):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise MalformedEntry(
            f"entry {entry.seq} ({entry.kind}): {ACTION_DATE!r} is not an ISO 8601 date"
        ) from exc


def date_action(uow: UnitOfWork, dating: Dating, parties: Iterable[str]) -> DatedAction:
    """Check the request's action date and return it dated: not in the future
    (:class:`ActionDateInFuture`), and not in a reported year for which one of ``parties``
    submitted its AEF unless the request restates it (:class:`SubmittedYearNotRestated`)."""
    today = uow.now().date()
    on = today if dating.action_date is None else dating.action_date
    if on > today:
        raise ActionDateInFuture(
            f"action date {on.isoformat()} is after today ({today.isoformat()}, UTC)",
            action_date=on.isoformat(),
            today=today.isoformat(),
        )
    restated: int | None = None
    if on.year < today.year:  # a year can be submitted only once it is over
        for party in sorted(set(parties)):
            versions = uow.projection.submitted_versions(party, on.year)
            if not versions:
                continue
            if not dating.restates:
                raise SubmittedYearNotRestated(
                    f"{party} submitted its AEF for {on.year} (version "
                    f"{', '.join(versions)}); an action dated {on.isoformat()} changes it: "
                    "send restates: true to restate that year",
                    party=party,
                    reported_year=on.year,
                    versions=list(versions),
                    action_date=on.isoformat(),
                )
            restated = on.year
    return DatedAction(on, restated, dating.end_of_period_btr_after)
