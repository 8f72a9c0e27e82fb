"""Active unit blocks by their partial indexes (migration 0012), on both databases.

The overlap trigger compares a new active block with the neighbouring active block of its key
only (the one starting last at or before the new block's end), so it must still refuse every
overlap the full scan of 0003 refused; an account's held blocks are read page by page in
selection order; explicit ranges and overlap queries start from the neighbouring block.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import DBAPIError

from ledger.adapters.sql import guard
from ledger.adapters.sql.orm import unit_block
from ledger.adapters.sql.projection import FIRST_PAGE
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo, solar
from ledger.registry import services
from ledger.registry.model import SerialRange, UnitSelection
from ledger.registry.projection import block_key
from ledger.registry.rules import selection_order

KEY = ("CA0001", "THA01", "THA", 2021)


@pytest.fixture
def demo(engine: Engine) -> Engine:
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        load_demo(uow)
        uow.commit()
    return engine


def key_rows(engine: Engine) -> list[Any]:
    ca_id, registry_id, ftp, vintage = KEY
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(unit_block)
                .where(
                    unit_block.c.ca_id == ca_id,
                    unit_block.c.registry_id == registry_id,
                    unit_block.c.first_transferring_party == ftp,
                    unit_block.c.vintage == vintage,
                )
                .order_by(unit_block.c.block_id)
            )
            .mappings()
            .all()
        )


def write_block(engine: Engine, first: int, last: int, *, active: bool = True) -> None:
    """Insert a copy of the key's last block with another id and serials (as the service's
    writer, so only the overlap trigger may refuse it)."""
    rows = key_rows(engine)
    values = dict(rows[-1])
    values |= {
        "block_id": max(int(r["block_id"]) for r in rows) + 1000,
        "first_serial": first,
        "last_serial": last,
        "active": active,
    }
    with engine.begin() as conn:
        guard.mark_writer(conn)
        conn.execute(insert(unit_block), values)


def refused(engine: Engine, first: int, last: int) -> None:
    before = len(key_rows(engine))
    with pytest.raises(DBAPIError, match="overlaps an active block"):
        write_block(engine, first, last)
    assert len(key_rows(engine)) == before


def test_the_overlap_trigger_refuses_every_overlap_with_an_active_block(demo: Engine) -> None:
    active = [r for r in key_rows(demo) if r["active"]]
    assert len(active) >= 2
    top = max(int(r["last_serial"]) for r in active)
    low = min(active, key=lambda r: r["first_serial"])
    # Inside one block, across two blocks, covering all of them, touching the last serial.
    refused(demo, int(low["first_serial"]), int(low["first_serial"]))
    refused(demo, int(low["last_serial"]), int(low["last_serial"]) + 1)
    refused(demo, 1, top + 100)
    refused(demo, top, top + 5)
    # Just after the last block: accepted; then overlapping that new block from either side.
    write_block(demo, top + 1, top + 10)
    refused(demo, top + 5, top + 20)
    refused(demo, top - 3, top + 1)
    refused(demo, top + 10, top + 10)
    write_block(demo, top + 11, top + 11)
    # Superseded blocks do not count, in either direction.
    write_block(demo, 1, top + 50, active=False)
    write_block(demo, top + 12, top + 30)


def test_an_update_is_checked_against_the_other_active_blocks(demo: Engine) -> None:
    rows = key_rows(demo)
    active = [r for r in rows if r["active"]]
    superseded = [r for r in rows if not r["active"]]
    assert superseded, "the demo splits the key's issued block"

    def rewrite(block_id: int, **values: Any) -> None:
        with demo.begin() as conn:
            guard.mark_writer(conn)
            conn.execute(update(unit_block).where(unit_block.c.block_id == block_id).values(values))

    rewrite(active[0]["block_id"], account_id=active[0]["account_id"])  # itself: no overlap
    with pytest.raises(DBAPIError, match="overlaps an active block"):
        rewrite(superseded[0]["block_id"], active=True)


ISSUED = ("CA0001", "THA01", "THA", 2022)


def selection(*ranges: tuple[int, int]) -> UnitSelection:
    return UnitSelection(
        ranges=tuple(SerialRange(first, last) for first, last in ranges),
        ca_id=ISSUED[0],
        originating_registry=ISSUED[1],
        first_transferring_party=ISSUED[2],
        vintage=ISSUED[3],
    )


def test_held_blocks_are_read_in_selection_order_across_pages(demo: Engine) -> None:
    """Japan's account gets more blocks than several pages hold; a quantity reads them in
    selection order, and explicit ranges find the blocks they start, end and lie in."""
    order = services.TransferOrder("THA01-GOV", "JPN01-GOV", UnitSelection(quantity=1))
    with SqlAlchemyUnitOfWork(demo, write=True) as uow:
        attributes = solar("THA01", "THA", "CA0001", 2022)
        share = services.IssuanceShare("THA01-GOV", 1000, "THA-JCM-2025-001")
        services.issue(uow, services.Issuance("THA01", attributes, (share,)), "test")
        for _ in range(FIRST_PAGE * 5 + 3):
            services.transfer(uow, order, "test")
        uow.commit()
    with SqlAlchemyUnitOfWork(demo, write=False) as uow:
        held = sorted(uow.projection.held_blocks("JPN01-GOV"), key=selection_order)
        assert len(held) > FIRST_PAGE * 5
        streamed = list(uow.projection.held_blocks_for("JPN01-GOV", UnitSelection(quantity=1)))
        assert streamed == held
        of_key = [b for b in held if block_key(b) == ISSUED]
        middle = of_key[len(of_key) // 2]
        wanted = selection((middle.first, middle.first), (of_key[-1].last, of_key[-1].last))
        found = list(uow.projection.held_blocks_for("JPN01-GOV", wanted))
        assert found == [middle, of_key[-1]]
        across = selection((of_key[1].first, of_key[3].last))
        assert list(uow.projection.held_blocks_for("JPN01-GOV", across)) == of_key[1:4]
        # Serials of the key that Japan does not hold (still Thailand's).
        beyond = of_key[-1].last + 1
        assert list(uow.projection.held_blocks_for("JPN01-GOV", selection((beyond, beyond)))) == []
        assert [
            b.account_id for b in uow.projection.overlapping_blocks(ISSUED, beyond, beyond)
        ] == ["THA01-GOV"]
        overlapping = uow.projection.overlapping_blocks(ISSUED, of_key[1].first, of_key[3].last)
        assert overlapping == of_key[1:4]
        assert uow.projection.overlapping_blocks(ISSUED, of_key[2].last, of_key[2].last) == [
            of_key[2]
        ]
        top = max(b.last for b in uow.projection.active_blocks() if block_key(b) == ISSUED)
        assert uow.projection.next_serial(ISSUED) == top + 1


def test_an_import_batch_answers_held_blocks_as_the_stored_projection_after_a_flush(
    demo: Engine,
) -> None:
    """In a batch (``SqlBatchProjection``), an account's held blocks for a selection are the
    stored ones without those the batch rewrote, merged with the batch's own: the very blocks,
    in the very order, that the stored projection answers once the batch's rows are sent."""
    to_japan = services.TransferOrder("THA01-GOV", "JPN01-GOV", UnitSelection(quantity=1))
    use = services.UseOrder("JPN01-GOV", "JPN01-NDC", UnitSelection(quantity=2), use_year=2026)
    with SqlAlchemyUnitOfWork(demo, write=True) as uow:
        attributes = solar("THA01", "THA", "CA0001", 2022)
        share = services.IssuanceShare("THA01-GOV", 1000, "THA-JCM-2025-001")
        services.issue(uow, services.Issuance("THA01", attributes, (share,)), "test")
        for _ in range(FIRST_PAGE * 2 + 3):
            services.transfer(uow, to_japan, "test")
        uow.commit()
    with SqlAlchemyUnitOfWork(demo, write=True) as uow:
        with uow.batched() as work:
            for _ in range(2):  # blocks written, stored blocks split, and both again
                services.transfer(work, to_japan, "test")
                services.use_for_ndc(work, use, "test")
                services.transfer(work, to_japan, "test")
            of_key = [
                b
                for b in work.projection.held_blocks_for("JPN01-GOV", UnitSelection(quantity=1))
                if block_key(b) == ISSUED
            ]
            selections = [
                UnitSelection(quantity=1),
                UnitSelection(quantity=1, vintage=2022),
                UnitSelection(quantity=1, vintage=2021),
                selection((of_key[0].first, of_key[2].last)),
                selection((of_key[1].first, of_key[1].first), (of_key[-1].last, of_key[-1].last)),
            ]
            batched = [list(work.projection.held_blocks_for("JPN01-GOV", s)) for s in selections]
            again = [list(work.projection.held_blocks_for("JPN01-GOV", s)) for s in selections]
            work.projection.flush()
            stored = [list(uow.projection.held_blocks_for("JPN01-GOV", s)) for s in selections]
            assert batched == again == stored
            assert len(stored[0]) > FIRST_PAGE * 2
            assert len(stored[3]) == 3
            assert len(stored[4]) == 2
        uow.rollback()
