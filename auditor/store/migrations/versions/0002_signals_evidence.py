"""Signals and evidence: page-level signals, page evidence, origin files, embedded facts.

- ``pages``: ``headers_json`` (evidence headers of the page response) and ``tdm_meta_json``
  (TDMRep ``<meta>`` pairs), JSON lists of pairs, ``[]`` for existing rows;
- ``sites``: status, HTTP status, body hash and fetch time of ``tdmrep.json`` and ``ai.txt``
  next to the robots.txt ones (NULL for existing rows: not recorded);
- ``images``: ``usage_conflicts_json`` (``[]`` for existing rows), ``xmp_json`` and
  ``c2pa_json`` (NULL: not examined);
- ``signals``: ``page_id`` (foreign key to ``pages``, ON DELETE CASCADE, indexed) for signals
  about a page resource itself, and the ``CHECK`` ``ck_signals_single_subject`` that at most one
  of ``image_id`` and ``page_id`` is set;
- the view ``signals_by_mechanism`` (run, mechanism, scope, evaluation, count) for Datasette.

Upgrading keeps every row. On SQLite the new columns of ``pages``, ``sites`` and ``images`` are
plain ``ALTER TABLE ... ADD COLUMN`` (those tables are referenced by ``ON DELETE CASCADE`` foreign
keys, so they must never be recreated); ``signals``, which nothing references, is rebuilt to gain
the foreign key and the ``CHECK`` (SQLite cannot add constraints), copying its rows and ids, from
the frozen definition below rather than by reflection or alembic's batch mode (whose constraint
order varies from run to run). PostgreSQL gets plain ``ALTER TABLE`` statements throughout.

Downgrading deletes the page-level signals (revision 0001 has nowhere to keep them) and drops
the new columns and the view; image signals and everything else are kept. Dropping columns on
SQLite needs version 3.35 or newer.

This file is a frozen snapshot, like 0001: nothing here is imported from the application.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-29
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORIGIN_FILES = ("tdmrep", "ai_txt")
_SUBJECT_CHECK = "image_id IS NULL OR page_id IS NULL"

# Plain SQL that SQLite and PostgreSQL both accept.
VIEWS = {
    "signals_by_mechanism": """
        SELECT run_id,
               mechanism,
               scope,
               evaluation,
               COUNT(*) AS count
        FROM signals
        GROUP BY run_id, mechanism, scope, evaluation
    """,
}


_SIGNALS_0001_COLUMNS = (
    "id",
    "run_id",
    "image_id",
    "mechanism",
    "scope",
    "source_url",
    "applies_to",
    "raw_value",
    "fetched_at",
    "http_status",
    "parsed",
    "purposes_json",
    "notes_json",
    "token",
    "sha256",
    "evaluation",
)


def _signals_definition(*, with_page_id: bool) -> list[Any]:
    """Return the columns and constraints of ``signals``: 0001's, optionally with ``page_id``."""

    def text(name: str, *, nullable: bool = True, default: str | None = None) -> sa.Column[str]:
        return sa.Column(name, sa.Text(), nullable=nullable, server_default=default)

    def check(column: str, values: Sequence[str]) -> sa.CheckConstraint:
        quoted = ", ".join(repr(value) for value in values)
        return sa.CheckConstraint(f"{column} IN ({quoted})", name=op.f(f"ck_signals_{column}"))

    items: list[Any] = [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=True),
        text("mechanism", nullable=False),
        text("scope", nullable=False),
        text("source_url", nullable=False),
        text("applies_to"),
        text("raw_value"),
        text("fetched_at"),
        sa.Column("http_status", sa.Integer(), nullable=True),
        text("parsed"),
        text("purposes_json", nullable=False, default="{}"),
        text("notes_json", nullable=False, default="[]"),
        text("token"),
        text("sha256"),
        text("evaluation", nullable=False, default="evaluated"),
    ]
    if with_page_id:
        items.append(sa.Column("page_id", sa.Integer(), nullable=True))
    items += [
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_signals_run_id_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_signals_image_id_images"), ondelete="CASCADE"
        ),
        check("scope", ("origin", "page", "response", "embedded", "list")),
        check("evaluation", ("evaluated", "not_evaluated", "error")),
    ]
    if with_page_id:
        items += [
            sa.ForeignKeyConstraint(
                ["page_id"], ["pages.id"], name=op.f("fk_signals_page_id_pages"), ondelete="CASCADE"
            ),
            sa.CheckConstraint(_SUBJECT_CHECK, name=op.f("ck_signals_single_subject")),
        ]
    return items


