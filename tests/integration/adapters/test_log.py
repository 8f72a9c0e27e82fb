"""The SQL log on both databases: appends, proofs, append-only triggers, concurrency, verify-db."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.adapters.sql.verify import verify_database
from ledger.log import merkle
from ledger.log.chain import verify_chain


def append_many(engine: Engine, count: int, kind: str = "test.note") -> None:
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        for i in range(count):
            uow.log.append(kind, {"n": i}, actor="test")
        uow.commit()


def test_appends_build_the_chain_and_tree(engine: Engine) -> None:
    append_many(engine, 7)
    append_many(engine, 6)
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        size = uow.log.size()
        bodies = uow.log.read_entries(0, size)
        assert size == 13
        assert verify_chain(bodies) is None
        leaves = [merkle.leaf_hash(b) for b in bodies]
        for tree_size in range(1, size + 1):
            root = uow.log.root(tree_size)
            assert root == merkle.root_from_leaf_hashes(leaves[:tree_size])
            for index in range(tree_size):
                proof = uow.log.inclusion_proof(index, tree_size)
                merkle.verify_inclusion(leaves[index], index, tree_size, proof, root)
            for first in range(1, tree_size + 1):
                proof = uow.log.consistency_proof(first, tree_size)
                merkle.verify_consistency(first, tree_size, proof, uow.log.root(first), root)
    assert verify_database(engine).ok


def test_rolled_back_unit_of_work_leaves_nothing(engine: Engine) -> None:
    append_many(engine, 2)
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        uow.log.append("test.note", {"n": 99}, actor="test")
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        assert uow.log.size() == 2
    assert verify_database(engine).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET kind = 'forged' WHERE seq = 1",
        "DELETE FROM ledger_entry WHERE seq = 2",
        "UPDATE merkle_node SET idx = idx WHERE level = 0",
        "DELETE FROM merkle_node",
    ],
)
def test_database_rejects_changes_to_append_only_tables(engine: Engine, statement: str) -> None:
    append_many(engine, 3)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert verify_database(engine).ok


def test_postgresql_rejects_truncate(engine: Engine, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    append_many(engine, 1)
    for table in ("ledger_entry", "merkle_node"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {table} CASCADE"))
    assert verify_database(engine).ok


def test_database_rejects_an_entry_that_forks_the_chain(engine: Engine) -> None:
    append_many(engine, 2)
    with engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM ledger_entry WHERE seq = 1")).mappings().one()
    forged = dict(row) | {"seq": 2, "entry_hash": b"\x01" * 32, "prev_hash": b"\x02" * 32}
    with pytest.raises(DBAPIError, match="chain head"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_entry (seq, kind, actor, recorded_at, prev_hash, entry_hash, "
                "body) VALUES (:seq, :kind, :actor, :recorded_at, :prev_hash, :entry_hash, :body)"
            ),
            forged,
        )
    # A second entry claiming the same predecessor (a fork) breaks UNIQUE(prev_hash).
    duplicate = dict(row) | {"seq": 2, "entry_hash": b"\x03" * 32}
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_entry (seq, kind, actor, recorded_at, prev_hash, entry_hash, "
                "body) VALUES (:seq, :kind, :actor, :recorded_at, :prev_hash, :entry_hash, :body)"
            ),
            duplicate,
        )


def _append_worker(url: str, worker: int, rounds: int) -> None:
    engine = create_ledger_engine(url)
    try:
        for i in range(rounds):
            with SqlAlchemyUnitOfWork(engine, write=True) as uow:
                uow.log.append("test.concurrent", {"worker": worker, "i": i}, actor="test")
                uow.log.append("test.concurrent", {"worker": worker, "i": i, "b": 1}, actor="t")
                uow.commit()
    finally:
        engine.dispose()


def test_two_processes_appending_concurrently_make_one_chain(
    engine: Engine, database_url: str
) -> None:
    context = multiprocessing.get_context("spawn")
    rounds = 25
    workers = [
        context.Process(target=_append_worker, args=(database_url, w, rounds)) for w in range(2)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    report = verify_database(engine)
    assert report.ok, report.reason
    assert report.tree_size == 2 * 2 * rounds
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        seqs = [int(b.split(b'"seq":')[1].split(b",")[0]) for b in uow.log.read_entries(0, 100)]
        assert seqs == list(range(100))


TamperFn = Callable[[Engine, str], None]


def _disable_triggers_and_run(engine: Engine, backend: str, statement: str) -> None:
    with engine.begin() as conn:
        if backend == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.exec_driver_sql(statement)
        else:
            triggers = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            for name, _sql in triggers:
                conn.execute(text(f"DROP TRIGGER {name}"))
            conn.exec_driver_sql(statement)
            for _name, sql in triggers:
                conn.execute(text(sql))


@pytest.mark.parametrize(
    ("statement", "bad_seq"),
    [
        ("UPDATE ledger_entry SET body = REPLACE(body, '\"n\":5', '\"n\":6') WHERE seq = 5", 5),
        ("UPDATE ledger_entry SET entry_hash = ZERO32 WHERE seq = 8", 8),
        (
            "UPDATE merkle_node SET hash = "
            "(SELECT hash FROM merkle_node WHERE level = 0 AND idx = 0) "
            "WHERE level = 1 AND idx = 2",
            4,
        ),
        ("DELETE FROM ledger_entry WHERE seq = 9", 9),
    ],
)
def test_verify_db_names_the_first_altered_seq(
    engine: Engine, backend: str, statement: str, bad_seq: int
) -> None:
    append_many(engine, 12)
    assert verify_database(engine).ok
    zero32 = "decode(repeat('00', 32), 'hex')" if backend == "postgresql" else "zeroblob(32)"
    statement = statement.replace("ZERO32", zero32)
    if backend == "postgresql":
        statement = statement.replace(
            "REPLACE(body, '\"n\":5', '\"n\":6')",
            "convert_to(replace(convert_from(body, 'UTF8'), '\"n\":5', '\"n\":6'), 'UTF8')",
        )
    else:
        statement = statement.replace(
            "REPLACE(body, '\"n\":5', '\"n\":6')",
            "CAST(REPLACE(CAST(body AS TEXT), '\"n\":5', '\"n\":6') AS BLOB)",
        )
    _disable_triggers_and_run(engine, backend, statement)
    report = verify_database(engine)
    assert not report.ok
    assert report.first_bad_seq == bad_seq, report.reason


def test_node_reads_use_the_primary_key(engine: Engine, backend: str) -> None:
    """Proofs must cost O(log n) index lookups, never a scan of the Merkle table."""
    from sqlalchemy import select

    from ledger.adapters.sql.log import node_keys_condition
    from ledger.adapters.sql.orm import merkle_node

    if backend != "sqlite":
        pytest.skip("the plan check is written for SQLite's EXPLAIN QUERY PLAN")
    query = select(merkle_node.c.hash).where(node_keys_condition([(0, 1), (3, 2), (3, 9)]))
    compiled = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = " ".join(str(row) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled))
    assert "SCAN merkle_node" not in plan
    assert "USING INDEX" in plan


@pytest.mark.parametrize(
    ("column", "value"),
    [("ca_id", "CA01"), ("registry_id", "jpn01"), ("first_transferring_party", "J1N")],
)
def test_database_refuses_invalid_itmo_identifier_elements(
    engine: Engine, column: str, value: str
) -> None:
    row = {
        "block_id": 1,
        "ca_id": "CA0001",
        "registry_id": "THA01",
        "first_transferring_party": "THA",
        "vintage": 2021,
        "first_serial": 1,
        "last_serial": 10,
        "account_id": "THA01-GOV",
        "active": True,
        "retired": False,
        "authorization_id": None,
        "superseded_seq": None,
        "body": "{}",
        "seq": 0,
        "entry_hash": bytes(32),
        "digest": bytes(32),
    }
    from ledger.adapters.sql.db import begin_write
    from ledger.adapters.sql.orm import unit_block

    # As the service writes (the guard triggers refuse other writers).
    with begin_write(engine) as conn:
        conn.execute(unit_block.insert().values(**row))
        conn.commit()
    with pytest.raises(DBAPIError), begin_write(engine) as conn:
        conn.execute(
            unit_block.insert().values(
                **(row | {"block_id": 2, column: value, "first_serial": 11, "last_serial": 12})
            )
        )
