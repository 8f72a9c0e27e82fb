"""AEF tables (4/CMA.6 annex II) built from the ledger, on SQLite and PostgreSQL.

The demo scenario runs with its clock fixed at 11 Nov 2025 03:00 UTC, so every action of it is
dated 11/11/2025 and falls in reported year 2025. Rows are checked column by column against
rows written out by hand from the scenario (ledger/demo.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from ledger.accounting import reporting
from ledger.accounting.aef import (
    ActionRow,
    ActionSubtype,
    ActionType,
    ActivityType,
    AefProblem,
    AefReport,
    AefTable,
    AefValidationError,
    AuthorizationRow,
    AuthorizedEntityRow,
    FirstTransferDefinition,
    HoldingRow,
    Metric,
    MitigationType,
    Purpose,
    Sector,
    SubmissionRow,
    UnderlyingRegistry,
    to_json,
    validate_report,
)
from ledger.adapters.aef_files import AefFormat, export_aef, import_aef
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo, thai_ndc_authorization
from ledger.log.canonical import canonical_bytes
from ledger.log.chain import Entry
from ledger.registry import services
from ledger.registry.dating import Dating
from ledger.registry.model import UnitSelection

DEMO_DAY = datetime(2025, 11, 11, 3, 0, tzinfo=UTC)
FEB_2026 = datetime(2026, 2, 1, 4, 0, tzinfo=UTC)
APR_10_2026 = datetime(2026, 4, 10, 1, 0, tzinfo=UTC)
APR_12_2026 = datetime(2026, 4, 12, 1, 0, tzinfo=UTC)
APR_14_2026 = datetime(2026, 4, 14, 1, 0, tzinfo=UTC)
ISSUED = date(2025, 11, 11)
SUBMITTED = APR_10_2026.date()


@contextmanager
def writing(engine: Engine, at: datetime) -> Iterator[SqlAlchemyUnitOfWork]:
    with SqlAlchemyUnitOfWork(engine, write=True, clock=lambda: at) as uow:
        yield uow
        uow.commit()


def reading(engine: Engine, at: datetime = APR_10_2026) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(engine, write=False, clock=lambda: at)


@pytest.fixture
def demo(engine: Engine) -> Engine:
    with writing(engine, DEMO_DAY) as uow:
        load_demo(uow)
    return engine


def seq_of(uow: SqlAlchemyUnitOfWork, kind: str, nth: int = 0) -> int:
    bodies = uow.log.read_entries(0, uow.log.size())
    return [e.seq for e in map(Entry.from_canonical, bodies) if e.kind == kind][nth]


def report_of(engine: Engine, party: str, year: int = 2025) -> AefReport:
    with reading(engine) as uow:
        return reporting.aef_report_for(uow, party, year)


# --------------------------------------------------------------------------------------------
# Hand-written rows of the demo scenario
# --------------------------------------------------------------------------------------------

THAI_AUTHORIZATION = AuthorizationRow(
    authorization_id="THA-JCM-2025-001",
    date_of_authorization=date(2025, 10, 30),
    cooperative_approach_id="CA0001",
    authorization_version=1,
    authorized_quantity=100_000,
    metric=Metric.GHG,
    gwp_values="AR5",
    non_ghg_metric=None,
    sectors=(Sector.ENERGY_GENERATION,),
    activity_types=(ActivityType.SOLAR,),
    purposes=Purpose.NDC,
    authorized_party_ids=("JPN",),
    authorized_entity_ids=(),
    oimp_authorized=None,
    authorized_timeframe="Vintages 2021-2030; valid until 31/12/2032",
    terms_and_conditions=None,
    documentation=None,
    first_transfer_definition=None,
    additional_information=None,
)


def thai_block(action_type: ActionType, first: int = 1, last: int = 1009, **rest: Any) -> ActionRow:
    """Japan's share: Thai serials 1-1009 of vintage 2021, JCM credits 1-1009."""
    row = ActionRow(
        action_date=ISSUED,
        action_type=action_type,
        action_subtype=None,
        cooperative_approach_id="CA0001",
        authorization_id="THA-JCM-2025-001",
        first_transferring_party_id="THA",
        registry_id="THA01",
        first_id=first,
        last_id=last,
        underlying_registry_id=UnderlyingRegistry.JCM,
        first_unit_id=first,
        last_unit_id=last,
        metric=Metric.GHG,
        gwp_values="AR5",
        non_ghg_metric=None,
        quantity=last - first + 1,
        quantity_non_ghg=None,
        mitigation_type=MitigationType.EMISSION_REDUCTIONS,
        vintage=2021,
    )
    return replace(row, **rest)


