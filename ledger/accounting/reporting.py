"""Article 6.2 reporting from the ledger: corresponding adjustments, the BTR structured summary
and the agreed electronic format (AEF), each computed from ledger entries.

Inputs the registry does not produce are recorded here as ledger entries of their own, never as
edits: NDC-covered emissions (``emissions.recorded``), the NDC target, trajectory or budget
(``ndc.target_recorded``) and AEF submissions (``aef.submitted``). A restated year is a new
entry; a resubmission is a new version.

Everything else is read back by scanning the log in ``seq`` order and replaying it into an
in-memory projection (:func:`ledger.registry.projection.apply_entry`), so every result can be
computed
*as of* any tree size and every figure names the entries behind it:

- first transfers (``itmo.first_transfer``) of the first transferring Party, booked to the
  vintage (2/CMA.3 annex para 8(a)); uses towards the NDC (``itmo.use``) booked to the calendar
  year of use (para 8(b)); MOs authorized for OIMP (``units.authorized``, and ``mo.issued``
  shares issued under an OIMP authorization) for para 23(d);
- AEF Table 3 rows are one per block and action in the Party's registries, Table 4 replays the
  log up to the last entry dated on or before 31 December of the reported year.

A submission records the tree size and the SHA-256 of the report it was built from, so
:func:`aef_report_for` rebuilds a submitted version exactly and :func:`verify_submission`
checks it; :func:`restated_since` compares the adjustments then and now (2/CMA.3 para 12).

Interpretation choices (article6.md leaves them open) are stated where they are made:
facts outside the NDC period are left to that period's accounting; AEF Table 2 also lists the
authorizations of other Parties that the Party's actions or holdings cite (the AEF requires every
cited Authorization ID to be in Table 2); Table 4 lists ITMOs only (first transferred units);
``Using/cancelling participating Party ID`` is given on OIMP uses and cancellations, not on NDC
uses (annex footnote).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import TypeVar, cast

from ledger.accounting import aef
from ledger.accounting.adjustments import (
    DEFAULT_POLICY,
    GHG_UNIT,
    AdjustmentPolicy,
    AdjustmentReport,
    EmissionsFact,
    FirstTransferFact,
    NdcProfile,
    OimpAuthorizationFact,
    Restatement,
    UseFact,
    compute_adjustments,
    restate,
)
from ledger.accounting.btr import (
    BreakdownRow,
    StructuredSummary,
    breakdowns_23j,
    build_structured_summary,
)
from ledger.errors import (
    AuthorizationNotFound,
    InvalidInput,
    NdcNotDeclared,
    PartyNotFound,
)
from ledger.log.canonical import JsonValue, canonical_bytes
from ledger.log.chain import Entry, MalformedEntry
from ledger.ports import AppendedEntry, LedgerLog, UnitOfWork
from ledger.recording import record_entry
from ledger.registry.codec import from_json
from ledger.registry.model import (
    AccountType,
    Authorization,
    Metric,
    NdcDeclaration,
    Party,
    Purpose,
    UnitBlock,
)
from ledger.registry.projection import InMemoryProjection, apply_entry, block_key
from ledger.registry.services import ADAPTATION_FUND_SUBTYPE, party_of

__all__ = [
    "EMISSIONS_RECORDED",
    "NDC_TARGET_RECORDED",
    "AEF_SUBMITTED",
    "EmissionsUnitMismatch",
    "NdcTarget",
    "NonGhgTonnesUnknown",
    "PartyFacts",
    "ReportedYearNotOver",
    "Submission",
    "TreeSizeBeyondLog",
    "adjustments_as_of",
    "adjustments_for",
    "aef_report_for",
    "breakdowns_for",
    "ndc_profile_for",
    "party_facts",
    "record_emissions",
    "record_ndc_target",
    "record_submission",
    "restated_since",
    "structured_summary_for",
    "submissions",
    "verify_submission",
]

EMISSIONS_RECORDED = "emissions.recorded"
NDC_TARGET_RECORDED = "ndc.target_recorded"
AEF_SUBMITTED = "aef.submitted"

_BATCH = 1_000
"""Entries read from the log per query."""


# --- errors --------------------------------------------------------------------------------------


class EmissionsUnitMismatch(InvalidInput):
    """Emissions (or the non-GHG indicator) are recorded in the unit the Party's NDC is tracked
    in: t CO2 eq for a GHG NDC, the declared non-GHG unit otherwise (2/CMA.3 paras 23(a), 23(i))."""

    rule = "emissions-unit"


class ReportedYearNotOver(InvalidInput):
    """An AEF covers the actions of a whole calendar year and is submitted after it ends (by 15
    April of the following year, 2/CMA.3 annex para 20)."""

    rule = "reported-year-over"


class TreeSizeBeyondLog(InvalidInput):
    """A report *as of* a tree size needs 0 <= tree size <= the current log size."""

    rule = "tree-size"


class NonGhgTonnesUnknown(InvalidInput):
    """AEF Tables 3 and 4 need every block's quantity in t CO2 eq; the ledger counts non-GHG
    units in their own metric and records no conversion factor to t CO2 eq."""

    rule = "non-ghg-tonnes"


# --- entries -------------------------------------------------------------------------------------


def _entries(log: LedgerLog, end: int) -> Iterator[Entry]:
    """Entries ``0 .. end-1`` in seq order, read in batches."""
    for start in range(0, end, _BATCH):
        for body in log.read_entries(start, min(end, start + _BATCH)):
            yield Entry.from_canonical(body)


def _check_tree_size(uow: UnitOfWork, tree_size: int) -> None:
    size = uow.log.size()
    if isinstance(tree_size, bool) or not isinstance(tree_size, int) or not 0 <= tree_size <= size:
        raise TreeSizeBeyondLog(
            f"tree size {tree_size!r} is outside 0..{size}", tree_size=tree_size, log_size=size
        )


def _malformed(entry: Entry, key: str, wanted: str) -> MalformedEntry:
    return MalformedEntry(f"entry {entry.seq} ({entry.kind}): {key!r} is not {wanted}")


def _int(entry: Entry, key: str) -> int:
    value = entry.payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _malformed(entry, key, "an integer")
    return value


def _opt_int(entry: Entry, key: str) -> int | None:
    return None if entry.payload.get(key) is None else _int(entry, key)


def _str(entry: Entry, key: str) -> str:
    value = entry.payload.get(key)
    if not isinstance(value, str):
        raise _malformed(entry, key, "a string")
    return value


def _opt_str(entry: Entry, key: str) -> str | None:
    return None if entry.payload.get(key) is None else _str(entry, key)


def _acted(entry: Entry) -> list[UnitBlock]:
    """The block states an action produced, for the blocks it acted on (payload ``acted``)."""
    raw_blocks = entry.payload.get("blocks")
    raw_acted = entry.payload.get("acted")
    if not isinstance(raw_blocks, list) or not isinstance(raw_acted, list):
        raise _malformed(entry, "blocks", "a list of blocks with the acted ids")
    by_id = {block.block_id: block for block in (from_json(UnitBlock, b) for b in raw_blocks)}
    acted: list[UnitBlock] = []
    for block_id in raw_acted:
        if not isinstance(block_id, int) or block_id not in by_id:
            raise _malformed(entry, "acted", "a list of ids of blocks in the payload")
        acted.append(by_id[block_id])
    return acted


# --- recording inputs ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NdcTarget:
    """The latest ``ndc.target_recorded`` entry of a Party: the budget and/or trajectory of its CA
    method (2/CMA.3 annex para 7) and the target level of its NDC year (para 18(d))."""

    seq: int
    budget: int | None
    trajectory: Mapping[int, int]
    target_level: int | None


def _declared_ndc(party: Party) -> NdcDeclaration:
    if party.ndc is None:
        raise NdcNotDeclared(f"{party.code} has not declared its NDC", party=party.code)
    return party.ndc


def _profile(party: Party, target: NdcTarget | None) -> NdcProfile:
    ndc = _declared_ndc(party)
    return NdcProfile(
        party=party.code,
        ndc_type=ndc.ndc_type,
        metric=ndc.metric,
        period_start=ndc.period_start,
        period_end=ndc.period_end,
        method=ndc.method,
        target_year=ndc.target_year,
        budget=None if target is None else target.budget,
        trajectory={} if target is None else dict(target.trajectory),
        target_level=None if target is None else target.target_level,
        non_ghg_unit=ndc.non_ghg_unit if ndc.metric is Metric.NON_GHG else None,
    )


def _check_whole(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer, got {value!r}", field=name)
    return value


def _check_year(name: str, value: object) -> int:
    year = _check_whole(name, value)
    if not 1000 <= year <= 9999:
        raise InvalidInput(f"{name} must be a four-digit year, got {year}", field=name)
    return year


def record_emissions(
    uow: UnitOfWork,
    party: str,
    year: int,
    value: int,
    actor: str,
    *,
    metric_unit: str | None = None,
) -> AppendedEntry:
    """Record the Party's NDC-covered emissions and removals of ``year`` (para 23(a)), or its
    non-GHG indicator level (para 23(i)), in the NDC's unit. Recording a year again restates it:
    the later entry counts and the earlier one stays as previously reported."""
    ndc = _declared_ndc(party_of(uow, party))
    _check_year("year", year)
    _check_whole("value", value)
    unit = ndc.non_ghg_unit if ndc.metric is Metric.NON_GHG else GHG_UNIT
    if unit is None:
        raise NdcNotDeclared(f"{party}'s non-GHG NDC declares no unit", party=party)
    if metric_unit is not None and metric_unit != unit:
        raise EmissionsUnitMismatch(
            f"{party}'s NDC is tracked in {unit!r}, not {metric_unit!r}",
            party=party,
            expected=unit,
            given=metric_unit,
        )
    payload: dict[str, JsonValue] = {
        "party": party,
        "year": year,
        "value": value,
        "metric_unit": unit,
    }
    return record_entry(uow, EMISSIONS_RECORDED, payload, actor)


def record_ndc_target(
    uow: UnitOfWork,
    party: str,
    actor: str,
    *,
    budget: int | None = None,
    trajectory: Mapping[int, int] | None = None,
    target_level: int | None = None,
) -> AppendedEntry:
    """Record the budget and/or (indicative) trajectory of the Party's CA method and the target
    level of its NDC year. A later entry supersedes the whole earlier one. Refused with
    :class:`~ledger.accounting.adjustments.InvalidNdcProfile` (or ``MethodNotAllowedForNdc``) if it
    does not
    fit the declared NDC, e.g. a budget under the averaging method."""
    declared = party_of(uow, party)
    points = dict(trajectory or {})
    _profile(declared, NdcTarget(-1, budget, points, target_level))
    payload: dict[str, JsonValue] = {
        "party": party,
        "budget": budget,
        "trajectory": [{"year": y, "level": points[y]} for y in sorted(points)],
        "target_level": target_level,
    }
    return record_entry(uow, NDC_TARGET_RECORDED, payload, actor)


@dataclass(frozen=True, slots=True)
class Submission:
    """An ``aef.submitted`` entry: the AEF of ``reported_year``, version ``version``, built from
    the first ``tree_size`` entries; ``report_sha256`` is the SHA-256 of the RFC 8785 bytes of
    its JSON rendering (:func:`ledger.accounting.aef.to_json`), so anyone can rebuild and compare
    it."""

    seq: int
    party: str
    reported_year: int
    version: str
    tree_size: int
    date_of_submission: date
    report_sha256: str


def _report_digest(report: aef.AefReport) -> str:
    return hashlib.sha256(canonical_bytes(aef.to_json(report))).hexdigest()


def record_submission(uow: UnitOfWork, party: str, reported_year: int, actor: str) -> str:
    """Record the submission of the Party's AEF for ``reported_year`` and return its version:
    ``1.0`` for the first, then ``1.1``, ``1.2``, ... for each resubmission.

    The report is built from the log as it stands (see :func:`aef_report_for`) and must pass
    :func:`ledger.accounting.aef.validate_report` (else
    :class:`~ledger.accounting.aef.AefValidationError` names every
    table, row and column at fault). The entry records the tree size it was built from, so the
    same report can be rebuilt, and restatements shown, later.
    """
    declared = party_of(uow, party)
    _declared_ndc(declared)
    _check_year("reported_year", reported_year)
    today = uow.now().date()
    if reported_year >= today.year:
        raise ReportedYearNotOver(
            f"the AEF for {reported_year} can be submitted once the year is over",
            reported_year=reported_year,
            today=today.isoformat(),
        )
    scan = _scan(uow, party, uow.log.size(), reported_year)
    version = f"1.{len(scan.submissions_of(reported_year))}"
    report = _report(uow, scan, version, today)
    aef.validate_report(report)
    payload: dict[str, JsonValue] = {
        "party": party,
        "reported_year": reported_year,
        "version": version,
        "tree_size": scan.end,
        "date_of_submission": today.isoformat(),
        "report_sha256": _report_digest(report),
    }
    record_entry(uow, AEF_SUBMITTED, payload, actor)
    return version


def submissions(uow: UnitOfWork, party: str) -> list[Submission]:
    """The Party's recorded AEF submissions, oldest first."""
    party_of(uow, party)
    scan = _Scan(party, None)
    for entry in _entries(uow.log, uow.log.size()):
        if entry.kind == AEF_SUBMITTED:
            scan.on_submission(entry)
    return scan.submissions


