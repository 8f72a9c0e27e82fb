"""Migrations: upgrade head on an empty database of each kind, no drift from the metadata, and
the data a migration derives from the ledger."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.migrations import alembic_config, check_no_drift, upgrade_to_head
from ledger.adapters.sql.orm import metadata
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.log.canonical import JsonValue
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


def test_the_submissions_projection_is_filled_from_the_submissions_already_recorded(
    database_factory: DatabaseFactory,
) -> None:
    """Migration 0006 adds the projection of AEF submissions and fills it from the
    ``aef.submitted`` entries of the ledger it upgrades."""
    url = database_factory.empty_url()
    try:
        command.upgrade(alembic_config(url), "0005")
        engine = create_ledger_engine(url)
        try:
            with SqlAlchemyUnitOfWork(engine, write=True) as uow:
                for party, version in (("THA", "1.0"), ("JPN", "1.0"), ("THA", "1.1")):
                    submission: dict[str, JsonValue] = {
                        "party": party,
                        "reported_year": 2025,
                        "version": version,
                    }
                    uow.log.append("aef.submitted", submission, "test")
                uow.commit()
            upgrade_to_head(url)
            with SqlAlchemyUnitOfWork(engine, write=False) as uow:
                assert uow.projection.submitted_versions("THA", 2025) == ["1.0", "1.1"]
                assert uow.projection.submitted_versions("JPN", 2025) == ["1.0"]
                assert uow.projection.submitted_versions("JPN", 2024) == []
        finally:
            engine.dispose()
    finally:
        database_factory.drop(url)
