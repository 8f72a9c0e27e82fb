"""The holdings projection cannot be edited in the database unnoticed, on both databases.

Issue 9: an ``UPDATE unit_block SET account_id = 'JPN01-GOV', retired = false`` on used units let
Japan use the same serials again, and ``verify-db``, the replay check and ``/readyz`` all passed.
Now the triggers refuse such statements outside the service; an attacker who gets past them
(setting the writer flag, or disabling triggers) is caught by the row digests on the next action
touching the row (a problem, nothing recorded), by ``check_projection`` (``/readyz``) and by
``verify-db``, which also re-checks every entry against the rules while replaying the log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ledger.access import create_token, revoke_token
from ledger.adapters.sql import guard
from ledger.adapters.sql.db import begin_write, create_ledger_engine
from ledger.adapters.sql.migrations import alembic_config, check_no_drift, upgrade_to_head
from ledger.adapters.sql.orm import unit_block
from ledger.adapters.sql.orm_api import idempotency_record
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork, SqlStorage
from ledger.adapters.sql.verify import (
    SCANNED,
    ProjectionScan,
    check_projection,
    verify_database,
)
from ledger.demo import load_demo
from ledger.errors import EntryBreaksRule, LedgerError, ProjectionMismatch
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry import services
from ledger.registry.codec import to_json
from ledger.registry.model import SerialRange, UnitSelection
from ledger.registry.projection import replay
from tests.conftest import DatabaseFactory

# In the demo, Japan used serials 1-600 of CA0001-THA01-THA-2021 (block 3, in JPN01-NDC) and
# holds 601-1009 (block 4, in JPN01-GOV).
USED, HELD = 3, 4


@pytest.fixture
def demo(engine: Engine) -> Engine:
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        load_demo(uow)
        uow.commit()
    assert verify_database(engine).ok
    return engine


def size(engine: Engine) -> int:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        return uow.log.size()


def edited_body(*changes: tuple[str, str]) -> str:
    """SQL for ``body`` with each (old, new) JSON fragment replaced."""
    sql = "body"
    for old, new in changes:
        sql = f"replace({sql}, '{old}', '{new}')"
    return sql


def as_writer(engine: Engine, *statements: str) -> None:
    """An attacker who knows the writer flag: the guard triggers let these through."""
    with engine.begin() as conn:
        guard.mark_writer(conn)
        for statement in statements:
            conn.exec_driver_sql(statement)


def without_triggers(engine: Engine, backend: str, *statements: str) -> None:
    """An attacker who disables the triggers (e.g. the overlap check that stops a duplicate)."""
    with engine.begin() as conn:
        if backend == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                conn.exec_driver_sql(statement)
            return
        triggers = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _sql in triggers:
            conn.execute(text(f"DROP TRIGGER {name}"))
        for statement in statements:
            conn.exec_driver_sql(statement)
        for _name, sql in triggers:
            conn.execute(text(sql))


def use_serials(first: int, last: int, source: str = "JPN01-GOV") -> Callable[[UnitOfWork], object]:
    selection = UnitSelection(
        ranges=(SerialRange(first, last),),
        ca_id="CA0001",
        originating_registry="THA01",
        first_transferring_party="THA",
        vintage=2021,
    )
    order = services.UseOrder(source, "JPN01-NDC", selection, use_year=2026)
    return lambda uow: services.use_for_ndc(uow, order, "test:JPN01")


def use_quantity(quantity: int, source: str = "JPN01-GOV") -> Callable[[UnitOfWork], object]:
    order = services.UseOrder(source, "JPN01-NDC", UnitSelection(quantity=quantity), use_year=2026)
    return lambda uow: services.use_for_ndc(uow, order, "test:JPN01")


def refused(engine: Engine, action: Callable[[UnitOfWork], object]) -> LedgerError:
    """Run ``action`` as a request would; it must be refused and record nothing."""
    before = size(engine)
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        with pytest.raises(LedgerError) as caught:
            action(uow)
        uow.rollback()
    assert size(engine) == before
    return caught.value


# --- the triggers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE unit_block SET account_id = 'JPN01-GOV', retired = false WHERE block_id = {USED}",
        f"DELETE FROM unit_block WHERE block_id = {USED}",
        "INSERT INTO party (code, body, seq, entry_hash, digest) "
        "SELECT 'XXX', body, seq, entry_hash, digest FROM party WHERE code = 'JPN'",
        "UPDATE account SET registry_id = 'THA01' WHERE account_id = 'JPN01-NDC'",
        "DELETE FROM account WHERE account_id = 'JPN01-NDC'",
        "UPDATE party SET body = body WHERE code = 'JPN'",
        "UPDATE projection_count SET row_count = row_count - 1",
        "UPDATE first_transfer_definition SET definition = 'Issuance'",
        'UPDATE "authorization" SET version = version + 10',
        "INSERT INTO block_event (seq, block_id, kind, first_serial, last_serial, account_id) "
        "VALUES (999, 1, 'itmo.use', 1, 1, 'JPN01-NDC')",
        "UPDATE api_token SET revoked_at = NULL",
        "DELETE FROM api_token",
        "UPDATE idempotency_record SET response_status = 200",
    ],
)
def test_statements_outside_the_service_are_refused(demo: Engine, statement: str) -> None:
    principal, _token = create_token(SqlStorage(demo), "ops", "admin")
    with begin_write(demo) as conn:  # as the service stores a response
        conn.execute(
            idempotency_record.insert().values(
                token_id=principal.token_id,
                idempotency_key="k1",
                request_fingerprint=bytes(32),
                request_method="POST",
                request_path="/v1/parties",
                response_status=201,
                response_headers="[]",
                response_body=b"{}",
                created_at=datetime.now(UTC),
            )
        )
        conn.commit()
    with pytest.raises(DBAPIError, match="a6ledger: .* (refused|forbidden)"), demo.begin() as conn:
        conn.exec_driver_sql(statement)
    assert verify_database(demo).ok


def test_the_sqlite_shell_cannot_write_the_projection(demo: Engine, backend: str) -> None:
    """Other SQLite clients lack the service's ``a6ledger_writer()``: their writes fail."""
    if backend != "sqlite":
        pytest.skip("SQLite only")
    shell = sqlite3.connect(str(make_url(str(demo.url)).database))
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such function"):
            shell.execute("UPDATE unit_block SET retired = 0 WHERE block_id = ?", (USED,))
        with pytest.raises(sqlite3.IntegrityError, match="forbidden"):
            shell.execute("DELETE FROM unit_block WHERE block_id = ?", (USED,))
    finally:
        shell.close()
    assert verify_database(demo).ok