# --- reading the ledger --------------------------------------------------------------------------

_E = TypeVar("_E", bound=StrEnum)


def _listed(enum: type[_E], value: str) -> _E:
    """``value`` as a member of a nomenclature list; a value outside the list is passed through
    unchanged so that :func:`ledger.accounting.aef.validate_report` names its table, row and
    column."""
    try:
        return enum(value)
    except ValueError:
        return cast(_E, value)


def _day(entry: Entry) -> date:
    return entry.timestamp.date()  # entry timestamps are UTC


@dataclass
class _Scan:
    """One pass over the log for one Party: its facts, its AEF actions of one reported year,
    and the replayed projection at the end of the pass."""

    party: str
    reported_year: int | None
    end: int = 0
    """Tree size read: entries ``0 .. end-1``."""
    state: InMemoryProjection = field(default_factory=InMemoryProjection)
    emissions: list[EmissionsFact] = field(default_factory=list)
    first_transfers: list[FirstTransferFact] = field(default_factory=list)
    uses: list[UseFact] = field(default_factory=list)
    oimp_authorizations: list[OimpAuthorizationFact] = field(default_factory=list)
    target: NdcTarget | None = None
    submissions: list[Submission] = field(default_factory=list)
    actions: list[aef.ActionRow] = field(default_factory=list)
    used_entities: set[str] = field(default_factory=set)
    year_end_size: int = 0
    """Tree size up to the last entry dated on or before 31 December of the reported year."""

    def read(self, entry: Entry) -> None:
        handler = _HANDLERS.get(entry.kind)
        if handler is not None:
            handler(self, entry)
        if self.reported_year is not None and _day(entry).year <= self.reported_year:
            self.year_end_size = entry.seq + 1
        apply_entry(self.state, entry.seq, entry.kind, entry.payload)

    def submissions_of(self, reported_year: int) -> list[Submission]:
        return [s for s in self.submissions if s.reported_year == reported_year]

    # --- context from the projection replayed so far

    def authorization(self, authorization_id: str, version: int | None = None) -> Authorization:
        found = self.state.get_authorization(authorization_id, version)
        if found is None:
            raise AuthorizationNotFound(
                f"authorization {authorization_id} v{version} is not in the ledger",
                authorization_id=authorization_id,
            )
        return found

    def account_party(self, account_id: str) -> str | None:
        account = self.state.get_account(account_id)
        registry = None if account is None else self.state.get_registry(account.registry_id)
        return None if registry is None else registry.party

    def reporting(self, entry: Entry) -> bool:
        """Whether the entry is an action to report in the AEF being built."""
        return self.reported_year is not None and _day(entry).year == self.reported_year

    def entity_identification(self, entity_id: str | None) -> str | None:
        if entity_id is None:
            return None
        self.used_entities.add(entity_id)
        entity = self.state.get_entity(entity_id)
        return entity_id if entity is None else entity.identification

    def act(
        self,
        entry: Entry,
        block: UnitBlock,
        action_type: aef.ActionType,
        *,
        subtype: str | None = None,
        transferring: str | None = None,
        acquiring: str | None = None,
        oimp_purpose: str | None = None,
        using_party: str | None = None,
        using_entity: str | None = None,
        ndc_use_year: int | None = None,
    ) -> None:
        """Add the AEF Table 3 row of one block and action (only ITMO actions: units that are
        authorized or first transferred)."""
        if block.authorization_id is None and not block.first_transferred:
            return
        holding = _holding_row(block)
        reference = _opt_str(entry, "reference") or _opt_str(entry, "decision_reference")
        note = f"Ledger entry {entry.seq}" + (f"; reference {reference}" if reference else "")
        self.actions.append(
            aef.ActionRow(
                action_date=_day(entry),
                action_type=action_type,
                action_subtype=None if subtype is None else _listed(aef.ActionSubtype, subtype),
                cooperative_approach_id=holding.cooperative_approach_id,
                authorization_id=holding.authorization_id,
                first_transferring_party_id=holding.first_transferring_party_id,
                registry_id=holding.registry_id,
                first_id=holding.first_id,
                last_id=holding.last_id,
                underlying_registry_id=holding.underlying_registry_id,
                first_unit_id=holding.first_unit_id,
                last_unit_id=holding.last_unit_id,
                metric=holding.metric,
                gwp_values=holding.gwp_values,
                non_ghg_metric=holding.non_ghg_metric,
                quantity=holding.quantity,
                quantity_non_ghg=holding.quantity_non_ghg,
                mitigation_type=holding.mitigation_type,
                vintage=holding.vintage,
                transferring_party_id=transferring,
                acquiring_party_id=acquiring,
                oimp_purpose=oimp_purpose,
                using_party_id=using_party,
                using_entity_id=using_entity,
                ndc_use_year=ndc_use_year,
                additional_information=note,
            )
        )

    # --- one handler per entry kind

    def on_emissions(self, entry: Entry) -> None:
        if _str(entry, "party") == self.party:
            self.emissions.append(
                EmissionsFact(entry.seq, _int(entry, "year"), _int(entry, "value"))
            )

    def on_target(self, entry: Entry) -> None:
        if _str(entry, "party") != self.party:
            return
        points = entry.payload.get("trajectory")
        if not isinstance(points, list):
            raise _malformed(entry, "trajectory", "a list")
        trajectory: dict[int, int] = {}
        for point in points:
            if not isinstance(point, dict):
                raise _malformed(entry, "trajectory", "a list of {year, level} objects")
            year, level = point.get("year"), point.get("level")
            if not isinstance(year, int) or not isinstance(level, int):
                raise _malformed(entry, "trajectory", "a list of integer {year, level} objects")
            trajectory[year] = level
        self.target = NdcTarget(
            entry.seq, _opt_int(entry, "budget"), trajectory, _opt_int(entry, "target_level")
        )

    def on_submission(self, entry: Entry) -> None:
        if _str(entry, "party") != self.party:
            return
        self.submissions.append(
            Submission(
                seq=entry.seq,
                party=self.party,
                reported_year=_int(entry, "reported_year"),
                version=_str(entry, "version"),
                tree_size=_int(entry, "tree_size"),
                date_of_submission=date.fromisoformat(_str(entry, "date_of_submission")),
                report_sha256=_str(entry, "report_sha256"),
            )
        )

    def on_issuance(self, entry: Entry) -> None:
        """Shares issued under an authorization: the units are authorized at issuance."""
        authorized = [
            b
            for b in _acted(entry)
            if b.authorization_id is not None
            and b.attributes.first_transferring_party == self.party
        ]
        self._authorized(entry, authorized, version=None)

    def on_units_authorized(self, entry: Entry) -> None:
        authorization = self.authorization(_str(entry, "authorization_id"), _int(entry, "version"))
        if authorization.party == self.party:
            self._authorized(entry, _acted(entry), version=authorization.version)

    def _authorized(self, entry: Entry, blocks: Sequence[UnitBlock], version: int | None) -> None:
        groups: dict[tuple[str, str, int], list[UnitBlock]] = defaultdict(list)
        names: dict[tuple[str, str, int], tuple[str, ...]] = {}
        for block in blocks:
            assert block.authorization_id is not None
            authorization = self.authorization(block.authorization_id, version)
            if self.reporting(entry):
                self.act(entry, block, aef.ActionType.AUTHORIZATION)
            if not authorization.purposes.covers_oimp:
                continue
            a = block.attributes
            key = (a.ca_id, a.sector, a.vintage)
            groups[key].append(block)
            names[key] = tuple(self._entity_name(e) for e in authorization.authorized_entities)
        for (ca_id, sector, vintage), members in groups.items():
            self.oimp_authorizations.append(
                OimpAuthorizationFact(
                    seq=entry.seq,
                    year=_day(entry).year,
                    quantity=sum(b.quantity for b in members),
                    entities=names[(ca_id, sector, vintage)],
                    cooperative_approach=ca_id,
                    sector=sector,
                    transferring_party=self.party,
                    vintage=vintage,
                )
            )

    def _entity_name(self, entity_id: str) -> str:
        entity = self.state.get_entity(entity_id)
        return entity_id if entity is None else entity.name

    def on_first_transfer(self, entry: Entry) -> None:
        subtype = _str(entry, "subtype")
        acquiring = _opt_str(entry, "acquiring_party")
        oimp_definition = subtype in {d.value for d in aef.FirstTransferDefinition}
        groups: dict[tuple[int, str, str, str], int] = defaultdict(int)
        purposes: dict[tuple[int, str, str, str], Authorization] = {}
        for block in _acted(entry):
            a = block.attributes
            if a.first_transferring_party != self.party:
                continue
            authorization = self.authorization(
                block.authorization_id or "", block.authorization_version
            )
            key = (a.vintage, authorization.purposes.value, a.ca_id, a.sector)
            groups[key] += block.quantity
            purposes[key] = authorization
            if self.reporting(entry):
                self.act(
                    entry,
                    block,
                    aef.ActionType.FIRST_TRANSFER,
                    subtype=subtype,
                    acquiring=acquiring,
                    oimp_purpose=authorization.oimp_authorized if oimp_definition else None,
                )
        for key, quantity in groups.items():
            vintage, _, ca_id, sector = key
            self.first_transfers.append(
                FirstTransferFact(
                    seq=entry.seq,
                    vintage=vintage,
                    quantity=quantity,
                    purpose=purposes[key].purposes,
                    cooperative_approach=ca_id,
                    sector=sector,
                    transferring_party=self.party,
                    using_party=acquiring,
                )
            )

    def on_transfer(self, entry: Entry) -> None:
        if not self.reporting(entry) or self.account_party(_str(entry, "from_account")) != (
            self.party
        ):
            return
        destination = self.state.get_account(_str(entry, "to_account"))
        to_fund = destination is not None and (
            destination.account_type is AccountType.ADAPTATION_FUND
        )
        if not (entry.payload.get("international") is True or to_fund):
            return  # a move between the Party's own accounts is no AEF action
        for block in _acted(entry):
            self.act(
                entry,
                block,
                aef.ActionType.TRANSFER,
                subtype=ADAPTATION_FUND_SUBTYPE if to_fund else None,
                acquiring=_opt_str(entry, "acquiring_party"),
            )

    def on_acquisition(self, entry: Entry) -> None:
        if self.reporting(entry) and self.account_party(_str(entry, "to_account")) == self.party:
            for block in _acted(entry):
                self.act(
                    entry,
                    block,
                    aef.ActionType.ACQUISITION,
                    transferring=_str(entry, "transferring_party"),
                )

    def on_use(self, entry: Entry) -> None:
        if _str(entry, "using_party") != self.party:
            return
        use_year = _int(entry, "use_year")
        groups: dict[tuple[int, str, str, str], int] = defaultdict(int)
        for block in _acted(entry):
            a = block.attributes
            groups[(a.vintage, a.ca_id, a.sector, a.first_transferring_party)] += block.quantity
            if self.reporting(entry):
                self.act(entry, block, aef.ActionType.USE, ndc_use_year=use_year)
        for (vintage, ca_id, sector, transferring), quantity in groups.items():
            self.uses.append(
                UseFact(
                    seq=entry.seq,
                    use_year=use_year,
                    vintage=vintage,
                    quantity=quantity,
                    cooperative_approach=ca_id,
                    sector=sector,
                    transferring_party=transferring,
                    using_party=self.party,
                )
            )

    def on_oimp_use(self, entry: Entry) -> None:
        if not self.reporting(entry) or _str(entry, "using_party") != self.party:
            return
        entity = self.entity_identification(_opt_str(entry, "entity_id"))
        for block in _acted(entry):
            self.act(
                entry,
                block,
                aef.ActionType.USE,
                oimp_purpose=_str(entry, "oimp_purpose"),
                using_party=self.party,
                using_entity=entity,
            )

    def on_cancellation(self, entry: Entry) -> None:
        if not self.reporting(entry) or _str(entry, "cancelling_party") != self.party:
            return
        for block in _acted(entry):
            self.act(
                entry,
                block,
                aef.ActionType.CANCELLATION,
                subtype=_str(entry, "subtype"),
                using_party=self.party,
            )


