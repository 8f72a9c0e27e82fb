"""Article 6.2 initial reports and their updates, per Party and cooperative approach, as
versioned ledger records (2/CMA.3 annex paras 18-19; 4/CMA.6 paras 26-27).

An initial report is a requirement for submitting annual information (the AEF) on ITMOs from
that cooperative approach, and is submitted before or with it (4/CMA.6 paras 26-27):
:func:`missing_initial_reports` names the approaches an AEF reports on for which the Party has
none, and the pre-check (:mod:`~ledger.accounting.cycle.precheck`) says so.

Each ``initial_report.recorded`` entry holds the elements of para 18 the Party writes (what it
demonstrates, quantifies and describes) and a snapshot of what the ledger already knows and the
report must state: the Party's NDC declaration in force (para 18(c)-(e): metric, period,
method), its authorizations for the approach (18(g), the versions in force) and its
first-transfer definition (2/CMA.3 annex para 2(b); 4/CMA.6 para 5). Version 1 is the initial
report; each later one an updated initial report (para 19), which replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.accounting.cycle.entries import entries_of, entry_at
from ledger.errors import InvalidInput, NotFound
from ledger.log.canonical import JsonValue
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry import services
from ledger.registry.codec import to_json

INITIAL_REPORT_RECORDED = "initial_report.recorded"


class InitialReportNotFound(NotFound):
    """The Party recorded no initial report (or no such version) for the cooperative
    approach."""

    problem_type = "initial-report-not-found"
    title = "The Party recorded no initial report (or no such version) for the approach"
    rule = "initial-report-exists"


@dataclass(frozen=True, slots=True)
class Element:
    """One element of the initial report: its key, the paragraph of 2/CMA.3 annex that asks for
    it, its heading, and whether every Party must give it."""

    key: str
    paragraph: str
    heading: str
    required: bool = True


ELEMENTS: tuple[Element, ...] = (
    Element(
        "participation",
        "18(a)",
        "How the Party fulfils the participation responsibilities (chapter II)",
    ),
    Element(
        "transparency_information",
        "18(b)",
        "Information of decision 18/CMA.1 annex para 64, where no BTR was submitted yet",
        required=False,
    ),
    Element(
        "metrics_and_method",
        "18(c)",
        "ITMO metrics and the method for applying corresponding adjustments (and, for a "
        "trajectory or budget, its description)",
    ),
    Element(
        "ndc_quantification",
        "18(d)",
        "The NDC's mitigation information in t CO2 eq: sectors, sources, gases, time periods, "
        "reference level and target level (or the method of quantification)",
    ),
    Element(
        "non_ghg_quantification",
        "18(e)",
        "The NDC, or its portion in the non-GHG indicator, in the non-GHG metric",
        required=False,
    ),
    Element(
        "policies_and_measures",
        "18(f)",
        "Emission level of the policies and measures relevant to the approach (unquantified NDC)",
        required=False,
    ),
    Element(
        "approach_description",
        "18(g)",
        "Description of the cooperative approach, its participating Parties and authorized "
        "entities",
    ),
    Element(
        "environmental_integrity",
        "18(h)",
        "How the approach ensures environmental integrity (no net increase in global emissions, "
        "conservative baselines, non-permanence and reversals)",
    ),
    Element(
        "sustainable_development",
        "18(i)",
        "How the approach minimizes negative impacts, respects human rights, is consistent with "
        "sustainable development, applies safeguards, and contributes to adaptation and OMGE",
    ),
)
_BY_KEY = {element.key: element for element in ELEMENTS}


@dataclass(frozen=True, slots=True)
class InitialReportDraft:
    """What the Party writes: the texts of :data:`ELEMENTS` (by key), the approach's duration
    and its expected mitigation for each year of it (t CO2 eq or the non-GHG metric)."""

    party: str
    ca_id: str
    elements: Mapping[str, str]
    duration_from: int
    duration_to: int
    expected_mitigation: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InitialReport:
    """A recorded initial report (version 1) or update (2, 3, ...), with the ledger's snapshot
    (``recorded``: the NDC, the authorizations and the first-transfer definition)."""

    seq: int
    party: str
    ca_id: str
    version: int
    date_of_submission: date
    elements: Mapping[str, str]
    duration_from: int
    duration_to: int
    expected_mitigation: Mapping[int, int]
    recorded: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return "initial report" if self.version == 1 else "updated initial report"


def _checked(draft: InitialReportDraft) -> None:
    unknown = sorted(set(draft.elements) - set(_BY_KEY))
    if unknown:
        raise InvalidInput(f"unknown initial report elements {unknown}", field="elements")
    missing = [
        f"{e.paragraph} {e.key}"
        for e in ELEMENTS
        if e.required and not draft.elements.get(e.key, "").strip()
    ]
    if missing:
        raise InvalidInput(
            "the initial report lacks the elements 2/CMA.3 annex para 18 requires: "
            + ", ".join(missing),
            field="elements",
            missing=missing,
        )
    if not draft.duration_from <= draft.duration_to:
        raise InvalidInput("the approach's duration ends before it starts", field="duration")
    outside = sorted(
        y for y in draft.expected_mitigation if not draft.duration_from <= y <= draft.duration_to
    )
    if outside:
        raise InvalidInput(
            f"expected mitigation for years {outside} outside the approach's duration "
            f"{draft.duration_from}-{draft.duration_to}",
            field="expected_mitigation",
        )
    if any(value < 0 for value in draft.expected_mitigation.values()):
        raise InvalidInput("expected mitigation cannot be negative", field="expected_mitigation")


def _snapshot(uow: UnitOfWork, party: str, ca_id: str, today: date) -> dict[str, JsonValue]:
    declared = services.party_of(uow, party)
    latest: dict[str, Any] = {}
    for authorization in uow.projection.authorizations():
        if authorization.party != party or authorization.ca_id != ca_id:
            continue
        if authorization.authorized_on > today:
            continue
        known = latest.get(authorization.authorization_id)
        if known is None or known.version < authorization.version:
            latest[authorization.authorization_id] = authorization
    definition = uow.projection.get_first_transfer_definition(party, ca_id)
    return {
        "ndc_periods": [to_json(period.declaration) for period in declared.ndc_periods],
        "authorizations": [to_json(latest[key]) for key in sorted(latest)],
        "first_transfer_definition": None if definition is None else definition.value,
    }


def _read(entry: Entry) -> InitialReport:
    p: Mapping[str, Any] = entry.payload
    return InitialReport(
        seq=entry.seq,
        party=str(p["party"]),
        ca_id=str(p["ca_id"]),
        version=int(p["version"]),
        date_of_submission=date.fromisoformat(p["date_of_submission"]),
        elements={str(k): str(v) for k, v in p["elements"].items()},
        duration_from=int(p["duration"]["from"]),
        duration_to=int(p["duration"]["to"]),
        expected_mitigation={int(k): int(v) for k, v in p["expected_mitigation"].items()},
        recorded=p["recorded"],
    )


def initial_reports(uow: UnitOfWork, party: str, ca_id: str | None = None) -> list[InitialReport]:
    """The Party's initial reports and updates (for one approach, when given), oldest first."""
    services.party_of(uow, party)
    found = (_read(entry) for entry in entries_of(uow, {INITIAL_REPORT_RECORDED}))
    return [r for r in found if r.party == party and (ca_id is None or r.ca_id == ca_id)]


