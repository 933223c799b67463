"""The audit database opens usefully in a real Datasette, in-process and offline.

A realistic run (hostile crawled text included) is written through the public store API, a
check's decisions are recorded on it, and Datasette serves it with the shipped metadata through
its internal ASGI client: no server, no network. The metadata must describe exactly the tables,
views and columns the database has.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from datasette.app import Datasette

from auditor.model import SuppressionInfo, SuppressionStatus
from auditor.store.datasette import datasette_metadata, datasette_metadata_path
from auditor.store.schema import Base
from tests.report import HOSTILE, SITE, write_run

VIEWS = {
    "expiring_suppressions",
    "findings_by_severity",
    "images_without_permission",
    "open_findings",
    "signals_by_mechanism",
}
BASELINED = "R-CRIT-1"
SUPPRESSED = "R-HIGH-1"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write the hostile run to ``audit.db`` with one finding baselined and one suppressed."""
    path = tmp_path_factory.mktemp("datasette") / "audit.db"
    store, run_id = write_run(path)
    with store:
        entry = SuppressionInfo(
            reason=f"legal hold {HOSTILE}",
            author="a.compliance@example.org",
            created="2025-11-01",
            expires="2026-05-01",
            fingerprint=SUPPRESSED,
        )
        old = SuppressionInfo(
            "old waiver",
            "x@example.org",
            "2024-01-01",
            "2024-06-01",
            rule="R-OK",
            scope=f"{SITE}/*",
        )
        forever = SuppressionInfo("no expiry", "y@example.org", "2025-01-01", rule="R-NONE")
        store.record_gate(
            run_id,
            {BASELINED: ("baselined", None), SUPPRESSED: ("suppressed", entry)},
            [
                SuppressionStatus(entry, "active", 1),
                SuppressionStatus(old, "expired", 0),
                SuppressionStatus(forever, "stale", 0),
            ],
        )
    return path


@pytest.fixture
def datasette(database: Path) -> Iterator[Datasette]:
    """Return a Datasette serving ``database`` with the shipped metadata."""
    yield Datasette(files=[str(database)], metadata=datasette_metadata())


def _get(datasette: Datasette, *paths: str) -> list[httpx.Response]:
    """Request ``paths`` from Datasette's in-process client and return the responses."""

    async def fetch() -> list[httpx.Response]:
        await datasette.invoke_startup()
        return [await datasette.client.get(path) for path in paths]

    responses = asyncio.run(fetch())
    for path, response in zip(paths, responses, strict=True):
        assert response.status_code == 200, (path, response.text[:500])
    return responses


def _rows(datasette: Datasette, path: str) -> list[dict[str, Any]]:
    (response,) = _get(datasette, path)
    rows: list[dict[str, Any]] = response.json()
    return rows


def test_the_findings_table_answers_with_facets(datasette: Datasette) -> None:
    (response,) = _get(datasette, "/audit/findings.json?_size=max")
    body = response.json()
    assert len(body["rows"]) == 5
    facets = body["facet_results"]
    assert set(facets) == {"severity", "rule_id", "outcome", "state", "site"}
    states = {item["value"]: item["count"] for item in facets["state"]["results"]}
    assert states == {"new": 3, "baselined": 1, "suppressed": 1}


def test_foreign_keys_render_as_labelled_links(datasette: Datasette) -> None:
    findings = _rows(datasette, "/audit/findings.json?_shape=array&_labels=on&_col=run_id")
    assert {row["run_id"]["label"] for row in findings} == {"2025-11-22T10:00:00+00:00"}
    images = _rows(datasette, "/audit/images.json?_shape=array&_labels=on&_col=site_id")
    assert {row["site_id"]["label"] for row in images} == {SITE}
    contexts = _rows(datasette, "/audit/image_contexts.json?_shape=array&_labels=on")
    assert {row["image_id"]["label"] for row in contexts} == {
        f"{SITE}/img/0.jpg",
        f"{SITE}/img/1.jpg",
    }
    (page,) = _get(datasette, "/audit/images")
    assert '<a href="/audit/sites/1">' in page.text


def test_findings_are_full_text_searchable(datasette: Datasette) -> None:
    hits = _rows(datasette, "/audit/findings.json?_shape=array&_search=collected&_col=fingerprint")
    assert len(hits) == 5
    one = _rows(datasette, "/audit/findings.json?_shape=array&_search=R-CRIT&_col=fingerprint")
    assert [row["fingerprint"] for row in one] == [BASELINED]
    # Search text is escaped, not run as an FTS expression: hostile input neither errors nor leaks.
    assert _rows(datasette, '/audit/findings.json?_shape=array&_search=" OR 1=1 --') == []