def mongolian_block(action_type: ActionType, first: int, last: int, **rest: Any) -> ActionRow:
    return replace(
        thai_block(action_type, first, last),
        cooperative_approach_id="CA0002",
        authorization_id="MNG-CORSIA-2026-01",
        first_transferring_party_id="MNG",
        registry_id="MNG01",
        vintage=2023,
        **rest,
    )


def holding(row: ActionRow) -> HoldingRow:
    return HoldingRow(
        cooperative_approach_id=row.cooperative_approach_id,
        authorization_id=row.authorization_id,
        first_transferring_party_id=row.first_transferring_party_id,
        registry_id=row.registry_id,
        first_id=row.first_id,
        last_id=row.last_id,
        underlying_registry_id=row.underlying_registry_id,
        first_unit_id=row.first_unit_id,
        last_unit_id=row.last_unit_id,
        metric=row.metric,
        gwp_values=row.gwp_values,
        quantity=row.quantity,
        mitigation_type=row.mitigation_type,
        vintage=row.vintage,
    )


def submission(party: str, version: str = "1.0", on: date = SUBMITTED) -> SubmissionRow:
    return SubmissionRow(
        party=party,
        version=version,
        reported_year=2025,
        date_of_submission=on,
        ndc_first_year=2021,
        ndc_last_year=2030,
    )


# --------------------------------------------------------------------------------------------
# Tables of the demo scenario
# --------------------------------------------------------------------------------------------


def test_thailand_2025_column_by_column(demo: Engine) -> None:
    with reading(demo) as uow:
        report = reporting.aef_report_for(uow, "THA", 2025)
        issued, first_transfer = seq_of(uow, "mo.issued"), seq_of(uow, "itmo.first_transfer")
    assert report.submission == submission("THA")
    assert report.submission.review_status is None
    assert report.submission.consistency_check_result is None
    assert report.submission.ter_report_reference is None
    assert report.authorizations == (THAI_AUTHORIZATION,)
    assert report.actions == (
        thai_block(
            ActionType.AUTHORIZATION,
            additional_information=f"Ledger entry {issued}; reference JC7 2025-10-30",
        ),
        thai_block(
            ActionType.FIRST_TRANSFER,
            action_subtype=ActionSubtype.FIRST_TRANSFER_TO_ANOTHER_PARTY,
            acquiring_party_id="JPN",
            additional_information=f"Ledger entry {first_transfer}",
        ),
    )
    assert report.holdings == ()  # the 1,008 t of the project participant are not authorized
    assert report.entities == ()
    validate_report(report)


def test_japan_2025_column_by_column(demo: Engine) -> None:
    with reading(demo) as uow:
        report = reporting.aef_report_for(uow, "JPN", 2025)
        acquired, used = seq_of(uow, "itmo.acquisition"), seq_of(uow, "itmo.use")
    assert report.submission == submission("JPN")
    # Japan's rows cite Thailand's authorization, so Table 2 lists it.
    assert report.authorizations == (THAI_AUTHORIZATION,)
    assert report.actions == (
        thai_block(
            ActionType.ACQUISITION,
            transferring_party_id="THA",
            additional_information=f"Ledger entry {acquired}",
        ),
        thai_block(
            ActionType.USE,
            last=600,
            ndc_use_year=2025,
            additional_information=f"Ledger entry {used}",
        ),
    )
    assert report.holdings == (holding(thai_block(ActionType.USE, first=601, last=1009)),)
    assert report.entities == ()
    validate_report(report)


