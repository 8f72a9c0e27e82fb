"""The entry index (``entry_tag``) on both databases: written with each entry, insert-only
outside nothing but the service, compared with a replay by ``verify-db``, and refused by the
reports when it lists an entry under a tag the entry does not carry."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from ledger.accounting import reporting
from ledger.adapters.sql.migrations import alembic_config
from ledger.adapters.sql.orm import entry_tag, ledger_entry
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.adapters.sql.verify import verify_database
from ledger.errors import ProjectionMismatch
from ledger.log.chain import Entry
from tests.integration.adapters.test_projection_guard import as_writer, demo, without_triggers

__all__ = ["demo"]


def stored_index(engine: Engine) -> set[tuple[str, int]]:
    with engine.connect() as conn:
        return {(str(t), int(s)) for t, s in conn.execute(select(entry_tag.c.tag, entry_tag.c.seq))}


def japans_uses(engine: Engine) -> list[int]:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        bodies = uow.log.read_entries(0, uow.log.size())
    return [e.seq for e in map(Entry.from_canonical, bodies) if e.kind == "itmo.use"]


def test_the_service_indexes_each_entry_as_it_records_it(demo: Engine) -> None:
    index = stored_index(demo)
    (use,) = japans_uses(demo)
    assert {("party:JPN", use), ("account:JPN01-GOV", use), ("account:JPN01-NDC", use)} <= index
    assert ("party:THA", use) in index  # the first transferring Party of the units used
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        assert use in uow.projection.tagged_seqs(["party:JPN"], uow.log.size())
        assert use not in uow.projection.tagged_seqs(["party:JPN"], use)


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM entry_tag WHERE tag = 'party:JPN'",
        "UPDATE entry_tag SET tag = 'party:XXX' WHERE tag = 'party:JPN'",
        "INSERT INTO entry_tag (tag, seq) VALUES ('party:JPN', 0)",
    ],
)
def test_changes_outside_the_service_are_refused(demo: Engine, statement: str) -> None:
    with pytest.raises(DBAPIError, match="a6ledger: .* (refused|forbidden)"), demo.begin() as conn:
        conn.exec_driver_sql(statement)
    assert verify_database(demo).ok


def test_the_index_is_insert_only_even_for_the_service(demo: Engine) -> None:
    with pytest.raises(DBAPIError, match="a6ledger: .* forbidden"):
        as_writer(demo, "DELETE FROM entry_tag WHERE tag = 'party:JPN'")


def test_verify_db_finds_a_deleted_index_row(demo: Engine, backend: str) -> None:
    """An entry dropped from the index would be left out of the Party's reports: verify-db,
    which rebuilds the index by replaying the log, names the missing row."""
    (use,) = japans_uses(demo)
    without_triggers(
        demo, backend, f"DELETE FROM entry_tag WHERE tag = 'party:JPN' AND seq = {use}"
    )
    report = verify_database(demo)
    assert not report.ok
    assert report.bad_row == f"entry_tag[tag='party:JPN', seq={use}]"
    assert "the ledger has this row" in (report.reason or "")


def test_a_forged_index_row_is_refused_by_the_reports_and_named_by_verify_db(
    demo: Engine,
) -> None:
    """A row listing one of Thailand's entries under Japan: the report does not act on it."""
    as_writer(demo, "INSERT INTO entry_tag (tag, seq) VALUES ('party:JPN', 1)")
    with SqlAlchemyUnitOfWork(demo, write=False) as uow, pytest.raises(ProjectionMismatch):
        reporting.adjustments_for(uow, "JPN")
    report = verify_database(demo)
    assert report.bad_row == "entry_tag[tag='party:JPN', seq=1]"
    assert "no ledger entry wrote it" in (report.reason or "")


def test_verify_db_names_an_index_row_under_a_tag_the_ledger_never_wrote(demo: Engine) -> None:
    """verify-db streams each tag's rows: a tag found only in storage is named too, and so
    is a row after the last the ledger wrote under a tag."""
    as_writer(demo, "INSERT INTO entry_tag (tag, seq) VALUES ('party:ZZZ', 1)")
    report = verify_database(demo)
    assert report.bad_row == "entry_tag[tag='party:ZZZ', seq=1]"
    assert "no ledger entry wrote it" in (report.reason or "")


def test_verify_db_names_an_index_row_after_the_last_one_of_its_tag(demo: Engine) -> None:
    with demo.connect() as conn:
        size = conn.execute(select(func.count()).select_from(ledger_entry)).scalar_one()
    as_writer(demo, f"INSERT INTO entry_tag (tag, seq) VALUES ('party:JPN', {size + 5})")
    report = verify_database(demo)
    assert report.bad_row == f"entry_tag[tag='party:JPN', seq={size + 5}]"
    assert "no ledger entry wrote it" in (report.reason or "")


def test_migration_0010_indexes_the_entries_of_the_ledger_it_upgrades(demo: Engine) -> None:
    before = stored_index(demo)
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        expected = reporting.structured_summary_for(uow, "JPN")
    url = demo.url.render_as_string(hide_password=False)
    command.downgrade(alembic_config(url), "0009")
    command.upgrade(alembic_config(url), "head")
    assert stored_index(demo) == before
    assert verify_database(demo).ok
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        assert reporting.structured_summary_for(uow, "JPN") == expected
