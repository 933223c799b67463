"""The canonical JSON report: shape, gate states, counts, hostile text and the golden file.

Golden files live in ``tests/report/golden/``; :func:`assert_golden` (also used by the SARIF,
JUnit and GitHub tests) compares a rendered report with one. After an intended change, regenerate
them with ``UPDATE_GOLDEN=1 .venv/bin/pytest tests/report`` and review the diff.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from auditor.report.builder import from_findings
from auditor.report.data import ReportData
from auditor.report.json_report import render_json, report_json

from . import HOSTILE, NOW, assert_golden, sample_report

VOLATILE = "(normalised)"


@pytest.fixture
def data(tmp_path: Path) -> ReportData:
    return sample_report(tmp_path / "a.db")


def rendered(data: ReportData) -> str:
    out = io.StringIO()
    render_json(data, out)
    return out.getvalue()


def test_top_level_keys_are_the_documented_ones_sorted(data: ReportData) -> None:
    text = rendered(data)
    keys = list(json.loads(text))
    assert keys == sorted(keys)
    assert set(keys) == {
        "output_format_version", "generated_at", "tool", "mode", "config_path", "run", "gate",
        "summary", "findings", "rules", "rules_passed", "suppressions", "coverage", "evidence",
        "aggregates", "artifacts",
    }  # fmt: skip
    report = json.loads(text)
    assert report["output_format_version"] == data.format_version
    assert report["tool"]["name"] == "consent-auditor"
    assert report["mode"] == "crawl"
    assert report["run"]["status"] == "complete"
    assert "aggregates" not in report["run"]


def test_findings_carry_gate_state_suppression_and_anchor(data: ReportData) -> None:
    findings = report_json(data)["findings"]
    assert [f["fingerprint"] for f in findings] == [v.finding.fingerprint for v in data.findings]
    assert [f["state"] for f in findings] == ["baselined", "suppressed", "new", "new", "new"]
    assert findings[0]["suppression"] is None
    assert findings[1]["suppression"]["reason"] == f"legal hold {HOSTILE}"
    assert findings[1]["suppression"]["expires"] == "2026-05-01"
    assert findings[2]["anchor"] == {"path": "policies/uk-gdpr.yaml", "line": 10}
    assert findings[0]["rule_id"] == "R-CRIT"
    assert findings[0]["references"] == ["UK GDPR Art. 6"]


def test_summary_counts(data: ReportData) -> None:
    summary = report_json(data)["summary"]
    assert summary["total"] == 5
    assert summary["by_severity"] == {"critical": 1, "high": 3, "medium": 0, "low": 0, "info": 1}
    assert summary["by_outcome"] == {"fail": 3, "review": 1, "insufficient_data": 1}
    assert summary["by_severity_outcome"]["high"] == {"fail": 2, "review": 1}
    assert summary["states"] == {"new": 3, "baselined": 1, "suppressed": 1}


def test_gate_rules_passed_register_and_coverage(data: ReportData) -> None:
    report = report_json(data)
    assert report["gate"]["fail_on"] == "high"
    assert report["gate"]["counted_outcomes"] == ["fail"]
    assert report["gate"]["fixed"] == ["0" * 32]
    passed = {(r["rule_id"], r["passes"]) for r in report["rules_passed"]}
    assert passed == {("R-HIGH", 7), ("R-OK", 9)}
    assert [(s["status"], s["matched"]) for s in report["suppressions"]] == [
        ("active", 1),
        ("expired", 0),
    ]
    assert report["suppressions"][1]["rule"] == "R-OK"
    coverage = report["coverage"]
    assert coverage["skips_total"] == 3
    assert coverage["errors"] == 4
    assert {(s["kind"], s["count"]) for s in coverage["skips_by_reason"]} == {
        ("page", 2),
        ("image", 1),
    }
    assert set(report["rules"]) == {"R-CRIT", "R-HIGH", "R-INFO"}
    assert report["evidence"]["https://photos.example.org/img/1.jpg"][0]["mechanism"] == (
        "x_robots_tag"
    )


def test_hostile_text_is_inert_json_and_round_trips(data: ReportData) -> None:
    text = rendered(data)
    report = json.loads(text)
    assert report["findings"][0]["evidence"]["title"] == HOSTILE
    signal = report["evidence"]["https://photos.example.org/img/1.jpg"][0]
    assert signal["raw_value"] == "\tnoai\r\n=cmd|' /C calc'!A0"
    # Control characters only ever appear escaped, so one string cannot span lines.
    assert "\r" not in text
    assert "\t" not in text
    assert all(line.startswith(" ") or line in "{}" for line in text.splitlines())


def test_declaration_only_report_has_no_run(tmp_path: Path) -> None:
    data = sample_report(tmp_path / "a.db")
    declaration = from_findings(data.findings, rules=data.rules, now=NOW)
    report = report_json(declaration)
    assert report["run"] is None
    assert report["gate"] is None
    assert report["mode"] == "declaration-only"
    assert report["coverage"]["pages"] is None
    assert report["summary"]["total"] == 5


def test_output_is_stable(tmp_path: Path) -> None:
    first = rendered(sample_report(tmp_path / "a.db"))
    second = rendered(sample_report(tmp_path / "b.db"))
    assert first == second


def normalised(data: ReportData) -> str:
    """Render ``data`` with the volatile fields (times, versions, paths) replaced."""
    report: dict[str, Any] = json.loads(rendered(data))
    report["generated_at"] = VOLATILE
    report["tool"]["version"] = VOLATILE
    for key in ("tool_version", "started_at", "finished_at"):
        report["run"][key] = VOLATILE
    for skip in report["coverage"]["skips"]:
        skip["at"] = VOLATILE
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_golden(data: ReportData) -> None:
    """Compare with ``golden/report.json``; regenerate with ``UPDATE_GOLDEN=1``."""
    assert_golden("report.json", normalised(data))


def test_golden_normalisation_hides_only_volatile_fields(data: ReportData) -> None:
    later = replace(data, generated_at="2030-01-01T00:00:00+00:00", tool_version="9.9.9")
    assert normalised(later) == normalised(data)
