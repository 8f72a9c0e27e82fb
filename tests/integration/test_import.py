"""Historical import on both databases: the JCM 2025 example file gives the AEF 2025 tables of
Japan, Thailand and the Maldives with their own dates; an import interrupted and resumed gives the
same ledger as one run; a dry run appends nothing and names every refused row; a Party's AEF
Table 3 imported gives back its tables; ``a6ledger import`` on the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app.cli import main
from app.imports import plan_file
from app.settings import database_in_use, get_settings
from ledger.accounting import aef, reporting
from ledger.adapters import aef_files
from ledger.adapters.import_files import ImportFormat
from ledger.adapters.sql.uow import SqlStorage
from ledger.imports import (
    IMPORT_BATCH,
    ImportFileUnreadable,
    ImportPlan,
    ImportRowRefused,
    run_import,
)
from ledger.log.chain import Entry
from tests.conftest import DatabaseFactory
from tests.integration.import_lines import BAD_LINES, BAD_ROWS, EVERY_ACTION
from tests.unit.adapters.test_import_files import NO_KNOWN_COLUMN, table3_sheet_without_headers

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jcm-2025.jsonl"
ACTOR = "test:import"


def plan_of(data: bytes, fmt: ImportFormat = ImportFormat.JSONL, **kw: Any) -> ImportPlan:
    return plan_file(data, fmt, end_of_period_btr_after=2, **kw)


def example() -> bytes:
    return EXAMPLE.read_bytes()


def lines(*bodies: dict[str, Any] | str) -> bytes:
    return b"".join((b if isinstance(b, str) else json.dumps(b)).encode() + b"\n" for b in bodies)


@pytest.fixture
def storage(engine: Engine) -> SqlStorage:
    return SqlStorage(engine)


@pytest.fixture
def other_storage(database_factory: DatabaseFactory) -> Iterator[SqlStorage]:
    """A second ledger, in a database of its own."""
    url = database_factory.create()
    other = SqlStorage.open(url)
    yield other
    other.dispose()
    database_factory.drop(url)


def aef_of(storage: SqlStorage, party: str, year: int) -> aef.AefReport:
    with storage.unit_of_work(write=False) as uow:
        return reporting.aef_report_for(uow, party, year)


def dated_actions(report: aef.AefReport) -> list[tuple[Any, ...]]:
    return [
        (
            a.action_date,
            a.action_type.value,
            a.registry_id,
            a.quantity,
            a.acquiring_party_id or a.transferring_party_id,
            a.ndc_use_year,
        )
        for a in report.actions
    ]


def entries(storage: SqlStorage) -> list[Entry]:
    with storage.unit_of_work(write=False) as uow:
        return [Entry.from_canonical(b) for b in uow.log.read_entries(0, uow.log.size())]


def tree_size(storage: SqlStorage) -> int:
    with storage.unit_of_work(write=False) as uow:
        return uow.log.size()


def tables(storage: SqlStorage, *, entry_notes: bool = True) -> dict[str, Any]:
    """The AEF 2025 and 2026 of the three Parties as JSON; without ``entry_notes`` the
    additional information (which names each ledger's own entries) is left out."""
    found: dict[str, Any] = {}
    for party in ("JPN", "THA", "MDV"):
        for year in (2025, 2026):
            rendered = aef.to_json(aef_of(storage, party, year))
            if not entry_notes:
                for rows in rendered.values():
                    for row in rows:
                        row.pop("Additional explanatory information", None)
            found[f"{party} {year}"] = rendered
    return found


def test_the_jcm_2025_file_gives_the_aef_2025_tables_of_japan_thailand_and_the_maldives(
    storage: SqlStorage,
) -> None:
    report = run_import(storage, plan_of(example()), ACTOR)
    assert report.complete
    assert report.applied == 19

    assert dated_actions(aef_of(storage, "THA", 2025)) == [
        (date(2025, 10, 30), "Authorization", "THA01", 1009, None, None),
        (date(2025, 11, 11), "First transfer", "THA01", 1009, "JPN", None),
    ]
    assert dated_actions(aef_of(storage, "MDV", 2025)) == [
        (date(2025, 12, 16), "Authorization", "MDV01", 433, None, None),
        (date(2025, 12, 16), "First transfer", "MDV01", 433, "JPN", None),
    ]
    japan = aef_of(storage, "JPN", 2025)
    assert dated_actions(japan) == [
        (date(2025, 11, 11), "Acquisition", "THA01", 1009, "THA", None),
        (date(2025, 12, 16), "Acquisition", "MDV01", 433, "MDV", None),
        (date(2025, 12, 26), "Use", "THA01", 1009, None, 2025),
    ]
    assert [(h.registry_id, h.quantity) for h in japan.holdings] == [("MDV01", 433)]
    for party in ("JPN", "THA", "MDV"):
        assert aef_of(storage, party, 2026).actions == ()


class Crash(Exception):
    """The import process dies before a batch commits."""


class CrashingUnitOfWork:
    """A unit of work whose commit never happens: the process died first."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __enter__(self) -> CrashingUnitOfWork:
        self.inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.inner.__exit__(*exc)

    def commit(self) -> None:
        raise Crash


class CrashingStorage:
    """The storage, except that write unit of work number ``crash_at`` crashes."""

    def __init__(self, storage: SqlStorage, crash_at: int) -> None:
        self.storage = storage
        self.crash_at = crash_at
        self.writes = 0

    def unit_of_work(self, *, write: bool) -> Any:
        uow = self.storage.unit_of_work(write=write)
        if write:
            self.writes += 1
            if self.writes == self.crash_at:
                return CrashingUnitOfWork(uow)
        return uow


@pytest.mark.parametrize("batches_before_crash", [1, 3])
def test_an_import_interrupted_and_resumed_gives_the_ledger_of_one_run(
    storage: SqlStorage, other_storage: SqlStorage, batches_before_crash: int
) -> None:
    plan = plan_of(example())
    run_import(other_storage, plan, ACTOR, batch_size=4)

    crashing = CrashingStorage(storage, crash_at=batches_before_crash + 1)
    with pytest.raises(Crash):
        run_import(crashing, plan, ACTOR, batch_size=4)
    committed = [e for e in entries(storage) if e.kind == IMPORT_BATCH]
    assert [e.payload["last_row"] for e in committed] == [
        4 * (n + 1) for n in range(batches_before_crash)
    ]
    resumed = run_import(storage, plan, ACTOR, batch_size=4)
    assert resumed.already_imported == 4 * batches_before_crash
    assert resumed.complete

    assert [(e.kind, e.payload) for e in entries(storage)] == [
        (e.kind, e.payload) for e in entries(other_storage)
    ]
    assert tables(storage) == tables(other_storage)


def test_the_same_file_again_imports_nothing(storage: SqlStorage) -> None:
    run_import(storage, plan_of(example()), ACTOR, batch_size=7)
    size = tree_size(storage)
    again = run_import(storage, plan_of(example()), ACTOR, batch_size=5)
    assert (again.already_imported, again.applied, again.batches) == (19, 0, ())
    assert tree_size(storage) == size


def test_a_dry_run_appends_nothing_and_names_every_refused_row(storage: SqlStorage) -> None:
    plan = plan_of(example() + lines(*BAD_LINES))
    report = run_import(storage, plan, ACTOR, dry_run=True, batch_size=3)
    assert [(r.row, r.action, r.rule) for r in report.refusals] == BAD_ROWS
    assert report.applied == 19 + 1
    assert tree_size(storage) == 0
    refusal = report.refusals[0]
    assert refusal.problem_type == "insufficient-holdings"
    assert refusal.details == {"available": 0, "requested": 1}
    schema = report.refusals[4]
    assert schema.details["errors"][0]["location"] == ["body", "to_account"]


def test_an_import_stops_at_a_refused_row_and_keeps_the_batches_before_it(
    storage: SqlStorage,
) -> None:
    plan = plan_of(example() + lines(*BAD_LINES[:3]))
    with pytest.raises(ImportRowRefused) as raised:
        run_import(storage, plan, ACTOR, batch_size=5)
    refused = raised.value
    assert (refused.refusal.row, refused.refusal.rule) == (20, "holdings-non-negative")
    assert refused.imported_rows == 15
    batches = [e.payload for e in entries(storage) if e.kind == IMPORT_BATCH]
    assert [b["last_row"] for b in batches] == [5, 10, 15]
    assert tree_size(storage) == entries(storage)[-1].seq + 1


def test_unreadable_lines_refuse_the_whole_file(storage: SqlStorage) -> None:
    with pytest.raises(ImportFileUnreadable) as raised:
        run_import(storage, plan_of(example() + lines(*BAD_LINES)), ACTOR)
    assert [(r.row, r.rule) for r in raised.value.refusals] == [
        (24, "request-body-parsable"),
        (25, "request-schema"),
        (26, "invalid-input"),
        (27, "invalid-input"),
    ]
    assert tree_size(storage) == 0


def example_without(*actions: str) -> bytes:
    kept = [line for line in example().splitlines() if json.loads(line)["action"] not in actions]
    return b"\n".join(kept) + b"\n"


def test_aef_table_3_files_of_the_parties_give_back_their_tables(
    storage: SqlStorage, other_storage: SqlStorage
) -> None:
    """Reference data, authorizations and issuances from JSON Lines; the first transfers and
    the use from Thailand's workbook, the Maldives' CSV ZIP and Japan's Table 3 CSV."""
    run_import(storage, plan_of(example()), ACTOR)
    thai = aef_files.export_aef(aef_of(storage, "THA", 2025), aef_files.AefFormat.XLSX)
    maldivian = aef_files.export_aef(aef_of(storage, "MDV", 2025), aef_files.AefFormat.CSV)
    japanese = aef.to_csv(aef_of(storage, "JPN", 2025), aef.AefTable.ACTIONS).encode()

    run_import(other_storage, plan_of(example_without("transfer", "use")), ACTOR)
    early = run_import(
        other_storage,
        plan_of(japanese, ImportFormat.AEF_TABLE3_CSV, party="JPN"),
        ACTOR,
        dry_run=True,
    )
    assert [(r.row, r.rule) for r in early.refusals] == [
        (1, "acquisition-recorded-by-transfer"),
        (2, "acquisition-recorded-by-transfer"),
        (3, "serial-held-by-account"),
    ]
    for data, fmt, party in (
        (thai, ImportFormat.AEF_XLSX, None),
        (maldivian, ImportFormat.AEF_CSV_ZIP, None),
        (japanese, ImportFormat.AEF_TABLE3_CSV, "JPN"),
    ):
        report = run_import(other_storage, plan_of(data, fmt, party=party), ACTOR)
        assert report.complete

    assert tables(other_storage, entry_notes=False) == tables(storage, entry_notes=False)


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("A6LEDGER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_the_command_line_imports_with_progress_lines_and_continues(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(EXAMPLE), "--batch-size", "8"]) == 0
    out, err = capsys.readouterr()
    assert "imported 19 rows in 3 batches" in out
    assert err.splitlines() == [
        f"a6ledger: database {database_in_use(cli_database)}",
        "import: 8/19 rows imported (rows 1-8 committed, entry 8)",
        "import: 16/19 rows imported (rows 9-16 committed, entry 18)",
        "import: 19/19 rows imported (rows 17-19 committed, entry 23)",
    ]
    assert main(["import", str(EXAMPLE)]) == 0
    out, _ = capsys.readouterr()
    assert "imported 0 rows in 0 batches" in out
    assert "19 rows were imported before" in out


def test_the_command_line_dry_run_names_refused_lines(
    cli_database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "history.jsonl"
    path.write_bytes(example() + lines(*BAD_LINES[:3]))
    assert main(["import", str(path), "--dry-run"]) == 1
    out, err = capsys.readouterr()
    assert "line 20 (transfer): holdings-non-negative:" in out
    assert "line 22 (use): holdings-non-negative:" in out
    assert (
        err == f"a6ledger: database {database_in_use(cli_database)}\nimport: 22/22 rows checked\n"
    )
    assert main(["import", str(tmp_path / "missing.jsonl")]) == 2
    assert main(["import", str(tmp_path / "history.txt")]) == 2


def test_a_table_3_row_whose_account_is_not_the_only_one_is_refused(
    storage: SqlStorage, other_storage: SqlStorage
) -> None:
    run_import(storage, plan_of(example()), ACTOR)
    thai = aef.to_csv(aef_of(storage, "THA", 2025), aef.AefTable.ACTIONS).encode()
    second_account = {
        "action": "account",
        "body": {
            "account_id": "JPN01-TRADE",
            "registry_id": "JPN01",
            "account_type": "holding",
            "name": "A second holding account",
        },
    }
    run_import(
        other_storage, plan_of(example_without("transfer", "use") + lines(second_account)), ACTOR
    )
    report = run_import(
        other_storage,
        plan_of(thai, ImportFormat.AEF_TABLE3_CSV, party="THA"),
        ACTOR,
        dry_run=True,
    )
    assert [(r.row, r.action, r.rule) for r in report.refusals] == [
        (2, "Table 3 First transfer", "aef-table3-account")
    ]
    assert report.refusals[0].details["accounts"] == ["JPN01-GOV", "JPN01-TRADE"]


def test_every_action_a_line_may_name_runs_its_use_case(storage: SqlStorage) -> None:
    report = run_import(storage, plan_of(example() + lines(*EVERY_ACTION)), ACTOR)
    assert report.complete
    kinds = {e.kind for e in entries(storage)}
    assert kinds >= {
        "ndc.declared",
        "ndc.amended",
        "adjustment_policy.chosen",
        "emissions.recorded",
        "ndc.target_recorded",
        "authorized_entity.recorded",
        "units.authorized",
        "itmo.oimp_use",
        "itmo.cancellation",
        "itmo.acquisition",
    }
    thai = dated_actions(aef_of(storage, "THA", 2025))
    assert (date(2025, 11, 25), "Use", "THA01", 20, None, None) in thai


@pytest.mark.parametrize("name", ["table3.csv", "aef.xlsx"])
def test_the_command_line_refuses_a_table_3_whose_header_names_no_column(
    cli_database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(NO_KNOWN_COLUMN if name.endswith(".csv") else table3_sheet_without_headers())
    for dry_run in ([], ["--dry-run"]):
        assert main(["import", str(path), "--party", "THA", *dry_run]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        (line,) = [line for line in err.splitlines() if line.startswith("error:")]
        assert line.startswith("error: AEF report has 1 problem(s): Table 3")
        assert "no header" in line
    storage = SqlStorage.open(cli_database)
    try:
        assert tree_size(storage) == 0
    finally:
        storage.dispose()
