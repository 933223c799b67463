"""Manifest mode: collected copies, signals observed now, and resumable checkpoints.

- ``images``: ``source_key`` (the manifest row's key), ``local_path`` (the stored copy the
  bytes were read from) and ``extra_json`` (the manifest's other columns); NULL for crawls;
- ``signals``: ``observed`` (``collection``, or ``now`` for what ``--refetch`` read from the
  live source; ``collection`` for existing rows, which a crawl observed as it collected);
- ``run_checkpoints``: one row per resumable run, written in the same transaction as each batch
  of records: the last manifest key whose records are stored and the running counts, so a
  resumed run continues exactly there.

Upgrading keeps every row (``ADD COLUMN`` and a new table). Downgrading drops them.

This file is a frozen snapshot, like 0001: nothing here is imported from the application.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the collected-copy columns, the signals' ``observed`` and the checkpoints table."""
    op.add_column("images", sa.Column("source_key", sa.Text(), nullable=True))
    op.add_column("images", sa.Column("local_path", sa.Text(), nullable=True))
    op.add_column("images", sa.Column("extra_json", sa.Text(), nullable=True))
    op.add_column(
        "signals",
        sa.Column(
            "observed",
            sa.Text(),
            sa.CheckConstraint(
                "observed IN ('collection', 'now')", name=op.f("ck_signals_observed")
            ),
            nullable=False,
            server_default="collection",
        ),
    )
    op.create_table(
        "run_checkpoints",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("last_key", sa.Text(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("state_json", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_checkpoints_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_checkpoints")),
    )


def downgrade() -> None:
    """Drop the checkpoints table and the new columns."""
    op.drop_table("run_checkpoints")
    op.drop_column("signals", "observed")
    op.drop_column("images", "extra_json")
    op.drop_column("images", "local_path")
    op.drop_column("images", "source_key")