def test_token_revocation_is_the_one_update_a_token_takes(demo: Engine) -> None:
    principal, _token = create_token(SqlStorage(demo), "ops", "admin")
    revoked = revoke_token(SqlStorage(demo), principal.token_id)
    assert revoked.revoked_at is not None
    # Even the service's own write transaction cannot un-revoke it, or rename it.
    for change in ("revoked_at = NULL", "name = 'renamed'", "role = 'auditor'"):
        with pytest.raises(DBAPIError, match="revocation"), begin_write(demo) as conn:
            conn.exec_driver_sql(f"UPDATE api_token SET {change}")


def test_the_service_writes_through_the_guard(demo: Engine) -> None:
    """Writes of the service itself pass: the demo loaded, and one more action."""
    with SqlAlchemyUnitOfWork(demo, write=True) as uow:
        use_quantity(9)(uow)
        uow.commit()
    report = verify_database(demo)
    assert report.ok, report.reason
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        assert check_projection(uow.connection) is None


# --- tampering that gets past the triggers ---------------------------------------------------


@dataclass(frozen=True)
class Tampering:
    name: str
    statements: tuple[str, ...]
    bad_row: str
    next_action: Callable[[UnitOfWork], object]
    needs_triggers_off: bool = False


TAMPERINGS = [
    Tampering(
        # The probe: used units put back into Japan's holding account.
        "used block moved back and un-retired",
        (
            "UPDATE unit_block SET account_id = 'JPN01-GOV', retired = false, body = "
            + edited_body(
                ('"account_id":"JPN01-NDC"', '"account_id":"JPN01-GOV"'),
                ('"retired":true', '"retired":false'),
            )
            + f" WHERE block_id = {USED}",
        ),
        f"unit_block[block_id={USED}]",
        use_quantity(1009),
    ),
    Tampering(
        "block moved to another account",
        (f"UPDATE unit_block SET account_id = 'JPN01-GOV' WHERE block_id = {USED}",),
        f"unit_block[block_id={USED}]",
        use_serials(1, 600),
    ),
    Tampering(
        "block un-retired",
        (f"UPDATE unit_block SET retired = false WHERE block_id = {USED}",),
        f"unit_block[block_id={USED}]",
        use_serials(1, 600),
    ),
    Tampering(
        "block resized",
        (f"UPDATE unit_block SET last_serial = last_serial - 100 WHERE block_id = {HELD}",),
        f"unit_block[block_id={HELD}]",
        use_quantity(10),
    ),
    Tampering(
        "block duplicated",
        (
            "INSERT INTO unit_block SELECT 100, ca_id, registry_id, first_transferring_party, "
            "vintage, first_serial, last_serial, account_id, active, retired, authorization_id, "
            "superseded_seq, body, seq, entry_hash, digest FROM unit_block "
            f"WHERE block_id = {HELD}",
        ),
        "unit_block[block_id=100]",
        use_quantity(10),
        needs_triggers_off=True,
    ),
    Tampering(
        "block deleted",
        (f"DELETE FROM unit_block WHERE block_id = {USED}",),
        f"unit_block[block_id={USED}]",
        use_quantity(10),
        needs_triggers_off=True,
    ),
    Tampering(
        "account type changed",
        (
            "UPDATE account SET body = "
            + edited_body(('"account_type":"ndc-use"', '"account_type":"holding"'))
            + " WHERE account_id = 'JPN01-NDC'",
        ),
        "account[account_id='JPN01-NDC']",
        use_quantity(10),
    ),
    Tampering(
        "party changed",
        (
            "UPDATE party SET body = "
            + edited_body(('"period_end":2030', '"period_end":2035'))
            + " WHERE code = 'JPN'",
        ),
        "party[code='JPN']",
        use_quantity(10),
    ),
]


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=[t.name for t in TAMPERINGS])
def test_each_tampering_is_detected_and_refused(
    demo: Engine, backend: str, tampering: Tampering
) -> None:
    if tampering.needs_triggers_off:
        without_triggers(demo, backend, *tampering.statements)
    else:
        as_writer(demo, *tampering.statements)

    # The next action touching the row is refused as a projection mismatch; nothing recorded.
    error = refused(demo, tampering.next_action)
    assert isinstance(error, ProjectionMismatch), error
    assert error.rule == "projection-matches-ledger"

    # /readyz's check and verify-db name the row.
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        difference = check_projection(uow.connection)
    assert difference is not None
    report = verify_database(demo)
    assert not report.ok
    assert report.first_bad_seq is None, report.reason  # the log itself is intact
    assert report.bad_row == tampering.bad_row, report.reason


