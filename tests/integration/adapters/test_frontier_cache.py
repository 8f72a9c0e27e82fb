"""The Merkle frontier a process keeps between its writes (``ledger.adapters.sql.log``): used
only when the log's head is the one it was kept for, so writes by another process (another
engine here) or a kept frontier of another head never put a wrong node in the tree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event

from ledger.adapters.sql import log as sql_log
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.log import merkle


def append(engine: Engine, n: int) -> None:
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        for i in range(n):
            uow.log.append("test.note", {"i": i}, actor="test")
        uow.commit()


def assert_tree_matches_entries(engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        size = uow.log.size()
        leaves = [merkle.leaf_hash(body) for body in uow.log.read_entries(0, size)]
        assert uow.log.root(size) == merkle.root_from_leaf_hashes(leaves)
        for index in range(size):  # every stored node on each leaf's path is right
            proof = uow.log.inclusion_proof(index, size)
            merkle.verify_inclusion(leaves[index], index, size, proof, uow.log.root(size))


@contextmanager
def node_reads(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def before(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "merkle_node.hash" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_the_next_write_of_the_process_reuses_the_frontier(engine: Engine) -> None:
    append(engine, 3)
    size, _head, frontier = sql_log._FRONTIERS[engine]
    assert size == 3
    assert sorted(frontier) == [0, 1]
    with node_reads(engine) as reads:
        append(engine, 2)
    assert reads == []
    assert sql_log._FRONTIERS[engine][0] == 5
    assert_tree_matches_entries(engine)


def test_writes_of_another_process_make_the_kept_frontier_unused(
    engine: Engine, database_url: str
) -> None:
    append(engine, 3)
    other = create_ledger_engine(database_url)
    try:
        append(other, 4)
    finally:
        other.dispose()
    with node_reads(engine) as reads:
        append(engine, 1)
    assert reads, "the frontier of size 3 was used at size 7"
    assert_tree_matches_entries(engine)


def test_a_frontier_kept_for_another_head_of_the_same_size_is_not_used(engine: Engine) -> None:
    append(engine, 3)
    size, _head, frontier = sql_log._FRONTIERS[engine]
    sql_log._FRONTIERS[engine] = (size, bytes(32), {level: bytes(32) for level in frontier})
    append(engine, 2)
    assert_tree_matches_entries(engine)
