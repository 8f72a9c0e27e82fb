"""Migrations: upgrade head on an empty database of each kind, no drift from the metadata, and
the data a migration derives from the ledger."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, insert, inspect, select

from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.log import SqlLedgerLog
from ledger.adapters.sql.migrations import alembic_config, check_no_drift, upgrade_to_head
from ledger.adapters.sql.orm import metadata, party
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.log.canonical import JsonValue, canonical_bytes
from ledger.registry.codec import from_json
from ledger.registry.model import Party
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
    database_factory: DatabaseFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 0006 adds the projection of AEF submissions and fills it from the
    ``aef.submitted`` entries of the ledger it upgrades."""
    url = database_factory.empty_url()
    # The entries are appended as the service before 0009 did: without the append check, which
    # consults the table of signed checkpoints a database at 0005 does not have yet.
    monkeypatch.setattr(SqlLedgerLog, "check_extendable", lambda _self: None)
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


def test_0007_turns_each_partys_ndc_into_a_list_of_periods_and_back(
    database_factory: DatabaseFactory,
) -> None:
    """Party rows written before successive NDC periods existed read as one-period lists."""
    url = database_factory.empty_url()
    ndc = {
        "ndc_type": "single-year",
        "metric": "GHG",
        "period_start": 2021,
        "period_end": 2030,
        "method": "averaging",
        "target_year": 2030,
        "non_ghg_unit": None,
    }
    before: dict[str, dict[str, Any]] = {
        "JPN": {"code": "JPN", "name": "Japan", "ndc": ndc},
        "CHE": {"code": "CHE", "name": "Switzerland", "ndc": None},
    }
    try:
        command.upgrade(alembic_config(url), "0006")
        engine = create_ledger_engine(url)
        try:
            with engine.begin() as conn:
                for code, body in before.items():
                    conn.execute(insert(party).values(code=code, body=_canonical(body)))
            command.upgrade(alembic_config(url), "0007")
            stored = _bodies(engine)
            assert stored == {
                "JPN": _canonical(
                    {
                        "code": "JPN",
                        "name": "Japan",
                        "ndc_periods": [{"declaration": ndc, "version": 1}],
                    }
                ),
                "CHE": _canonical({"code": "CHE", "name": "Switzerland", "ndc_periods": []}),
            }
            assert (
                from_json(Party, json.loads(stored["JPN"])).ndc_periods[0].declaration.period_end
                == 2030
            )
            command.downgrade(alembic_config(url), "0006")
            assert _bodies(engine) == {code: _canonical(body) for code, body in before.items()}
        finally:
            engine.dispose()
    finally:
        database_factory.drop(url)


def _bodies(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(party.c.code, party.c.body)).all()
    return {str(row.code): str(row.body) for row in rows}


def _canonical(body: dict[str, Any]) -> str:
    return canonical_bytes(body).decode("utf-8")
