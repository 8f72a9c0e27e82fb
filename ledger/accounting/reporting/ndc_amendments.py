"""Amending a declared NDC period: a new version of the period, as an ``ndc.amended`` entry,
until an AEF report covering a year of the period has been submitted for the Party (the
submitted report named the period).

An amendment keeps the period's years and may change everything else: the NDC type, metric,
corresponding-adjustment method, NDC year and non-GHG unit, validated completely as a new
declaration is (:func:`ledger.registry.ndc.check_declaration`). A target recorded for an earlier
version stays the period's target: under the averaging method it keeps only its target level;
under the other methods it counts while it fits, and a new one is recorded when it does not.
"""

from __future__ import annotations

from ledger.accounting.reporting.submissions import submissions
from ledger.errors import NdcPeriodReported
from ledger.log.canonical import JsonValue
from ledger.ports import AppendedEntry, UnitOfWork
from ledger.recording import record_entry
from ledger.registry import ndc, services
from ledger.registry.codec import to_json
from ledger.registry.model import NdcDeclaration

NDC_AMENDED = "ndc.amended"


def amend_ndc(
    uow: UnitOfWork, party: str, declaration: NdcDeclaration, actor: str
) -> AppendedEntry | None:
    """Record a new version of the Party's NDC period with the years of ``declaration``.

    Refused with :class:`~ledger.errors.NdcPeriodNotDeclared` if the Party declared no such
    period, with the errors of :func:`~ledger.registry.ndc.check_declaration` if the declaration
    is incomplete or inconsistent, and with :class:`~ledger.errors.NdcPeriodReported` once an
    AEF for a year of the period has been submitted. The very same declaration as the one in
    force records nothing and returns ``None``.
    """
    declared = services.party_of(uow, party)
    ndc.check_declaration(declaration)
    period = ndc.period_to_amend(declared, declaration)
    if period.declaration == declaration:
        return None
    reported = sorted(
        {s.reported_year for s in submissions(uow, party) if declaration.covers(s.reported_year)}
    )
    if reported:
        raise NdcPeriodReported(
            f"{party} has submitted its AEF for {', '.join(map(str, reported))}, in its NDC period "
            f"{declaration.period_label}: the period's declaration can no longer be amended",
            party=party,
            period=declaration.period_label,
            reported_years=reported,
        )
    payload: dict[str, JsonValue] = {
        "party": party,
        "version": period.version + 1,
        "ndc": to_json(declaration),
    }
    return record_entry(uow, NDC_AMENDED, payload, actor)