def test_crawled_text_is_escaped_in_the_html(datasette: Datasette) -> None:
    (page,) = _get(datasette, "/audit/findings")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_every_view_answers(datasette: Datasette) -> None:
    open_findings = _rows(datasette, "/audit/open_findings.json?_shape=array")
    assert [(row["rule_id"], row["outcome"]) for row in open_findings] == [
        ("R-HIGH", "fail"),
        ("R-HIGH", "review"),
        ("R-INFO", "insufficient_data"),
    ]
    assert open_findings[0]["subject_url"] == f"{SITE}/img/2.jpg"

    by_severity = _rows(datasette, "/audit/findings_by_severity.json?_shape=array&_sort=severity")
    assert [
        (row["severity"], row["findings"], row["new_findings"], row["baselined_findings"],
         row["suppressed_findings"])
        for row in by_severity
    ] == [("critical", 1, 0, 1, 0), ("high", 3, 2, 0, 1), ("info", 1, 1, 0, 0)]  # fmt: skip

    expiring = _rows(datasette, "/audit/expiring_suppressions.json?_shape=array")
    assert [(row["expires"], row["status"]) for row in expiring] == [
        ("2024-06-01", "expired"),
        ("2026-05-01", "active"),
    ]

    without = _rows(datasette, "/audit/images_without_permission.json?_shape=array&_sort=image_url")
    assert [
        (row["image_url"], row["ai_train_usage"], row["genai_train_usage"]) for row in without
    ] == [
        (f"{SITE}/img/0.jpg", "unknown", "unknown"),
        (f"{SITE}/img/1.jpg", "disallowed", "unknown"),
    ]

    mechanisms = _rows(datasette, "/audit/signals_by_mechanism.json?_shape=array")
    assert {row["mechanism"] for row in mechanisms} == {"tdmrep.html", "x_robots_tag"}


def test_canned_queries_take_their_parameters(datasette: Datasette) -> None:
    findings = _rows(datasette, "/audit/findings_for_run.json?_shape=array&run_id=1")
    assert [row["severity"] for row in findings] == ["critical", "high", "high", "high", "info"]
    assert _rows(datasette, "/audit/findings_for_run.json?_shape=array&run_id=2") == []

    expiring = _rows(
        datasette, "/audit/suppressions_expiring_before.json?_shape=array&date=2025-01-01"
    )
    assert [row["reason"] for row in expiring] == ["old waiver"]

    images = _rows(
        datasette, f"/audit/images_without_permission_on_site.json?_shape=array&site={SITE}"
    )
    assert len(images) == 2
    assert (
        _rows(
            datasette,
            "/audit/images_without_permission_on_site.json?_shape=array&site=https://other.example",
        )
        == []
    )


def test_metadata_descriptions_are_served(datasette: Datasette) -> None:
    metadata, page, query = _get(
        datasette, "/-/metadata.json", "/audit/findings", "/audit/findings_for_run?run_id=1"
    )
    served = metadata.json()
    assert served["license"] == "Contains personal data: do not publish"
    findings = served["databases"]["audit"]["tables"]["findings"]
    assert findings["columns"]["state"] in page.text.replace("&#39;", "'")
    assert "A rule outcome other than a pass" in page.text
    assert "Findings of a run" in query.text
    assert "<textarea" not in query.text  # long SQL is hidden


# -- the metadata file covers the schema exactly ---------------------------------------------------


def _database_columns(path: Path) -> dict[str, set[str]]:
    """Return the columns of every table and view of the database (FTS internals left out)."""
    with sqlite3.connect(path) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'findings_fts%' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            name: {row[1] for row in connection.execute(f'PRAGMA table_info("{name}")')}
            for name in names
        }


def _described() -> dict[str, set[str]]:
    tables = datasette_metadata()["databases"]["audit"]["tables"]
    return {name: set(table["columns"]) for name, table in tables.items()}


def test_every_schema_table_and_column_is_described() -> None:
    described = _described()
    for table in Base.metadata.sorted_tables:
        assert table.name in described, f"table {table.name} is not described in metadata.yml"
        assert described[table.name] == {column.name for column in table.columns}, table.name


def test_the_metadata_describes_exactly_the_database(database: Path) -> None:
    described = _described()
    assert _database_columns(database) == described
    assert set(described) - {table.name for table in Base.metadata.sorted_tables} == (
        VIEWS | {"alembic_version"}
    )


def test_every_table_and_column_description_is_filled() -> None:
    tables = datasette_metadata()["databases"]["audit"]["tables"]
    for name, table in tables.items():
        assert isinstance(table["description"], str) and table["description"].strip(), name
        for column, text in table["columns"].items():
            assert isinstance(text, str) and text.strip(), f"{name}.{column}"


def test_the_metadata_can_be_keyed_for_another_file_name() -> None:
    metadata = datasette_metadata("evidence-2025")
    assert set(metadata["databases"]) == {"evidence-2025"}
    assert datasette_metadata_path().name == "metadata.yml"
    assert datasette_metadata_path().is_file()