_HANDLERS: Mapping[str, Callable[[_Scan, Entry], None]] = {
    EMISSIONS_RECORDED: _Scan.on_emissions,
    NDC_TARGET_RECORDED: _Scan.on_target,
    AEF_SUBMITTED: _Scan.on_submission,
    "mo.issued": _Scan.on_issuance,
    "units.authorized": _Scan.on_units_authorized,
    "itmo.first_transfer": _Scan.on_first_transfer,
    "itmo.transfer": _Scan.on_transfer,
    "itmo.acquisition": _Scan.on_acquisition,
    "itmo.use": _Scan.on_use,
    "itmo.oimp_use": _Scan.on_oimp_use,
    "itmo.cancellation": _Scan.on_cancellation,
}


def _replay(uow: UnitOfWork, end: int, scan: _Scan) -> None:
    for entry in _entries(uow.log, end):
        scan.read(entry)
    scan.end = end


def _scan(uow: UnitOfWork, party: str, end: int, reported_year: int | None = None) -> _Scan:
    scan = _Scan(party, reported_year)
    _replay(uow, end, scan)
    if scan.state.get_party(party) is None:
        raise PartyNotFound(f"Party {party} is not registered", party=party)
    return scan


# --- facts and corresponding adjustments ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartyFacts:
    """What the ledger holds for a Party's accounting, as of ``tree_size`` entries: the NDC
    profile and the facts of its NDC period, each fact carrying the seq of its entry.

    Facts whose year lies outside the NDC period (a first transfer of a later vintage, emissions
    of another year) belong to another period's accounting and are left out.
    """

    party: str
    tree_size: int
    profile: NdcProfile
    target: NdcTarget | None
    emissions: tuple[EmissionsFact, ...]
    first_transfers: tuple[FirstTransferFact, ...]
    uses: tuple[UseFact, ...]
    oimp_authorizations: tuple[OimpAuthorizationFact, ...]


