"""The bulk path of an import (the projection held in memory per batch, its rows sent with one
statement per table: ``ledger.adapters.sql.batch``) stores exactly what the row-by-row path
stores: on both databases, the same files imported by both paths into two fresh ledgers with the
same clock give the same rows, byte for byte, in every table (entries, Merkle nodes, entry index,
block events, projection rows with their digests and counts), and ``verify-db`` accepts both."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bench.imports import history
from ledger.adapters.import_files import ImportFormat
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.orm import metadata
from ledger.adapters.sql.uow import SqlStorage
from ledger.adapters.sql.verify import verify_database
from ledger.imports import run
from ledger.imports import run_import as run_import_of
from tests.conftest import DatabaseFactory
from tests.integration.import_lines import EVERY_ACTION
from tests.integration.test_import import (
    ACTOR,
    aef_of,
    example,
    example_without,
    lines,
    plan_of,
)
from tests.integration.test_import import other_storage as other_storage  # a fixture

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture
def ledgers(database_factory: DatabaseFactory) -> Iterator[tuple[SqlStorage, SqlStorage]]:
    """Two fresh ledgers with the same fixed clock: for the bulk path and the row path."""
    urls = [database_factory.create(), database_factory.create()]
    engines = [create_ledger_engine(url) for url in urls]
    yield SqlStorage(engines[0], clock=fixed_clock), SqlStorage(engines[1], clock=fixed_clock)
    for engine, url in zip(engines, urls, strict=True):
        engine.dispose()
        database_factory.drop(url)


@pytest.fixture(autouse=True)
def bulk_never_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch the bulk path gave up on would be written row by row: here that fails."""
    step = run._step

    def strict(*args: Any, bulk: bool, **kwargs: Any) -> Any:
        try:
            return step(*args, bulk=bulk, **kwargs)
        except run._BulkStopped as exc:
            raise AssertionError(f"the bulk path stopped: {exc.__cause__!r}") from exc

    monkeypatch.setattr(run, "_step", strict)


def rows_of(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order (binary values as bytes)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            found[table.name] = [
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in conn.execute(query)
            ]
    return found


def assert_same_ledger(bulk: SqlStorage, rows: SqlStorage) -> None:
    stored = rows_of(bulk.engine)
    assert stored == rows_of(rows.engine)
    for table in ("unit_block", "block_event", "merkle_node", "entry_tag", "projection_count"):
        assert stored[table], table
    for storage in (bulk, rows):
        assert verify_database(storage.engine).ok


def both_paths(bulk: SqlStorage, rows: SqlStorage, batch: int = 7) -> Callable[..., None]:
    def load(data: bytes, fmt: ImportFormat = ImportFormat.JSONL, **kw: Any) -> None:
        for storage, path in ((bulk, True), (rows, False)):
            report = run_import_of(
                storage, plan_of(data, fmt, **kw), ACTOR, batch_size=batch, bulk=path
            )
            assert report.complete

    return load


def test_every_action_of_a_json_lines_file_stores_the_same_rows_by_both_paths(
    ledgers: tuple[SqlStorage, SqlStorage],
) -> None:
    load = both_paths(*ledgers)
    load(example() + lines(*EVERY_ACTION))
    assert_same_ledger(*ledgers)


def test_aef_table_3_files_store_the_same_rows_by_both_paths(
    ledgers: tuple[SqlStorage, SqlStorage], other_storage: SqlStorage
) -> None:
    """Table 3 rows find their units and accounts in the projection (blocks overlapping a
    range): the transfers and the use of the JCM example, from the three Parties' tables."""
    run_import_of(other_storage, plan_of(example()), ACTOR)
    from ledger.accounting import aef
    from ledger.adapters import aef_files

    thai = aef_files.export_aef(aef_of(other_storage, "THA", 2025), aef_files.AefFormat.XLSX)
    maldivian = aef_files.export_aef(aef_of(other_storage, "MDV", 2025), aef_files.AefFormat.CSV)
    japanese = aef.to_csv(aef_of(other_storage, "JPN", 2025), aef.AefTable.ACTIONS).encode()

    load = both_paths(*ledgers)
    load(example_without("transfer", "use"))
    load(thai, ImportFormat.AEF_XLSX)
    load(maldivian, ImportFormat.AEF_CSV_ZIP)
    load(japanese, ImportFormat.AEF_TABLE3_CSV, party="JPN")
    assert_same_ledger(*ledgers)


def test_a_history_of_issuances_stores_the_same_rows_by_both_paths(
    ledgers: tuple[SqlStorage, SqlStorage],
) -> None:
    """The benchmark's history: authorizations, and issuances under each of them, in batches
    large enough that PostgreSQL takes the entries, nodes, tags and blocks by ``COPY``."""
    load = both_paths(*ledgers, batch=120)
    load(history(230))
    assert_same_ledger(*ledgers)


def test_text_that_copy_escapes_stores_the_same_rows_by_both_paths(
    ledgers: tuple[SqlStorage, SqlStorage],
) -> None:
    """Names holding what COPY's text format escapes (a backslash; ``\\N``, which COPY reads as
    NULL unescaped; ``\\.``, its end of data) and characters outside the Basic Multilingual Plane,
    in a batch of more than ``COPY_FROM`` accounts: stored as the row-by-row path stores them
    (names hold no control characters: the request schema refuses them)."""
    nasty = ("back\\slash", "\\N", "\\.", "emoji \U0001f600", "é", 'quote" |')
    accounts = [
        {
            "action": "account",
            "body": {
                "account_id": f"THA01-X{index:02}",
                "registry_id": "THA01",
                "account_type": "holding",
                "name": nasty[index % len(nasty)],
            },
        }
        for index in range(40)
    ]
    load = both_paths(*ledgers, batch=120)
    load(example() + lines(*accounts))
    assert_same_ledger(*ledgers)
    with ledgers[0].unit_of_work(write=False) as uow:
        account = uow.projection.get_account("THA01-X02")
        assert account is not None
        assert account.name == "\\."
