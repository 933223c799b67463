"""The findings' full-text index on SQLite, filled one batch at a time by the writer.

A row trigger cost about 160 us per finding (migration 0007 says why it went). Instead, the
writer notes the highest finding id before it inserts a batch (:func:`findings_high_water`) and,
in the same transaction, indexes every finding above it with one ``INSERT ... SELECT``
(:func:`index_findings_after`): about 30 us per finding, and the index is as current at every
commit as the trigger kept it. Finding ids are assigned by SQLite (``max(id) + 1``) inside the
writer's transaction, so the new rows are exactly those above the mark.

Only when the index exists and no insert trigger fills it: PostgreSQL uses a GIN expression
index that needs no help, a SQLite without FTS has no index, and a database still at a revision
before 0007 (only reachable by tests and tools that pin one) keeps its trigger.
"""

from __future__ import annotations

from sqlalchemy import Connection

_BATCH_INDEXED = (
    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'findings_fts') "
    "AND NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'trigger' "
    "AND name = 'findings_fts_ai')"
)


def findings_high_water(connection: Connection) -> int | None:
    """Return the highest finding id when this database's index is filled by batch, else None."""
    if connection.dialect.name != "sqlite":
        return None
    if not connection.exec_driver_sql(_BATCH_INDEXED).scalar():
        return None
    return int(connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM findings").scalar_one())


def index_findings_after(connection: Connection, high_water: int) -> None:
    """Add every finding whose id is above ``high_water`` to the full-text index."""
    connection.exec_driver_sql(
        "INSERT INTO findings_fts (rowid, rule_id, title, message) "
        "SELECT id, rule_id, title, message FROM findings WHERE id > ?",
        (high_water,),
    )
