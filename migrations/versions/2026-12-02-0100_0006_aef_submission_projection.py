"""The projection keeps which AEF versions each Party submitted for each reported year.

An action dated in a reported year whose AEF was submitted is accepted only when the request
restates that year (``ledger.registry.dating``); this table answers the question without a scan
of the log. Like every projection table it is derived from the ledger: the upgrade fills it from
the ``aef.submitted`` entries already recorded.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    table = op.create_table(
        "aef_submission",
        sa.Column("party", sa.String(length=3), nullable=False),
        sa.Column("reported_year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "party", "reported_year", "version", name=op.f("pk_aef_submission")
        ),
    )
    entries = bind.execute(
        sa.text("SELECT seq, body FROM ledger_entry WHERE kind = 'aef.submitted' ORDER BY seq")
    )
    rows = []
    for seq, body in entries:
        payload = json.loads(bytes(body))["payload"]
        rows.append(
            {
                "party": payload["party"],
                "reported_year": payload["reported_year"],
                "version": payload["version"],
                "seq": seq,
            }
        )
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("aef_submission")
