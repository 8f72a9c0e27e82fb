"""Successive NDC periods: a Party's projection row holds a list of NDC periods.

The ``party`` row's body (the Party record in canonical JSON) had one optional ``ndc``
declaration; it now has ``ndc_periods``, a list of ``{"declaration", "version"}`` in period
order. The ledger entries are not touched: ``party.registered`` and ``ndc.declared`` keep their
shape and read as a one-period list. Downgrading keeps the first period only (a second period
cannot be represented before this revision).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00
"""

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTY = sa.table("party", sa.column("code", sa.String(3)), sa.column("body", sa.Text()))


def _canonical(body: dict[str, Any]) -> str:
    """The bodies hold strings, integers and null only: sorted keys and no whitespace are their
    RFC 8785 form."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _rewrite(change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    bind = op.get_bind()
    for code, body in bind.execute(sa.select(PARTY.c.code, PARTY.c.body)).all():
        new = _canonical(change(json.loads(body)))
        bind.execute(sa.update(PARTY).where(PARTY.c.code == code).values(body=new))


def _to_periods(body: dict[str, Any]) -> dict[str, Any]:
    if "ndc" not in body:
        return body
    ndc = body.pop("ndc")
    body["ndc_periods"] = [] if ndc is None else [{"declaration": ndc, "version": 1}]
    return body


def _to_single(body: dict[str, Any]) -> dict[str, Any]:
    if "ndc_periods" not in body:
        return body
    periods = body.pop("ndc_periods")
    body["ndc"] = periods[0]["declaration"] if periods else None
    return body


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    _rewrite(_to_periods)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    _rewrite(_to_single)