def party_facts(uow: UnitOfWork, party: str, *, tree_size: int | None = None) -> PartyFacts:
    """The Party's profile and facts from the first ``tree_size`` entries (default: all)."""
    end = uow.log.size() if tree_size is None else tree_size
    _check_tree_size(uow, end)
    scan = _scan(uow, party, end)
    declared = scan.state.get_party(party)
    assert declared is not None
    profile = _profile(declared, scan.target)
    start, stop = profile.period_start, profile.period_end
    return PartyFacts(
        party=party,
        tree_size=end,
        profile=profile,
        target=scan.target,
        emissions=tuple(f for f in scan.emissions if start <= f.year <= stop),
        first_transfers=tuple(f for f in scan.first_transfers if start <= f.vintage <= stop),
        uses=tuple(scan.uses),
        oimp_authorizations=tuple(f for f in scan.oimp_authorizations if start <= f.year <= stop),
    )


def ndc_profile_for(uow: UnitOfWork, party: str) -> NdcProfile:
    """The Party's NDC profile: its NDC declaration and its latest recorded target."""
    return party_facts(uow, party).profile


def _booked(facts: PartyFacts, policy: AdjustmentPolicy) -> AdjustmentReport:
    """:func:`~ledger.accounting.adjustments.compute_adjustments` over the facts, one fact per
    entry and
    booking: it takes one fact per seq, while one entry may act on blocks of several
    approaches, sectors or vintages. A use counts whole in its year of use; first transfers
    count per vintage and purpose, so an entry first transferring two vintages still raises
    :class:`~ledger.accounting.adjustments.DuplicateSeq`. The 23(j) breakdowns keep every fact."""
    uses: dict[int, UseFact] = {}
    for use in facts.uses:
        booked = uses.get(use.seq)
        uses[use.seq] = (
            use
            if booked is None
            else replace(
                booked,
                quantity=booked.quantity + use.quantity,
                vintage=min(booked.vintage, use.vintage),
            )
        )
    first_transfers: dict[tuple[int, int, Purpose], FirstTransferFact] = {}
    for ft in facts.first_transfers:
        key = (ft.seq, ft.vintage, ft.purpose)
        known = first_transfers.get(key)
        first_transfers[key] = (
            ft if known is None else replace(known, quantity=known.quantity + ft.quantity)
        )
    return compute_adjustments(
        facts.profile, facts.emissions, first_transfers.values(), uses.values(), policy
    )