def test_a_row_rewritten_with_a_valid_digest_is_found_by_verify_db(demo: Engine) -> None:
    """Whoever recomputes the digest (it is not a secret) passes the checks on read; verify-db
    re-derives the row from the log and names it."""
    with SqlAlchemyUnitOfWork(demo, write=True) as uow:
        block = uow.projection.get_block(USED)
        assert block is not None
        # Bound to the entry that did write the block, with a digest to match: only the state
        # is forged.
        seq, entry_hash = uow.connection.execute(
            select(unit_block.c.seq, unit_block.c.entry_hash).where(unit_block.c.block_id == USED)
        ).one()
        uow.projection.bind_entry(seq, bytes(entry_hash))
        uow.projection.put_block(replace(block, account_id="JPN01-GOV", retired=False))
        uow.commit()
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        assert check_projection(uow.connection) is None
    report = verify_database(demo)
    assert report.bad_row == f"unit_block[block_id={USED}]"
    assert "account_id is 'JPN01-GOV' in storage, 'JPN01-NDC' in the ledger" in (
        report.reason or ""
    )


def test_a_forged_entry_is_caught_by_replaying_the_rules(demo: Engine) -> None:
    """An entry appended with valid hashes that moves used units back is applied consistently
    to the projection (digests and counts match), but the replay re-checks the rules."""
    with SqlAlchemyUnitOfWork(demo, write=True) as uow:
        block = uow.projection.get_block(USED)
        assert block is not None
        back = replace(block, account_id="JPN01-GOV", retired=False)
        forged = record_entry(
            uow,
            "itmo.transfer",
            {
                "from_account": "JPN01-NDC",
                "to_account": "JPN01-GOV",
                "acquiring_party": None,
                "international": False,
                "reference": None,
                "quantity": back.quantity,
                "blocks": [to_json(back)],
                "acted": [back.block_id],
                "superseded": [],
            },
            "forger",
        )
        uow.commit()
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        assert check_projection(uow.connection) is None  # consistent with the forged log
        with pytest.raises(EntryBreaksRule, match=f"entry {forged.seq} \\(itmo.transfer\\)"):
            replay(uow.log.read_entries(0, uow.log.size()))
    report = verify_database(demo)
    assert report.first_bad_seq == forged.seq
    assert "breaks the rule account-type" in (report.reason or "")


