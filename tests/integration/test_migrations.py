"""Migrations: upgrade head on an empty database of each kind, and no drift from the metadata."""

from __future__ import annotations

from sqlalchemy import inspect

from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.migrations import check_no_drift, upgrade_to_head
from ledger.adapters.sql.orm import metadata
from tests.conftest import DatabaseFactory


def test_upgrade_head_on_an_empty_database_then_no_drift(database_factory: DatabaseFactory) -> None:
    url = database_factory.empty_url()
    try:
        upgrade_to_head(url)
        check_no_drift(url)
        engine = create_ledger_engine(url)
        try:
            tables = set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
        assert set(metadata.tables) <= tables
    finally:
        database_factory.drop(url)