def adjustments_as_of(
    uow: UnitOfWork, party: str, tree_size: int, policy: AdjustmentPolicy = DEFAULT_POLICY
) -> AdjustmentReport:
    """Corresponding adjustments from the first ``tree_size`` entries only: what could have been
    reported at that point (e.g. a submission's tree size)."""
    return _booked(party_facts(uow, party, tree_size=tree_size), policy)


def adjustments_for(
    uow: UnitOfWork, party: str, policy: AdjustmentPolicy = DEFAULT_POLICY
) -> AdjustmentReport:
    """Corresponding adjustments and emissions balances of the Party from the whole ledger."""
    return adjustments_as_of(uow, party, uow.log.size(), policy)


def restated_since(
    uow: UnitOfWork, party: str, tree_size: int, policy: AdjustmentPolicy = DEFAULT_POLICY
) -> list[Restatement]:
    """Figures reported as of ``tree_size`` (e.g. a :class:`Submission`'s) that the ledger now
    restates (2/CMA.3 annex paras 12, 23)."""
    return restate(
        adjustments_as_of(uow, party, tree_size, policy), adjustments_for(uow, party, policy)
    )


def structured_summary_for(
    uow: UnitOfWork, party: str, policy: AdjustmentPolicy = DEFAULT_POLICY
) -> StructuredSummary:
    """The Article 6 rows of the BTR structured summary (CTF Table 4)."""
    facts = party_facts(uow, party)
    return build_structured_summary(_booked(facts, policy), facts.oimp_authorizations)