def _forged_use(uow: UnitOfWork) -> dict[str, object]:
    block = uow.projection.get_block(USED)
    assert block is not None
    used = replace(block, retired=True)
    return {
        "from_account": "JPN01-GOV",
        "to_account": "JPN01-NDC",
        "using_party": "JPN",
        "use_year": 2026,
        "quantity": used.quantity,
        "reference": None,
        "blocks": [to_json(used)],
        "acted": [USED],
        "superseded": [],
    }


def _issuance_out_of_order(uow: UnitOfWork) -> dict[str, object]:
    block = uow.projection.get_block(HELD)
    assert block is not None
    # Serials 1-2017 of vintage 2021 are held: re-issuing them is refused by the overlap
    # trigger. Vintage 2022 starts at serial 1; this skips four.
    again = replace(
        block,
        attributes=replace(block.attributes, vintage=2022),
        block_id=uow.projection.next_block_id(),
        first=5,
        last=104,
        account_id="THA01-GOV",
        first_transfer_seq=None,
        authorization_version=None,
        parent_id=None,
        underlying_first=None,
        underlying_last=None,
        created_seq=uow.log.size(),
    )
    return {
        "registry_id": "THA01",
        "decision_reference": None,
        "quantity": 100,
        "blocks": [to_json(again)],
        "acted": [again.block_id],
        "superseded": [],
    }


def _note_moving_units(uow: UnitOfWork) -> dict[str, object]:
    block = uow.projection.get_block(USED)
    assert block is not None
    back = replace(block, account_id="JPN01-GOV", retired=False)
    return {"note": "nothing to see", "blocks": [to_json(back)], "acted": [], "superseded": []}


def _flag_losing_units(uow: UnitOfWork) -> dict[str, object]:
    block = uow.projection.get_block(HELD)
    assert block is not None
    piece = block.piece(
        uow.projection.next_block_id(), block.first, block.first + 99, uow.log.size()
    )
    flagged = replace(piece, inconsistent=True)
    return {"blocks": [to_json(flagged)], "acted": [flagged.block_id], "superseded": [HELD]}


def _resolving_no_flag(uow: UnitOfWork) -> dict[str, object]:
    block = uow.projection.get_block(HELD)
    assert block is not None
    assert not block.inconsistent
    return {
        "blocks": [to_json(block)],
        "acted": [HELD],
        "superseded": [],
        "resolved": [{"block_id": HELD, "reason": "nothing was flagged"}],
    }


