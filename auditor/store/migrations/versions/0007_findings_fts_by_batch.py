"""The findings' full-text index on SQLite is filled a batch at a time, not by a row trigger.

0001 kept ``findings_fts`` in sync with three triggers. The insert trigger runs a small program
for every finding written: about 160 us each, a tenth of the crawling process's CPU per image
in the benchmark. This migration drops it; the writer indexes each batch's new findings with
one ``INSERT ... SELECT`` in the same transaction (:mod:`auditor.store.fulltext`), so the index
is exactly as current at every commit as before. The update trigger now fires only when an
indexed column changes (``rule_id``, ``title``, ``message``), not when a finding's ``state``
does. The delete trigger stays. Nothing changes on PostgreSQL (a GIN expression index) or on a
SQLite built without FTS (no index).

Downgrading restores 0001's insert and update triggers; the index itself is kept throughout.

This file is a frozen snapshot, like 0001: nothing here is imported from the application.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("rule_id", "title", "message")


def _fts_module() -> str | None:
    """Return how 0001 created ``findings_fts`` (``fts5``/``fts4``); ``None``: no such index."""
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return None
    sql = connection.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'findings_fts'")
    ).scalar()
    if sql is None:
        return None
    return "fts5" if "fts5" in sql.lower() else "fts4"


def _statements(module: str) -> tuple[str, str]:
    """Return the trigger bodies' insert-new and delete-old statements, as 0001 wrote them."""
    # Only the constants above are interpolated (S608 is a false positive).
    columns = ", ".join(_COLUMNS)
    new_values = ", ".join(f"new.{column}" for column in _COLUMNS)
    old_values = ", ".join(f"old.{column}" for column in _COLUMNS)
    if module == "fts5":
        insert = f"INSERT INTO findings_fts (rowid, {columns}) VALUES (new.id, {new_values});"  # noqa: S608
        delete = (
            f"INSERT INTO findings_fts (findings_fts, rowid, {columns}) "  # noqa: S608
            f"VALUES ('delete', old.id, {old_values});"
        )
    else:
        insert = f"INSERT INTO findings_fts (docid, {columns}) VALUES (new.id, {new_values});"  # noqa: S608
        delete = "DELETE FROM findings_fts WHERE docid = old.id;"
    return insert, delete


def upgrade() -> None:
    """Drop the insert trigger; narrow the update trigger to the indexed columns."""
    module = _fts_module()
    if module is None:
        return
    insert, delete = _statements(module)
    op.execute("DROP TRIGGER IF EXISTS findings_fts_ai")
    op.execute("DROP TRIGGER IF EXISTS findings_fts_au")
    op.execute(
        f"CREATE TRIGGER findings_fts_au AFTER UPDATE OF {', '.join(_COLUMNS)} ON findings "
        f"BEGIN {delete} {insert} END"
    )


def downgrade() -> None:
    """Restore 0001's insert trigger and its update trigger on every column."""
    module = _fts_module()
    if module is None:
        return
    insert, delete = _statements(module)
    op.execute("DROP TRIGGER IF EXISTS findings_fts_au")
    op.execute(f"CREATE TRIGGER findings_fts_ai AFTER INSERT ON findings BEGIN {insert} END")
    op.execute(
        f"CREATE TRIGGER findings_fts_au AFTER UPDATE ON findings BEGIN {delete} {insert} END"
    )
