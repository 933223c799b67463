"""GitHub annotations and job summary: escaping, selection, order, verdicts and the golden file.

The golden file is ``golden/summary.md``; regenerate it with ``UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.model import Severity, SkipRecord
from auditor.report.builder import from_findings
from auditor.report.data import ReportData
from auditor.report.github import (
    TOP_FINDINGS,
    annotations,
    escape_data,
    escape_property,
    job_summary,
)

from . import HOSTILE, NOW, assert_golden, sample_report

COMMAND = re.compile(r"^::(error|warning|notice) ((?:[a-z]+=[^,:]*)(?:,[a-z]+=[^,:]*)*)::(.*)$")


@pytest.fixture
def data(tmp_path: Path) -> ReportData:
    return sample_report(tmp_path / "a.db")


def unescape(text: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


def test_escape_data_and_property() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("R-1: a, b 50%\n") == "R-1%3A a%2C b 50%25%0A"
    assert escape_data("%0A") == "%250A"  # an escape sequence in the input stays literal


def test_annotation_escapes_message_and_title(data: ReportData) -> None:
    view = data.findings[2]
    finding = replace(
        view.finding,
        message="100% bad\r\n::error file=x::injected",
        title="Consent: missing, really",
    )
    (line,) = annotations(replace(data, findings=(replace(view, finding=finding),)))
    assert "\n" not in line
    assert "\r" not in line
    match = COMMAND.match(line)
    assert match is not None, line
    level, properties, message = match.groups()
    assert level == "error"
    fields = dict(item.split("=", 1) for item in properties.split(","))
    assert fields == {
        "file": "policies/uk-gdpr.yaml",
        "line": "10",
        "title": "R-HIGH%3A Consent%3A missing%2C really",
    }
    assert unescape(fields["title"]) == "R-HIGH: Consent: missing, really"
    assert "100%25 bad%0D%0A::error file=x::injected" in message
    assert unescape(message).startswith("[high fail] 100% bad\r\n::error file=x::injected\n")


def test_only_new_findings_most_severe_first(data: ReportData) -> None:
    lines = annotations(data)
    assert [line.split(" ", 1)[0] for line in lines] == ["::error", "::warning", "::notice"]
    assert "title=R-HIGH" in lines[0]
    assert "img/2.jpg" in lines[0]  # R-CRIT (baselined) and img/1 R-HIGH (suppressed) left out
    assert all("R-CRIT" not in line for line in lines)
    medium = replace(data.findings[2].finding, severity=Severity.MEDIUM)
    reordered = replace(data, findings=(replace(data.findings[2], finding=medium), *data.findings))
    levels = [line.split(" ", 1)[0] for line in annotations(reordered)]
    assert levels == ["::error", "::warning", "::warning", "::notice"]


def test_limit_keeps_a_notice_for_the_rest(data: ReportData) -> None:
    lines = annotations(data, limit=2)
    assert len(lines) == 2
    assert lines[0].startswith("::error ")
    assert lines[1].startswith("::notice title=consent-auditor::2 more new finding(s)")
    assert len(annotations(data, limit=3)) == 3
    with pytest.raises(ValueError, match="at least 1"):
        annotations(data, limit=0)


def test_summary_sections_and_counts(data: ReportData) -> None:
    summary = job_summary(data)
    assert summary.startswith("## Consent auditor\n\n**Failed**: 1 new finding(s) at or above")
    assert "| **Total** | 3 | 1 | 1 | 5 |" in summary
    assert "| 3 | 1 | 1 | 1 |" in summary  # new, baselined, suppressed, fixed
    assert "- suppression for rule R-OK expired on 2024-06-01" in summary
    assert "| expired | R-OK https://photos.example.org/\\* | old waiver |" in summary
    assert "| 1 | 2 | 1 | 3 | 4 |" in summary  # coverage
    assert summary.rstrip().endswith("**not legal advice**.")


def test_summary_escapes_hostile_text(data: ReportData) -> None:
    summary = job_summary(data)
    assert "<script>" not in summary
    assert "[x](javascript:1)" not in summary
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\[x\\](javascript:1)" in summary
    assert "|" in HOSTILE  # so an unescaped value would add a column to its table row
    widths = {7, 5, 4, 3}  # the tables of the summary
    for row in (line for line in summary.splitlines() if line.startswith("| ")):
        assert len(re.findall(r"(?<!\\)\|", row)) - 1 in widths, row


def test_top_findings_table_is_capped(data: ReportData) -> None:
    many = tuple(
        replace(data.findings[2], finding=replace(data.findings[2].finding, fingerprint=str(n)))
        for n in range(TOP_FINDINGS + 3)
    )
    summary = job_summary(replace(data, findings=many))
    assert "... and 3 more: see the SARIF, JSON or HTML report." in summary


def test_new_findings_lead_the_top_table(data: ReportData) -> None:
    rows = [
        line for line in job_summary(data).splitlines() if line.startswith("| ") and "img" in line
    ]
    assert [row.split(" | ")[2] for row in rows] == [
        "new", "new", "new", "baselined", "suppressed",
    ]  # fmt: skip


def test_verdicts(data: ReportData) -> None:
    assert data.gate is not None and data.run is not None
    passed = replace(data, gate=replace(data.gate, blocking=0, exit_code=0))
    assert "**Passed**: no new finding at or above `high` (exit code 0)." in job_summary(passed)
    report_only = replace(data, gate=replace(data.gate, exit_code=0, exit_zero=True))
    summary = job_summary(report_only)
    assert "**Failed**: 1 new finding(s) at or above `high` (exit code 0)." in summary
    assert "Report-only mode (`--exit-zero`)" in summary
    incomplete = replace(data, run=replace(data.run, status="incomplete"))
    assert "**Incomplete**" in job_summary(incomplete)
    assert "**Report only**: no gate was evaluated" in job_summary(replace(data, gate=None))


def test_targets_not_evaluated_are_listed(data: ReportData) -> None:
    skip = SkipRecord("https://down.example/", "target", "unreachable", None, "x")
    summary = job_summary(replace(data, skips=(*data.skips, skip)))
    assert "Targets not fully evaluated:\n\n- https://down.example/: unreachable" in summary


def test_declaration_only_summary(data: ReportData) -> None:
    summary = job_summary(from_findings(data.findings, rules=data.rules, now=NOW))
    assert "Declaration only: nothing was crawled." in summary


def test_golden(data: ReportData) -> None:
    """Compare with ``golden/summary.md`` (nothing volatile); ``UPDATE_GOLDEN=1`` rewrites it."""
    assert_golden("summary.md", job_summary(data))


def test_output_is_stable(tmp_path: Path) -> None:
    first = sample_report(tmp_path / "a.db")
    second = sample_report(tmp_path / "b.db")
    assert job_summary(first) == job_summary(second)
    assert annotations(first) == annotations(second)