def breakdowns_for(uow: UnitOfWork, party: str) -> tuple[BreakdownRow, ...]:
    """The para 23(j) breakdowns of the Party's 23(c)-(e) amounts."""
    facts = party_facts(uow, party)
    return breakdowns_23j(facts.first_transfers, facts.uses, facts.oimp_authorizations)


# --- the AEF -------------------------------------------------------------------------------------


def _holding_row(block: UnitBlock) -> aef.HoldingRow:
    a = block.attributes
    if a.metric is not Metric.GHG:
        raise NonGhgTonnesUnknown(
            f"block {block.block_id} counts {a.non_ghg_metric or 'non-GHG'} units; the AEF also "
            "needs its quantity in t CO2 eq, which the ledger does not record",
            block_id=block.block_id,
        )
    return aef.HoldingRow(
        cooperative_approach_id=a.ca_id,
        authorization_id=block.authorization_id or "",
        first_transferring_party_id=a.first_transferring_party,
        registry_id=a.registry_id,
        first_id=block.first,
        last_id=block.last,
        underlying_registry_id=(
            None
            if a.underlying_registry is None
            else _listed(aef.UnderlyingRegistry, a.underlying_registry)
        ),
        first_unit_id=block.underlying_first if a.underlying_registry is not None else None,
        last_unit_id=block.underlying_last if a.underlying_registry is not None else None,
        metric=aef.Metric(a.metric.value),
        gwp_values=a.gwp or None,
        quantity=block.quantity,
        mitigation_type=aef.MitigationType(a.mitigation_type.value),
        vintage=a.vintage,
    )


