"""Timestamps read back from the database: always timezone-aware UTC.

Every time the service stores is UTC. PostgreSQL returns ``timestamptz`` values with their zone;
SQLite keeps no zone and returns naive datetimes, which are UTC by construction.
"""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def as_utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)
