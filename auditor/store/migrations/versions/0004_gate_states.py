"""Gate states: baselined and suppressed findings, and the suppressions register.

- ``findings``: ``state`` (``new``, ``baselined`` or ``suppressed``; ``new`` for existing rows)
  and ``suppression_json`` (the suppression entry that matched, NULL otherwise);
- ``suppressions``: one row per entry of the suppressions file a check applied to a run, with
  its status (``active``, ``expired``, ``stale``) and how many findings it matched.

Upgrading keeps every row (plain ``ADD COLUMN`` and a new table; the ``CHECK`` on ``state`` is
declared on the new column). Downgrading drops them (SQLite 3.35 or newer).

This file is a frozen snapshot, like 0001: nothing here is imported from the application.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the finding state columns and the suppressions table."""
    op.add_column(
        "findings",
        sa.Column(
            "state",
            sa.Text(),
            sa.CheckConstraint(
                "state IN ('baselined', 'new', 'suppressed')", name=op.f("ck_findings_state")
            ),
            nullable=False,
            server_default="new",
        ),
    )
    op.add_column("findings", sa.Column("suppression_json", sa.Text(), nullable=True))
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=True),
        sa.Column("rule_id", sa.Text(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("created", sa.Text(), nullable=False),
        sa.Column("expires", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("false_positive", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False, server_default="0"),
        sa.CheckConstraint(
            "status IN ('active', 'expired', 'stale')", name=op.f("ck_suppressions_status")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_suppressions_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
    )
    op.create_index(op.f("ix_suppressions_run_id"), "suppressions", ["run_id"])


def downgrade() -> None:
    """Drop the suppressions table and the finding state columns."""
    op.drop_index(op.f("ix_suppressions_run_id"), "suppressions")
    op.drop_table("suppressions")
    op.drop_column("findings", "suppression_json")
    op.drop_column("findings", "state")