@pytest.mark.parametrize(
    ("kind", "payload", "rule"),
    [
        ("itmo.use", _forged_use, "serial-held-by-account"),
        ("mo.issued", _issuance_out_of_order, "serials-issued-in-order"),
        ("test.note", _note_moving_units, "projection-changed-by-registry-actions"),
        ("consistency.checked", _flag_losing_units, "units-conserved"),
        ("consistency.reviewed", _resolving_no_flag, "flag-resolved-once"),
    ],
    ids=[
        "used units used again",
        "serials issued out of order",
        "a note moves units",
        "units lost",
        "a flag resolved that was never raised",
    ],
)
def test_forged_entries_break_rules_that_verify_db_names(
    demo: Engine, kind: str, payload: Callable[[UnitOfWork], dict[str, object]], rule: str
) -> None:
    """Entries appended with valid hashes and applied consistently to the projection: only a
    replay that re-checks the rules finds them."""
    with SqlAlchemyUnitOfWork(demo, write=True) as uow:
        forged = record_entry(uow, kind, payload(uow), "forger")  # type: ignore[arg-type]
        uow.commit()
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        assert check_projection(uow.connection) is None
    report = verify_database(demo)
    assert report.first_bad_seq == forged.seq, report.reason
    assert f"breaks the rule {rule}" in (report.reason or "")


def test_readiness_scans_a_window_per_probe_and_stays_failed(demo: Engine) -> None:
    """``/readyz`` checks a few rows per probe, resuming where the last probe stopped: an edited
    row is found within rows/window probes, and stays reported until it is restored."""
    with demo.connect() as conn:
        rows = sum(
            conn.execute(select(func.count()).select_from(table)).scalar_one() for table in SCANNED
        )
    scan = ProjectionScan(window=3)
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        for _ in range(rows // 3 + 2):  # more than a whole cycle, all clean
            assert scan.step(uow.connection) is None
    as_writer(demo, f"UPDATE unit_block SET retired = true WHERE block_id = {HELD}")
    found, probes = None, 0
    while found is None and probes <= rows // 3 + 1:
        probes += 1
        with SqlAlchemyUnitOfWork(demo, write=False) as uow:
            found = scan.step(uow.connection)
    assert found is not None
    assert found.row == f"unit_block[block_id={HELD}]"
    for _ in range(3):  # sticky, while the scan moves on
        with SqlAlchemyUnitOfWork(demo, write=False) as uow:
            assert scan.step(uow.connection) == found
    as_writer(demo, f"UPDATE unit_block SET retired = false WHERE block_id = {HELD}")
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        assert scan.step(uow.connection) is None


# --- the migration ---------------------------------------------------------------------------


def test_upgrading_binds_the_rows_already_there(database_factory: DatabaseFactory) -> None:
    """A database with a projection from before 0008 gets every row bound to the entry that
    last wrote it, with v1 digests the adapter accepts; downgrading removes it all again."""
    url = database_factory.empty_url()
    try:
        upgrade_to_head(url)
        engine = create_ledger_engine(url)
        try:
            with SqlAlchemyUnitOfWork(engine, write=True) as uow:
                load_demo(uow)
                uow.commit()
            command.downgrade(alembic_config(url), "0007")
            assert "digest" not in {c["name"] for c in inspect(engine).get_columns("unit_block")}
            with engine.begin() as conn:  # no guard before 0008
                conn.exec_driver_sql("UPDATE party SET body = body WHERE code = 'JPN'")
            upgrade_to_head(url)
            check_no_drift(url)
            report = verify_database(engine)
            assert report.ok, report.reason
            with SqlAlchemyUnitOfWork(engine, write=False) as uow:
                assert check_projection(uow.connection) is None
            with SqlAlchemyUnitOfWork(engine, write=True) as uow:
                use_quantity(9)(uow)
                uow.commit()
            assert verify_database(engine).ok
        finally:
            engine.dispose()
    finally:
        database_factory.drop(url)
