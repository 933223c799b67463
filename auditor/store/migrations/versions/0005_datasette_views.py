"""Datasette views for the gate: open findings, counts by state, expiring suppressions.

- ``open_findings`` (new): the findings a gate still counts, state ``new`` with outcome ``fail``,
  ``review`` or ``insufficient_data``, one row each with the subject URL and message;
- ``expiring_suppressions`` (new): the suppressions register rows that have an expiry date,
  soonest first, with their status;
- ``findings_by_severity`` (replaced): 0001's counts by run and severity, plus how many of them
  are ``new``, ``baselined`` and ``suppressed`` (the columns 0001 had keep their names and
  meaning, so existing queries still work);
- ``images_without_permission`` (replaced): 0001's columns, now listing images whose usage for
  ``ai-train`` **or** ``genai-train`` is not ``allowed`` (0001 looked at ``ai-train`` only).

The views are plain SQL that SQLite and PostgreSQL both accept. They read ``findings.state``
(0004) and ``suppressions``: a later migration that rebuilds either table on SQLite must drop
them first and create them again after, as 0002 does for ``signals``.

Downgrading drops the new views and restores 0001's definitions of the replaced ones.

This file is a frozen snapshot, like 0001: nothing here is imported from the application.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain SQL that SQLite and PostgreSQL both accept.
VIEWS = {
    "open_findings": """
        SELECT run_id,
               id AS finding_id,
               severity,
               CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2
                             WHEN 'low' THEN 1 ELSE 0 END AS severity_rank,
               rule_id,
               pack,
               outcome,
               subject,
               COALESCE(image_url, page_url, site) AS subject_url,
               site,
               message,
               fingerprint
        FROM findings
        WHERE state = 'new' AND outcome IN ('fail', 'review', 'insufficient_data')
        ORDER BY run_id, severity_rank DESC, rule_id, finding_id
    """,
    "findings_by_severity": """
        SELECT run_id,
               severity,
               CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2
                             WHEN 'low' THEN 1 ELSE 0 END AS severity_rank,
               SUM(CASE WHEN outcome = 'fail' THEN 1 ELSE 0 END) AS fails,
               SUM(CASE WHEN outcome = 'review' THEN 1 ELSE 0 END) AS reviews,
               SUM(CASE WHEN outcome = 'insufficient_data' THEN 1 ELSE 0 END)
                   AS insufficient_data,
               COUNT(*) AS findings,
               SUM(CASE WHEN state = 'new' THEN 1 ELSE 0 END) AS new_findings,
               SUM(CASE WHEN state = 'baselined' THEN 1 ELSE 0 END) AS baselined_findings,
               SUM(CASE WHEN state = 'suppressed' THEN 1 ELSE 0 END) AS suppressed_findings
        FROM findings
        GROUP BY run_id, severity
    """,
    "expiring_suppressions": """
        SELECT run_id,
               id AS suppression_id,
               expires,
               status,
               rule_id,
               scope,
               fingerprint,
               reason,
               author,
               approved_by,
               created,
               false_positive,
               matched
        FROM suppressions
        WHERE expires IS NOT NULL
        ORDER BY expires, run_id, suppression_id
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
        WHERE images.usage_ai_train <> 'allowed' OR images.usage_genai_train <> 'allowed'
    """,
}

# 0001's definitions of the views this revision replaces, restored by the downgrade.
VIEWS_0001 = {
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


def upgrade() -> None:
    """Create the new views and replace the two 0001 views with their wider definitions."""
    for name in VIEWS_0001:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for name, select in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {select.strip()}")


def downgrade() -> None:
    """Drop this revision's views and restore 0001's definitions of the replaced ones."""
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for name, select in VIEWS_0001.items():
        op.execute(f"CREATE VIEW {name} AS {select.strip()}")
