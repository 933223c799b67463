"""Initial schema: runs, sites, pages, images, contexts, signals, findings, rule stats, skips.

Also the Datasette-facing extras: the views ``findings_by_severity`` and
``images_without_permission``, and a full-text index over findings (an FTS5 table kept in sync
by triggers on SQLite, falling back to FTS4; a GIN expression index on PostgreSQL).

This file is a frozen snapshot: the values of the ``CHECK`` constraints are spelled out here
rather than imported, so later changes to the code cannot rewrite history.

Revision ID: 0001
Revises:
Create Date: 2025-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VERDICTS = ("allowed", "disallowed", "unknown")
_SEVERITIES = ("info", "low", "medium", "high", "critical")
_USAGE = ("crawl", "search", "tdm", "ai_train", "genai_train", "ai_input")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _check(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    return sa.CheckConstraint(_in(column, values), name=op.f(f"ck_{table}_{column}"))


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["run_id"], ["runs.id"], name=op.f(f"fk_{table}_run_id_runs"), ondelete="CASCADE"
    )


def _text(name: str, *, nullable: bool = True, default: str | None = None) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable, server_default=default)


def _int(name: str, *, nullable: bool = True, default: str | None = None) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable, server_default=default)


def _create_tables() -> None:
    op.create_table(
        "runs",
        _id(),
        _text("tool_version", nullable=False),
        _text("started_at", nullable=False),
        _text("finished_at"),
        _text("status", nullable=False, default="running"),
        _text("config_hash", nullable=False),
        _text("policy_hash", nullable=False),
        _text("config_json", nullable=False),
        _text("options_json", nullable=False),
        _int("pages", nullable=False, default="0"),
        _int("images", nullable=False, default="0"),
        _int("images_fetched", nullable=False, default="0"),
        _int("skips", nullable=False, default="0"),
        _int("errors", nullable=False, default="0"),
        _text("findings_json", nullable=False, default="{}"),
        _text("by_severity_json", nullable=False, default="{}"),
        _text("passes_json", nullable=False, default="{}"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        _check("runs", "status", ("running", "complete", "incomplete", "failed", "interrupted")),
    )
    op.create_table(
        "sites",
        _id(),
        _int("run_id", nullable=False),
        _text("origin", nullable=False),
        _text("robots_status"),
        _int("robots_http_status"),
        _text("robots_sha256"),
        _text("robots_fetched_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        _run_fk("sites"),
        sa.UniqueConstraint("run_id", "origin", name=op.f("uq_sites_run_id_origin")),
    )
    op.create_table(
        "pages",
        _id(),
        _int("run_id", nullable=False),
        _int("site_id", nullable=False),
        _text("url", nullable=False),
        _text("final_url", nullable=False),
        _int("depth", nullable=False),
        _int("status"),
        _text("content_type"),
        _text("fetched_at", nullable=False),
        _text("title"),
        _text("lang"),
        _text("hreflang_json", nullable=False, default="[]"),
        _text("meta_robots_json", nullable=False, default="[]"),
        _text("license_links_json", nullable=False, default="[]"),
        _int("image_count", nullable=False, default="0"),
        _int("link_count", nullable=False, default="0"),
        sa.Column("truncated", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
        _run_fk("pages"),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_pages_site_id_sites"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("run_id", "url", name=op.f("uq_pages_run_id_url")),
    )
    op.create_index(op.f("ix_pages_site_id"), "pages", ["site_id"])
    op.create_table(
        "images",
        _id(),
        _int("run_id", nullable=False),
        _int("site_id", nullable=False),
        _text("url", nullable=False),
        sa.Column("fetched", sa.Boolean(), nullable=False),
        _text("skip_reason"),
        _text("fetched_at"),
        _int("status"),
        _text("content_type"),
        _text("headers_json", nullable=False, default="[]"),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        _text("sha256"),
        _text("phash"),
        _text("format"),
        _text("mime"),
        _int("width"),
        _int("height"),
        _int("frames"),
        _int("faces"),
        sa.Column("gps", sa.Boolean(), nullable=True),
        sa.Column("gps_lat", sa.Float(), nullable=True),
        sa.Column("gps_lon", sa.Float(), nullable=True),
        _text("exif_datetime"),
        _text("camera_serial"),
        _text("exif_artist"),
        _text("exif_copyright"),
        _text("exif_make"),
        _text("exif_model"),
        _text("extract_error"),
        _text("extract_error_detail"),
        *(_text(f"usage_{purpose}", nullable=False, default="unknown") for purpose in _USAGE),
        _text("jurisdictions_json", nullable=False, default="{}"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
        _run_fk("images"),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_images_site_id_sites"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("run_id", "url", name=op.f("uq_images_run_id_url")),
        *(_check("images", f"usage_{purpose}", _VERDICTS) for purpose in _USAGE),
    )
    op.create_index(op.f("ix_images_site_id"), "images", ["site_id"])
    op.create_index(op.f("ix_images_run_id_sha256"), "images", ["run_id", "sha256"])
    op.create_table(
        "image_contexts",
        _id(),
        _int("image_id", nullable=False),
        _text("page_url", nullable=False),
        _text("kind", nullable=False),
        _text("alt"),
        _text("license"),
        _text("credit_text"),
        _text("copyright_notice"),
        _text("acquire_license_page"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_contexts")),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_image_contexts_image_id_images"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_image_contexts_image_id"), "image_contexts", ["image_id"])
    op.create_table(
        "signals",
        _id(),
        _int("run_id", nullable=False),
        _int("image_id"),
        _text("mechanism", nullable=False),
        _text("scope", nullable=False),
        _text("source_url", nullable=False),
        _text("applies_to"),
        _text("raw_value"),
        _text("fetched_at"),
        _int("http_status"),
        _text("parsed"),
        _text("purposes_json", nullable=False, default="{}"),
        _text("notes_json", nullable=False, default="[]"),
        _text("token"),
        _text("sha256"),
        _text("evaluation", nullable=False, default="evaluated"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
        _run_fk("signals"),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_signals_image_id_images"), ondelete="CASCADE"
        ),
        _check("signals", "scope", ("origin", "page", "response", "embedded", "list")),
        _check("signals", "evaluation", ("evaluated", "not_evaluated", "error")),
    )
    op.create_index(op.f("ix_signals_image_id"), "signals", ["image_id"])
    op.create_index(op.f("ix_signals_run_id_mechanism"), "signals", ["run_id", "mechanism"])
    op.create_table(
        "findings",
        _id(),
        _int("run_id", nullable=False),
        _text("rule_id", nullable=False),
        _text("pack", nullable=False),
        _text("jurisdiction", nullable=False),
        _text("outcome", nullable=False),
        _text("severity", nullable=False),
        _text("subject", nullable=False),
        _text("title", nullable=False, default=""),
        _text("image_url"),
        _text("page_url"),
        _text("site"),
        _text("message", nullable=False),
        _text("references_json", nullable=False, default="[]"),
        _text("evidence_json", nullable=False, default="{}"),
        _text("fingerprint", nullable=False),
        _text("remediation"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        _run_fk("findings"),
        sa.UniqueConstraint("run_id", "fingerprint", name=op.f("uq_findings_run_id_fingerprint")),
        _check("findings", "outcome", ("fail", "insufficient_data", "review")),
        _check("findings", "severity", _SEVERITIES),
        _check("findings", "subject", ("declaration", "site", "image", "dataset")),
    )
    op.create_index(op.f("ix_findings_run_id_severity"), "findings", ["run_id", "severity"])
    op.create_index(op.f("ix_findings_run_id_rule_id"), "findings", ["run_id", "rule_id"])
    op.create_table(
        "rule_stats",
        _int("run_id", nullable=False),
        _text("pack", nullable=False),
        _text("rule_id", nullable=False),
        _text("title", nullable=False, default=""),
        _text("severity", nullable=False),
        _int("passes", nullable=False, default="0"),
        _int("fails", nullable=False, default="0"),
        _int("reviews", nullable=False, default="0"),
        _int("insufficient", nullable=False, default="0"),
        _int("not_applicable", nullable=False, default="0"),
        sa.PrimaryKeyConstraint("run_id", "pack", "rule_id", name=op.f("pk_rule_stats")),
        _run_fk("rule_stats"),
        _check("rule_stats", "severity", _SEVERITIES),
    )
    op.create_table(
        "skips",
        _id(),
        _int("run_id", nullable=False),
        _text("url", nullable=False),
        _text("kind", nullable=False),
        _text("reason", nullable=False),
        _text("detail"),
        _text("at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skips")),
        _run_fk("skips"),
    )
    op.create_index(op.f("ix_skips_run_id_reason"), "skips", ["run_id", "reason"])


# Plain SQL that SQLite and PostgreSQL both accept.
VIEWS = {
    "findings_by_severity": """
        SELECT run_id,
               severity,
               CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2
                             WHEN 'low' THEN 1 ELSE 0 END AS severity_rank,
               SUM(CASE WHEN outcome = 'fail' THEN 1 ELSE 0 END) AS fails,
               SUM(CASE WHEN outcome = 'review' THEN 1 ELSE 0 END) AS reviews,
               SUM(CASE WHEN outcome = 'insufficient_data' THEN 1 ELSE 0 END)
                   AS insufficient_data,
               COUNT(*) AS findings
        FROM findings
        GROUP BY run_id, severity
    """,
    "images_without_permission": """
        SELECT images.run_id AS run_id,
               images.id AS image_id,
               images.url AS image_url,
               sites.origin AS site,
               images.fetched AS fetched,
               images.sha256 AS sha256,
               images.usage_ai_train AS ai_train_usage,
               images.usage_genai_train AS genai_train_usage,
               images.usage_tdm AS tdm_usage
        FROM images
        JOIN sites ON sites.id = images.site_id
        WHERE images.usage_ai_train <> 'allowed'
    """,
}

_FTS_COLUMNS = ("rule_id", "title", "message")


def _sqlite_fts_module(connection: sa.Connection) -> str | None:
    for module, option in (("fts5", "ENABLE_FTS5"), ("fts4", "ENABLE_FTS4")):
        used = connection.exec_driver_sql(f"SELECT sqlite_compileoption_used('{option}')")
        if used.scalar():
            return module
    return None


def _create_sqlite_fts(connection: sa.Connection) -> None:
    module = _sqlite_fts_module(connection)
    if module is None:  # pragma: no cover - every mainstream SQLite build has FTS5 or FTS4
        return
    columns = ", ".join(_FTS_COLUMNS)
    new_values = ", ".join(f"new.{column}" for column in _FTS_COLUMNS)
    old_values = ", ".join(f"old.{column}" for column in _FTS_COLUMNS)
    # content="findings" (double quotes) is the spelling Datasette's FTS detection looks for.
    # The statements below interpolate only the constants above (S608 is a false positive).
    if module == "fts5":
        op.execute(
            f'CREATE VIRTUAL TABLE findings_fts USING fts5({columns}, content="findings", '
            "content_rowid='id')"
        )
        insert = f"INSERT INTO findings_fts (rowid, {columns}) VALUES (new.id, {new_values});"  # noqa: S608
        delete = (
            f"INSERT INTO findings_fts (findings_fts, rowid, {columns}) "  # noqa: S608
            f"VALUES ('delete', old.id, {old_values});"
        )
    else:
        op.execute(f'CREATE VIRTUAL TABLE findings_fts USING fts4({columns}, content="findings")')
        insert = f"INSERT INTO findings_fts (docid, {columns}) VALUES (new.id, {new_values});"  # noqa: S608
        delete = "DELETE FROM findings_fts WHERE docid = old.id;"
    op.execute(f"CREATE TRIGGER findings_fts_ai AFTER INSERT ON findings BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER findings_fts_ad AFTER DELETE ON findings BEGIN {delete} END")
    op.execute(
        f"CREATE TRIGGER findings_fts_au AFTER UPDATE ON findings BEGIN {delete} {insert} END"
    )


def _create_full_text_index() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        _create_sqlite_fts(connection)
    elif connection.dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_findings_fts ON findings USING gin "
            "(to_tsvector('simple', rule_id || ' ' || title || ' ' || message))"
        )


def _drop_full_text_index() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for trigger in ("findings_fts_ai", "findings_fts_ad", "findings_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS findings_fts")
    elif connection.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_findings_fts")


def upgrade() -> None:
    """Create every table, the views and the full-text index."""
    _create_tables()
    for name, select in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {select.strip()}")
    _create_full_text_index()


def downgrade() -> None:
    """Drop everything :func:`upgrade` created."""
    _drop_full_text_index()
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for table in (
        "skips",
        "rule_stats",
        "findings",
        "signals",
        "image_contexts",
        "images",
        "pages",
        "sites",
        "runs",
    ):
        op.drop_table(table)