def test_mongolia_2025_column_by_column(demo: Engine) -> None:
    with reading(demo) as uow:
        report = reporting.aef_report_for(uow, "MNG", 2025)
        seqs = [
            seq_of(uow, kind, nth)
            for kind, nth in (
                ("units.authorized", 0),
                ("itmo.first_transfer", 1),
                ("itmo.oimp_use", 0),
                ("itmo.cancellation", 0),
            )
        ]
    assert report.submission == submission("MNG")
    assert report.authorizations == (
        AuthorizationRow(
            authorization_id="MNG-CORSIA-2026-01",
            date_of_authorization=date(2025, 11, 10),
            cooperative_approach_id="CA0002",
            authorization_version=1,
            authorized_quantity=3_000,
            metric=Metric.GHG,
            gwp_values="AR5",
            sectors=(Sector.ENERGY_GENERATION,),
            activity_types=(ActivityType.SOLAR,),
            purposes=Purpose.OIMP,
            authorized_party_ids=(),
            authorized_entity_ids=("MN-1234567",),
            oimp_authorized="CORSIA",
            authorized_timeframe="Vintages 2021-2030",
            first_transfer_definition=FirstTransferDefinition.AUTHORIZATION,
        ),
    )
    notes = [f"Ledger entry {seq}" for seq in seqs]
    assert report.actions == (
        mongolian_block(ActionType.AUTHORIZATION, 1, 3000, additional_information=notes[0]),
        mongolian_block(
            ActionType.FIRST_TRANSFER,
            1,
            3000,
            action_subtype=ActionSubtype.AUTHORIZATION,
            oimp_purpose="CORSIA",
            additional_information=notes[1],
        ),
        mongolian_block(
            ActionType.USE,
            1,
            1200,
            oimp_purpose="CORSIA",
            using_party_id="MNG",
            using_entity_id="MN-1234567",
            additional_information=notes[2],
        ),
        mongolian_block(
            ActionType.CANCELLATION,
            1201,
            1300,
            action_subtype=ActionSubtype.VOLUNTARY_CANCELLATION_OMGE,
            using_party_id="MNG",
            additional_information=notes[3],
        ),
    )
    assert report.holdings == (holding(mongolian_block(ActionType.USE, 1301, 3000)),)
    assert report.entities == (
        AuthorizedEntityRow(
            date_of_authorization=date(2025, 11, 4),
            name="Ulaanbaatar Air Cargo LLC",
            country_of_incorporation="MNG",
            identification_number="MN-1234567",
            cooperative_approach_id="CA0002",
        ),
    )
    validate_report(report)


def use_100_more_in_2026(engine: Engine) -> None:
    with writing(engine, FEB_2026) as uow:
        services.use_for_ndc(
            uow,
            services.UseOrder("JPN01-GOV", "JPN01-NDC", UnitSelection(quantity=100), use_year=2026),
            "test:JPN01",
        )


def test_actions_and_holdings_follow_the_reported_year(demo: Engine) -> None:
    use_100_more_in_2026(demo)
    in_2025, in_2026 = report_of(demo, "JPN", 2025), report_of(demo, "JPN", 2026)
    # 2025: the February 2026 use is neither an action nor missing from the 31 Dec holdings.
    assert [a.action_type for a in in_2025.actions] == [ActionType.ACQUISITION, ActionType.USE]
    assert [(h.first_id, h.last_id) for h in in_2025.holdings] == [(601, 1009)]
    (use,) = in_2026.actions
    assert (use.action_date, use.first_id, use.last_id, use.ndc_use_year) == (
        FEB_2026.date(),
        601,
        700,
        2026,
    )
    assert [(h.first_id, h.last_id, h.quantity) for h in in_2026.holdings] == [(701, 1009, 309)]
    validate_report(in_2025)
    validate_report(in_2026)


# --------------------------------------------------------------------------------------------
# Export and import
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(AefFormat))
def test_export_then_import_gives_identical_rows(demo: Engine, fmt: AefFormat) -> None:
    use_100_more_in_2026(demo)
    reports = [report_of(demo, party) for party in ("THA", "JPN", "MNG")]
    reports.append(report_of(demo, "JPN", 2026))
    for report in reports:
        data = export_aef(report, fmt)
        assert export_aef(report, fmt) == data  # deterministic bytes
        assert import_aef(data, fmt) == report
    assert fmt.media_type