def _timeframe(authorization: Authorization) -> str:
    text = f"Vintages {authorization.vintage_from}-{authorization.vintage_to}"
    if authorization.valid_until is not None:
        text += f"; valid until {authorization.valid_until.strftime('%d/%m/%Y')}"
    return text


def _authorization_row(
    authorization: Authorization, state: InMemoryProjection
) -> aef.AuthorizationRow:
    a = authorization
    entity_ids = []
    for entity_id in a.authorized_entities:
        entity = state.get_entity(entity_id)
        entity_ids.append(entity_id if entity is None else entity.identification)
    return aef.AuthorizationRow(
        authorization_id=a.authorization_id,
        date_of_authorization=a.authorized_on,
        cooperative_approach_id=a.ca_id,
        authorization_version=a.version,
        authorized_quantity=a.quantity,
        metric=aef.Metric(a.metric.value),
        gwp_values=a.gwp or None,
        non_ghg_metric=a.non_ghg_metric,
        sectors=tuple(_listed(aef.Sector, s) for s in a.sectors),
        activity_types=tuple(_listed(aef.ActivityType, t) for t in a.activity_types),
        purposes=aef.Purpose(a.purposes.value),
        authorized_party_ids=a.authorized_parties,
        authorized_entity_ids=tuple(entity_ids),
        oimp_authorized=a.oimp_authorized,
        authorized_timeframe=_timeframe(a),
        terms_and_conditions=a.terms,
        first_transfer_definition=(
            None
            if a.first_transfer_definition is None
            else aef.FirstTransferDefinition(a.first_transfer_definition.value)
        ),
        additional_information=a.explanatory,
    )


