"""Faces, jurisdiction evidence and dataset aggregates.

- ``images``: ``faces_json`` (the detector's boxes and name; NULL: not examined, like
  ``faces``), ``gps_country`` (ISO country of the EXIF position, offline and coarse; NULL: none
  or not examined) and ``jurisdiction_evidence_json`` (the evidence behind
  ``jurisdictions_json``; ``[]`` for existing rows);
- ``runs``: ``aggregates_json``, the dataset aggregates the dataset rules were evaluated on
  (NULL for existing runs: not computed).

Upgrading keeps every row: all four are plain ``ALTER TABLE ... ADD COLUMN`` on both SQLite and
PostgreSQL. Downgrading drops them (SQLite 3.35 or newer).

This file is a frozen snapshot, like 0001: nothing here is imported from the application.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the new columns."""
    op.add_column("images", sa.Column("faces_json", sa.Text(), nullable=True))
    op.add_column("images", sa.Column("gps_country", sa.Text(), nullable=True))
    op.add_column(
        "images",
        sa.Column("jurisdiction_evidence_json", sa.Text(), nullable=False, server_default="[]"),
    )
    op.add_column("runs", sa.Column("aggregates_json", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the new columns."""
    op.drop_column("runs", "aggregates_json")
    op.drop_column("images", "jurisdiction_evidence_json")
    op.drop_column("images", "gps_country")
    op.drop_column("images", "faces_json")