def initial_report(
    uow: UnitOfWork, party: str, ca_id: str, version: int | None = None
) -> InitialReport:
    """Version ``version`` (default: the latest) of the Party's initial report for ``ca_id``."""
    reports = initial_reports(uow, party, ca_id)
    chosen = reports if version is None else [r for r in reports if r.version == version]
    if not chosen:
        which = "an initial report" if version is None else f"version {version} of its report"
        raise InitialReportNotFound(
            f"{party} has not recorded {which} for {ca_id}", party=party, ca_id=ca_id
        )
    return chosen[-1]


def record_initial_report(uow: UnitOfWork, draft: InitialReportDraft, actor: str) -> InitialReport:
    """Record the Party's initial report for the approach (version 1), or an update of it (the
    next version). The Party must participate in the approach."""
    services.party_of(uow, draft.party)
    approach = services.approach_of(uow, draft.ca_id)
    if draft.party not in approach.parties:
        raise InvalidInput(
            f"{draft.party} does not participate in {draft.ca_id}", field="ca_id", ca_id=draft.ca_id
        )
    _checked(draft)
    today = uow.now().date()
    version = len(initial_reports(uow, draft.party, draft.ca_id)) + 1
    payload: dict[str, JsonValue] = {
        "party": draft.party,
        "ca_id": draft.ca_id,
        "version": version,
        "date_of_submission": today.isoformat(),
        "elements": {
            e.key: draft.elements[e.key].strip()
            for e in ELEMENTS
            if draft.elements.get(e.key, "").strip()
        },
        "duration": {"from": draft.duration_from, "to": draft.duration_to},
        "expected_mitigation": {
            str(year): draft.expected_mitigation[year] for year in sorted(draft.expected_mitigation)
        },
        "recorded": _snapshot(uow, draft.party, draft.ca_id, today),
    }
    appended = record_entry(uow, INITIAL_REPORT_RECORDED, payload, actor)
    return _read(entry_at(uow, appended.seq))


def missing_initial_reports(uow: UnitOfWork, party: str, ca_ids: set[str]) -> list[str]:
    """The approaches of ``ca_ids`` for which the Party recorded no initial report."""
    have = {r.ca_id for r in initial_reports(uow, party)}
    return sorted(ca_ids - have)


def to_document(report: InitialReport) -> dict[str, JsonValue]:
    """The JSON export: the report's identification, each element under its paragraph, the
    duration and expected mitigation, and the ledger's snapshot."""
    return {
        "party": report.party,
        "cooperative_approach_id": report.ca_id,
        "kind": report.kind,
        "version": report.version,
        "date_of_submission": report.date_of_submission.isoformat(),
        "ledger_seq": report.seq,
        "elements": [
            {
                "paragraph": f"2/CMA.3 annex para {e.paragraph}",
                "key": e.key,
                "heading": e.heading,
                "content": report.elements.get(e.key),
            }
            for e in ELEMENTS
        ],
        "duration": {"from": report.duration_from, "to": report.duration_to},
        "expected_mitigation": {str(y): v for y, v in sorted(report.expected_mitigation.items())},
        "recorded": dict(report.recorded),
    }