def _holdings(state: InMemoryProjection, party: str) -> tuple[aef.HoldingRow, ...]:
    """ITMOs (first transferred units) held, not retired, in the holding accounts of the Party's
    registries hosted here."""
    registries = {r.registry_id for r in state.registries() if r.party == party and r.hosted}
    accounts = {
        a.account_id
        for a in state.accounts()
        if a.registry_id in registries and a.account_type is AccountType.HOLDING
    }
    held = [
        b
        for b in state.active_blocks()
        if b.account_id in accounts and not b.retired and b.first_transferred
    ]
    held.sort(key=lambda b: (block_key(b), b.first))
    return tuple(_holding_row(b) for b in held)


def _year_end_state(uow: UnitOfWork, scan: _Scan) -> InMemoryProjection:
    """The projection after the last entry dated on or before 31 December of the reported year."""
    if scan.year_end_size == scan.end:
        return scan.state
    year_end = _Scan(scan.party, None)
    _replay(uow, scan.year_end_size, year_end)
    return year_end.state


def _report(uow: UnitOfWork, scan: _Scan, version: str, submitted_on: date) -> aef.AefReport:
    assert scan.reported_year is not None
    party = scan.party
    declared = scan.state.get_party(party)
    assert declared is not None
    ndc = _declared_ndc(declared)
    holdings = _holdings(_year_end_state(uow, scan), party)
    cited = {row.authorization_id for row in scan.actions}
    cited |= {row.authorization_id for row in holdings}
    authorizations = [
        a for a in scan.state.authorizations() if a.party == party or a.authorization_id in cited
    ]
    entity_ids = {e for a in authorizations if a.party == party for e in a.authorized_entities}
    entity_ids |= scan.used_entities
    entities = [e for e in scan.state.entities() if e.entity_id in entity_ids]
    return aef.AefReport(
        submission=aef.SubmissionRow(
            party=party,
            version=version,
            reported_year=scan.reported_year,
            date_of_submission=submitted_on,
            ndc_first_year=ndc.period_start,
            ndc_last_year=ndc.period_end,
        ),
        authorizations=tuple(_authorization_row(a, scan.state) for a in authorizations),
        actions=tuple(scan.actions),
        holdings=holdings,
        entities=tuple(
            aef.AuthorizedEntityRow(
                date_of_authorization=e.authorized_on,
                name=e.name,
                country_of_incorporation=e.country,
                identification_number=e.identification,
                cooperative_approach_id=e.ca_id,
                conditions=e.conditions,
                change_and_revocation_conditions=e.change_conditions,
                additional_information=e.explanatory,
            )
            for e in entities
        ),
    )


def aef_report_for(
    uow: UnitOfWork, party: str, reported_year: int, version: str | None = None
) -> aef.AefReport:
    """The Party's AEF (4/CMA.6 annex II) for ``reported_year``.

    - Table 1: the submission row; the CARP-populated fields are empty.
    - Table 2: every version of the Party's authorizations, and of the other Parties'
      authorizations its Table 3 and 4 rows cite.
    - Table 3: one row per block and action of the Party's registries dated in the reported year
      (UTC): authorization of units, first transfer, international transfer (or transfer to the
      Adaptation Fund), acquisition, use towards the NDC or OIMP, cancellation. Each row's
      additional information names its ledger entry.
    - Table 4: the ITMOs held at 31 December of the reported year (replay up to the last entry
      dated on or before it).
    - Table 5: the entities the Party's authorizations name, and those its actions name.

    If ``version`` was submitted (:func:`record_submission`), the report is rebuilt exactly as
    submitted, from the tree size and date recorded then. Otherwise it is a draft of the whole
    ledger dated today; ``version`` defaults to the next version.
    """
    _check_year("reported_year", reported_year)
    scan = _scan(uow, party, uow.log.size(), reported_year)
    recorded = scan.submissions_of(reported_year)
    for submission in recorded:
        if submission.version == version:
            submitted = _scan(uow, party, submission.tree_size, reported_year)
            return _report(uow, submitted, submission.version, submission.date_of_submission)
    draft = f"1.{len(recorded)}" if version is None else version
    return _report(uow, scan, draft, uow.now().date())


def verify_submission(uow: UnitOfWork, submission: Submission) -> bool:
    """Rebuild a submitted AEF from the ledger and check it against the recorded digest."""
    scan = _scan(uow, submission.party, submission.tree_size, submission.reported_year)
    report = _report(uow, scan, submission.version, submission.date_of_submission)
    return _report_digest(report) == submission.report_sha256
