"""A unit of work reads each projection record once: the second look-up of a Party (or the
whole table) comes from what it read, and a write to the table makes it read again."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Engine, event

from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo


def test_records_are_read_once_per_unit_of_work_until_their_table_is_written(
    engine: Engine,
) -> None:
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        load_demo(uow)
        uow.commit()
    reads: list[str] = []

    def before(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM party" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        with SqlAlchemyUnitOfWork(engine, write=True) as uow:
            japan = uow.projection.get_party("JPN")
            assert japan is not None
            assert uow.projection.get_party("JPN") == japan
            assert uow.projection.get_party("XXX") is None
            assert uow.projection.get_party("XXX") is None
            assert [p.code for p in uow.projection.parties()] == ["CHE", "JPN", "MNG", "THA"]
            assert len(uow.projection.parties()) == 4
            assert len(reads) == 4  # its row count, JPN, XXX, the table
            uow.projection.bind_entry(uow.log.size(), bytes(32))
            renamed = replace(japan, name="Nippon")
            uow.projection.put_party(renamed)
            assert uow.projection.get_party("JPN") == renamed
            assert [p.name for p in uow.projection.parties() if p.code == "JPN"] == ["Nippon"]
            assert len(reads) > 4
            uow.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", before)
