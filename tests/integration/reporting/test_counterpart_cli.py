"""``a6ledger consistency-check`` with the counterpart's AEF from a file or from another
a6ledger (fetched over HTTP; here through an in-process transport)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from app.cli import main
from app.settings import get_settings
from ledger.accounting import aef, reporting
from ledger.adapters import aef_files
from ledger.adapters.counterpart import CounterpartUnavailable, fetch_counterpart_aef
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo

YEAR = 2025


def clock() -> datetime:
    return datetime(2025, 11, 11, tzinfo=UTC)


@pytest.fixture
def demo(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with SqlAlchemyUnitOfWork(engine, write=True, clock=clock) as uow:
        load_demo(uow)
        uow.commit()
    monkeypatch.setenv("A6LEDGER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()


def japan_json(engine: Engine) -> bytes:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        report = reporting.aef_report_for(uow, "JPN", YEAR)
    return aef_files.export_aef(report, aef_files.AefFormat.JSON)


def test_fetches_the_counterpart_from_another_a6ledger(demo: Engine) -> None:
    served = japan_json(demo)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer secret"
        assert request.url.path == f"/v1/parties/JPN/aef/{YEAR}"
        return httpx.Response(200, content=served, headers={"content-type": "application/json"})

    report = fetch_counterpart_aef(
        f"https://jpn.example/v1/parties/JPN/aef/{YEAR}",
        "secret",
        transport=httpx.MockTransport(handler),
    )
    assert report.submission.party == "JPN"
    assert aef.to_json(report) == json.loads(served)


def test_an_unavailable_counterpart_is_a_clear_error() -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(401, text="no token"))
    with pytest.raises(CounterpartUnavailable, match="401"):
        fetch_counterpart_aef("https://jpn.example/aef", transport=transport)


def test_cli_checks_against_a_counterpart_file(
    demo: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    counterpart = tmp_path / "jpn.json"
    counterpart.write_bytes(japan_json(demo))
    code = main(
        [
            "consistency-check",
            "--party",
            "THA",
            "--year",
            str(YEAR),
            "--counterpart-file",
            str(counterpart),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Checked, no inconsistencies identified" in out

    tampered = json.loads(counterpart.read_text())
    for row in tampered["Table 3: Actions"]:
        if row["Action type"] == "Acquisition":
            row["Quantity (t CO2 eq)"] = 1000
            row["Last ID"] = 1000
    counterpart.write_text(json.dumps(tampered))
    code = main(
        [
            "consistency-check",
            "--party",
            "THA",
            "--year",
            str(YEAR),
            "--counterpart-file",
            str(counterpart),
            "--record",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1, out
    assert "Checked, inconsistencies identified" in out
    assert "recorded as ledger entry" in out
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        assert any(b.inconsistent for b in uow.projection.active_blocks())


@pytest.mark.usefixtures("demo")
def test_cli_without_a_counterpart_reports_null(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["consistency-check", "--party", "THA", "--year", str(YEAR)])
    out = capsys.readouterr().out
    assert code == 2, out
    assert "Null, information for check not available" in out
