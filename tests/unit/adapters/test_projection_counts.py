"""How often a write transaction counts a projection table's rows (``COUNT_EVERY_ROWS``)."""

from __future__ import annotations

from sqlalchemy import create_engine

from ledger.adapters.sql.projection import COUNT_EVERY_ROWS, _count_due


def test_small_tables_are_counted_in_every_transaction() -> None:
    engine = create_engine("sqlite://")
    rows = COUNT_EVERY_ROWS - 1
    assert all(_count_due(engine, "unit_block", rows) for _ in range(5))
    assert _count_due(engine, "unit_block", 0)


def test_a_large_table_is_counted_once_per_rows_over_count_every_rows_transactions() -> None:
    engine, other = create_engine("sqlite://"), create_engine("sqlite://")
    rows = 3 * COUNT_EVERY_ROWS + 5
    due = [_count_due(engine, "unit_block", rows) for _ in range(9)]
    assert due == [False, False, True] * 3
    # Each table and each database keeps its own turn.
    assert _count_due(engine, "account", 10)
    assert [_count_due(other, "unit_block", rows) for _ in range(3)] == [False, False, True]