def test_json_export_has_integers_and_the_annex_headers(demo: Engine) -> None:
    data = export_aef(report_of(demo, "JPN"), AefFormat.JSON)
    tables = json.loads(data)
    assert list(tables) == [table.value for table in AefTable]
    (use,) = [r for r in tables["Table 3: Actions"] if r["Action type"] == "Use"]
    assert use["Quantity (t CO2 eq)"] == 600
    assert use["Calendar year for which the ITMOs are used towards the Party's NDC"] == 2025
    assert use["Acquiring participating Party ID"] is None
    assert use["Action date"] == "11/11/2025"


def incomplete_authorization(engine: Engine) -> None:
    """Thailand records an authorization without its sector(s), a required Table 2 value."""
    with writing(engine, DEMO_DAY) as uow:
        services.record_authorization(
            uow,
            replace(thai_ndc_authorization(), authorization_id="THA-JCM-2025-002", sectors=()),
            "test:THA01",
        )


MISSING_SECTOR = AefProblem(AefTable.AUTHORIZATIONS, 2, "Sector(s)", "required value is missing")


@pytest.mark.parametrize("fmt", list(AefFormat))
def test_incomplete_authorization_fails_export_naming_table_row_and_column(
    demo: Engine, fmt: AefFormat
) -> None:
    incomplete_authorization(demo)
    report = report_of(demo, "THA")
    assert [a.authorization_id for a in report.authorizations] == [
        "THA-JCM-2025-001",
        "THA-JCM-2025-002",
    ]
    with pytest.raises(AefValidationError) as raised:
        export_aef(report, fmt)
    assert raised.value.problems == (MISSING_SECTOR,)
    assert "Table 2: Authorizations, row 2, 'Sector(s)': required value is missing" in str(
        raised.value
    )


def test_incomplete_report_is_not_submitted(demo: Engine) -> None:
    incomplete_authorization(demo)
    with writing(demo, APR_10_2026) as uow:
        size = uow.log.size()
        with pytest.raises(AefValidationError) as raised:
            reporting.record_submission(uow, "THA", 2025, "test:THA")
        assert raised.value.problems == (MISSING_SECTOR,)
        assert uow.log.size() == size


# --------------------------------------------------------------------------------------------
# Submissions and versions
# --------------------------------------------------------------------------------------------


def test_submission_versions_1_0_then_1_1(demo: Engine) -> None:
    with writing(demo, APR_10_2026) as uow:
        assert reporting.record_submission(uow, "THA", 2025, "test:THA") == "1.0"
    with writing(demo, APR_12_2026) as uow:  # a new version of 2025, restating 2025
        services.record_authorization(
            uow,
            replace(thai_ndc_authorization(), quantity=200_000, authorized_on=date(2025, 12, 1)),
            "test:THA01",
            dating=Dating(restates=True),
        )
    with writing(demo, APR_14_2026) as uow:
        assert reporting.record_submission(uow, "THA", 2025, "test:THA") == "1.1"
    with reading(demo, APR_14_2026) as uow:
        first, second = reporting.submissions(uow, "THA")
        as_submitted = reporting.aef_report_for(uow, "THA", 2025, "1.0")
        resubmitted = reporting.aef_report_for(uow, "THA", 2025, "1.1")
        draft = reporting.aef_report_for(uow, "THA", 2025)
        body = uow.log.read_entries(first.seq, first.seq + 1)[0]
        assert reporting.verify_submission(uow, first)
        assert reporting.verify_submission(uow, second)
    assert (first.version, second.version) == ("1.0", "1.1")
    assert first.tree_size < second.tree_size
    assert as_submitted.submission == submission("THA", "1.0", APR_10_2026.date())
    assert resubmitted.submission == submission("THA", "1.1", APR_14_2026.date())
    assert [a.authorization_version for a in as_submitted.authorizations] == [1]
    versions = [
        (a.authorization_version, a.authorized_quantity) for a in resubmitted.authorizations
    ]
    assert versions == [(1, 100_000), (2, 200_000)]
    assert as_submitted.actions == resubmitted.actions
    assert draft.submission.version == "1.2"
    entry = Entry.from_canonical(body)
    assert entry.kind == "aef.submitted"
    assert entry.payload["tree_size"] == first.tree_size
    assert (
        entry.payload["report_sha256"]
        == hashlib.sha256(canonical_bytes(to_json(as_submitted))).hexdigest()
    )