def _recreate_sqlite_signals(*, with_page_id: bool) -> None:
    """Rebuild ``signals`` on SQLite (which cannot add a constraint), copying rows and ids.

    The table is spelled out rather than left to alembic's batch mode so the new ``CREATE
    TABLE`` lists its constraints in a fixed order: every database gets the same schema text.
    Nothing references ``signals``, so dropping the old table cascades nothing.
    """
    op.create_table("_signals_0002", *_signals_definition(with_page_id=with_page_id))
    columns = ", ".join(_SIGNALS_0001_COLUMNS)
    op.execute(f"INSERT INTO _signals_0002 ({columns}) SELECT {columns} FROM signals")  # noqa: S608
    op.drop_table("signals")  # its indexes go with it
    op.rename_table("_signals_0002", "signals")
    op.create_index(op.f("ix_signals_image_id"), "signals", ["image_id"])
    op.create_index(op.f("ix_signals_run_id_mechanism"), "signals", ["run_id", "mechanism"])
    if with_page_id:
        op.create_index(op.f("ix_signals_page_id"), "signals", ["page_id"])


def _json_list(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=False, server_default="[]")


def upgrade() -> None:
    """Add the columns, the page foreign key and its ``CHECK`` on signals, and the view."""
    op.add_column("pages", _json_list("headers_json"))
    op.add_column("pages", _json_list("tdm_meta_json"))
    for kind in _ORIGIN_FILES:
        op.add_column("sites", sa.Column(f"{kind}_status", sa.Text(), nullable=True))
        op.add_column("sites", sa.Column(f"{kind}_http_status", sa.Integer(), nullable=True))
        op.add_column("sites", sa.Column(f"{kind}_sha256", sa.Text(), nullable=True))
        op.add_column("sites", sa.Column(f"{kind}_fetched_at", sa.Text(), nullable=True))
    op.add_column("images", _json_list("usage_conflicts_json"))
    op.add_column("images", sa.Column("xmp_json", sa.Text(), nullable=True))
    op.add_column("images", sa.Column("c2pa_json", sa.Text(), nullable=True))

    if op.get_bind().dialect.name == "sqlite":
        _recreate_sqlite_signals(with_page_id=True)
    else:
        op.add_column("signals", sa.Column("page_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_signals_page_id_pages"),
            "signals",
            "pages",
            ["page_id"],
            ["id"],
            ondelete="CASCADE",
        )
        op.create_check_constraint(op.f("ck_signals_single_subject"), "signals", _SUBJECT_CHECK)
        op.create_index(op.f("ix_signals_page_id"), "signals", ["page_id"])

    # Views last: on SQLite a view naming ``signals`` would break the recreate's rename.
    for name, select in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {select.strip()}")


def downgrade() -> None:
    """Drop the view and the new columns; page-level signals are deleted."""
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.execute("DELETE FROM signals WHERE page_id IS NOT NULL")
    if op.get_bind().dialect.name == "sqlite":
        _recreate_sqlite_signals(with_page_id=False)
    else:
        op.drop_index(op.f("ix_signals_page_id"), "signals")
        op.drop_constraint(op.f("ck_signals_single_subject"), "signals", type_="check")
        op.drop_constraint(op.f("fk_signals_page_id_pages"), "signals", type_="foreignkey")
        op.drop_column("signals", "page_id")

    # Plain ALTER TABLE ... DROP COLUMN: recreating these tables on SQLite would cascade deletes.
    for column in ("c2pa_json", "xmp_json", "usage_conflicts_json"):
        op.drop_column("images", column)
    for kind in reversed(_ORIGIN_FILES):
        for suffix in ("fetched_at", "sha256", "http_status", "status"):
            op.drop_column("sites", f"{kind}_{suffix}")
    op.drop_column("pages", "tdm_meta_json")
    op.drop_column("pages", "headers_json")
