"""The CSV report: one row per finding, golden file, and formula defusing of crawled text.

The golden file ``golden/report.csv`` is the CSV of the hostile sample report; after an intended
change, regenerate it with ``UPDATE_GOLDEN=1 .venv/bin/pytest tests/report/test_csv_report.py``
and review the diff.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.report.csv_report import CSV_KEYS, render_csv
from auditor.report.data import ReportData
from auditor.report.export import FORMULA_TRIGGERS
from auditor.store import FindingExport

from . import FORMULA, HOSTILE, assert_golden, sample_report


def render(data: ReportData) -> str:
    out = io.StringIO()
    render_csv(data, out)
    return out.getvalue()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture
def data(tmp_path: Path) -> ReportData:
    return sample_report(tmp_path / "audit.db")


def test_csv_matches_golden_file(data: ReportData) -> None:
    """Regenerate with ``UPDATE_GOLDEN=1`` after an intended change, then review the diff."""
    assert_golden("report.csv", render(data))


def test_header_is_the_finding_export_then_state_suppression_and_anchor(data: ReportData) -> None:
    header = next(csv.reader(io.StringIO(render(data))))
    assert header == list(CSV_KEYS)
    assert header[: len(FindingExport.json_keys)] == list(FindingExport.json_keys)
    assert header[len(FindingExport.json_keys) :] == [
        "suppression_reason",
        "suppression_author",
        "suppression_expires",
        "anchor_path",
        "anchor_line",
    ]


def test_one_row_per_finding_with_state_suppression_and_anchor(data: ReportData) -> None:
    found = rows(render(data))
    assert [row["fingerprint"] for row in found] == [v.finding.fingerprint for v in data.findings]
    assert [row["state"] for row in found] == ["baselined", "suppressed", "new", "new", "new"]
    suppressed = found[1]
    assert suppressed["suppression_reason"] == f"legal hold {HOSTILE}"
    assert suppressed["suppression_author"] == "a.compliance@example.org"
    assert suppressed["suppression_expires"] == "2026-05-01"
    assert json.loads(suppressed["suppression"])["fingerprint"] == "R-HIGH-1"
    assert found[0]["suppression"] == found[0]["suppression_reason"] == ""
    assert (found[0]["anchor_path"], found[0]["anchor_line"]) == ("policies/uk-gdpr.yaml", "10")
    assert json.loads(found[0]["evidence"]) == {"faces": None, "title": HOSTILE}


def test_formula_cells_are_defused(data: ReportData) -> None:
    view = data.findings[1]
    assert view.suppression is not None
    hostile = replace(
        view,
        finding=replace(view.finding, message=FORMULA, title="@SUM(1,2)", site="+cmd"),
        suppression=replace(view.suppression, reason=FORMULA, author="-1+1"),
    )
    [row] = rows(render(replace(data, findings=(hostile,))))
    assert row["message"] == "'" + FORMULA
    assert row["title"] == "'@SUM(1,2)"
    assert row["site"] == "'+cmd"
    assert row["remediation"] == "'-remove it"
    assert row["suppression_reason"] == "'" + FORMULA
    assert row["suppression_author"] == "'-1+1"
    for key, cell in row.items():
        assert not cell.startswith(FORMULA_TRIGGERS), (key, cell)


def test_no_findings_writes_the_header_only(data: ReportData) -> None:
    assert render(replace(data, findings=())) == ",".join(CSV_KEYS) + "\n"
