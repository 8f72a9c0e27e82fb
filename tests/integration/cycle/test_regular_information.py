"""The pre-check of a year with a submitted AEF against the regular information (2/CMA.3 annex
para 23(c)-(f), rule ``aef-regular-information``), on SQLite and PostgreSQL: a clean year gives
no finding; actions dated in the submitted year and recorded after the submission (``restates``)
give one finding per 23(c)/(d)/(e)/(f) figure they change, with both values and the submitted
rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from ledger.accounting import reporting
from ledger.accounting.adjustments import DEFAULT_POLICY, FirstTransferYear
from ledger.accounting.aef import AefTable
from ledger.accounting.consistency import Finding, Notation, RowRef
from ledger.accounting.cycle import pre_check
from ledger.accounting.cycle.regular_information import RULE, Basis, compare
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo, mongolian_corsia_authorization, solar
from ledger.registry import services
from ledger.registry.dating import Dating
from ledger.registry.model import UnitSelection

DEMO_DAY = datetime(2025, 11, 11, 3, 0, tzinfo=UTC)
SUBMITTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
RESTATING = Dating(action_date=date(2025, 12, 1), restates=True)


@contextmanager
def writing(engine: Engine, at: datetime) -> Iterator[SqlAlchemyUnitOfWork]:
    with SqlAlchemyUnitOfWork(engine, write=True, clock=lambda: at) as uow:
        yield uow
        uow.commit()


@contextmanager
def reading(engine: Engine, at: datetime) -> Iterator[SqlAlchemyUnitOfWork]:
    with SqlAlchemyUnitOfWork(engine, write=False, clock=lambda: at) as uow:
        yield uow


@pytest.fixture
def submitted(engine: Engine) -> Engine:
    """The demo year 2025, with the AEFs of Thailand and Japan submitted (version 1.0)."""
    with writing(engine, DEMO_DAY) as uow:
        load_demo(uow)
    with writing(engine, SUBMITTED) as uow:
        reporting.record_submission(uow, "THA", 2025, "registry:THA")
        reporting.record_submission(uow, "JPN", 2025, "registry:JPN")
    return engine


def regular_information(engine: Engine, party: str) -> list[Finding]:
    with reading(engine, LATER) as uow:
        check = pre_check(uow, party, 2025)
    return [f for f in check.findings if f.rule == RULE]


def test_a_year_whose_submitted_aef_equals_the_ledger_gives_no_finding(
    submitted: Engine,
) -> None:
    assert regular_information(submitted, "THA") == []
    assert regular_information(submitted, "JPN") == []


def test_actions_restating_a_submitted_year_give_a_finding_per_figure(
    submitted: Engine,
) -> None:
    with writing(submitted, LATER) as uow:
        services.issue(
            uow,
            services.Issuance(
                registry_id="THA01",
                attributes=solar("THA01", "THA", "CA0001", 2021),
                shares=(
                    services.IssuanceShare(
                        "THA01-GOV", 100, "THA-JCM-2025-001", underlying_first=3_000
                    ),
                ),
            ),
            "registry:THA01",
            dating=RESTATING,
        )
        services.transfer(
            uow,
            services.TransferOrder("THA01-GOV", "JPN01-GOV", UnitSelection(quantity=100)),
            "registry:THA01",
            dating=RESTATING,
        )
        services.use_for_ndc(
            uow,
            services.UseOrder("JPN01-GOV", "JPN01-NDC", UnitSelection(quantity=50), use_year=2025),
            "registry:JPN01",
            dating=RESTATING,
        )
    thailand = regular_information(submitted, "THA")
    japan = regular_information(submitted, "JPN")
    with reading(submitted, LATER) as uow:
        summary = reporting.structured_summary_for(uow, "THA")
        as_submitted = reporting.aef_report_for(uow, "THA", 2025, "1.0")
        now = reporting.aef_report_for(uow, "THA", 2025)
    by_first_transfer = Basis(
        replace(DEFAULT_POLICY, first_transfer_year=FirstTransferYear.YEAR_OF_FIRST_TRANSFER),
        (2021, 2030),
    )
    assert [f.reason.split(":")[0] for f in compare(as_submitted, now, by_first_transfer)] == [
        "THA 23(c), year 2025",  # booked to the year of the first transfer
        "THA 23(f), year 2021",  # 23(f) stays booked to the vintage (para 8(a))
        "THA 23(j) 23(c) CA0001, year 2025",
        "THA 23(j) 23(c) CA0001 vintage 2021, year 2025",
    ]
    first_transfer_rows = [
        n for n, row in enumerate(as_submitted.actions, start=1) if row.acquiring_party_id == "JPN"
    ]
    assert first_transfer_rows
    ledger_23c = next(c for c in summary.row("23(c)").cells if c.year == 2021).value
    assert ledger_23c is not None
    assert ledger_23c.value == 1_109
    assert [(f.reason.split(":")[0], f.rule) for f in thailand] == [
        ("THA 23(c), year 2021", RULE),
        ("THA 23(f), year 2021", RULE),
        ("THA 23(j) 23(c) CA0001, year 2021", RULE),
        ("THA 23(j) 23(c) CA0001 vintage 2021, year 2021", RULE),
    ]
    for finding in thailand:
        assert "the submitted AEF for 2025 (version 1.0) gives 1009" in finding.reason
        assert "the regular information from the ledger gives 1109" in finding.reason
        assert finding.rows == tuple(
            RowRef("THA", AefTable.ACTIONS, n) for n in first_transfer_rows
        )
        assert finding.parties == ("THA",)
    assert [f.reason.split(":")[0] for f in japan] == [
        "JPN 23(e), year 2025",
        "JPN 23(f), year 2025",
        "JPN 23(j) 23(e) CA0001, year 2025",
        "JPN 23(j) 23(e) CA0001 vintage 2021, year 2025",
    ]
    assert "gives 600 " in japan[0].reason
    assert "gives 650 " in japan[0].reason
    assert "gives -600 " in japan[1].reason
    assert "gives -650 " in japan[1].reason
    with reading(submitted, LATER) as uow:
        assert pre_check(uow, "JPN", 2025).notation is Notation.INCONSISTENCIES


def test_units_authorized_for_oimp_after_the_submission_give_a_23d_finding(
    submitted: Engine,
) -> None:
    """Mongolia's CORSIA authorization (demo): 3,000 units authorized for OIMP in 2025, the
    AEF submitted, then 500 more authorized under a second OIMP authorization, restating 2025."""
    with writing(submitted, SUBMITTED) as uow:
        reporting.record_submission(uow, "MNG", 2025, "registry:MNG")
    assert regular_information(submitted, "MNG") == []
    with writing(submitted, LATER) as uow:
        services.record_authorization(
            uow,
            replace(
                mongolian_corsia_authorization(),
                authorization_id="MNG-CORSIA-2026-02",
                authorized_on=date(2025, 11, 20),
                quantity=500,
            ),
            "registry:MNG01",
            dating=Dating(restates=True),
        )
        services.authorize_units(
            uow,
            "MNG-CORSIA-2026-02",
            "MNG01-GOV",
            UnitSelection(quantity=500),
            "registry:MNG01",
            dating=RESTATING,
        )
    findings = {f.reason.split(":")[0]: f for f in regular_information(submitted, "MNG")}
    assert {
        "MNG 23(d), year 2025",
        "MNG 23(j) 23(d) CA0002, year 2025",
        "MNG 23(j) 23(d) CA0002 vintage 2023, year 2025",
    } <= set(findings)
    d = findings["MNG 23(d), year 2025"]
    assert "the submitted AEF for 2025 (version 1.0) gives 3000" in d.reason
    assert "the regular information from the ledger gives 3500" in d.reason
    assert d.rule == RULE
    assert d.rows
    assert all(r.table is AefTable.ACTIONS for r in d.rows)
    assert all(r.row > 0 for r in d.rows)
