"""The Markdown summary: sections, counts, and escaping of hostile crawled text."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.report import REPORTERS
from auditor.report.builder import from_store
from auditor.report.data import ReportData
from auditor.report.markdown import md_escape, render_markdown

from . import HOSTILE, NOW, assert_golden, sample_report, write_run


@pytest.fixture
def stored(tmp_path: Path) -> ReportData:
    """The stored run as ``auditor report`` sees it (states as stored: all new)."""
    store, run_id = write_run(tmp_path / "audit.db")
    with store:
        return from_store(store, run_id, rules={}, now=NOW)


@pytest.fixture
def report(stored: ReportData) -> str:
    out = io.StringIO()
    REPORTERS["md"](stored, out)
    return out.getvalue()


def test_report_has_every_section_in_order(report: str) -> None:
    headings = [line for line in report.splitlines() if line.startswith("#")]
    assert headings == [
        "# Image-scraping compliance audit: run 1",
        "## Run",
        "## Counts",
        "## Findings by severity and outcome",
        "## Top rules",
        "## Findings",
        "### Critical",
        "### High",
        "### Info",
        "## Skips by reason",
    ]
    assert report.rstrip().endswith("It is **not legal advice**.")


def test_report_shows_provenance_and_counts(report: str) -> None:
    assert "| Tool version | 0.1.0 |" in report
    assert "| Status | complete |" in report
    assert f"| Config sha256 | {'c' * 64} |" in report
    assert f"| Policy packs sha256 | {'p' * 64} |" in report
    # pages, images, fetched, skips, errors (from the counters), findings
    assert "| 1 | 2 | 1 | 3 | 4 | 5 |" in report
    assert "| Critical | 1 | 0 | 0 | 1 |" in report
    assert "| High | 2 | 1 | 0 | 3 |" in report
    assert "| Info | 0 | 0 | 1 | 1 |" in report
    assert "| **Total** | 3 | 1 | 1 | 5 |" in report


def test_top_rules_and_skips(report: str) -> None:
    rules = report.split("## Top rules")[1].split("## Findings", maxsplit=1)[0]
    rows = [line for line in rules.splitlines() if line.startswith("| R-")]
    assert rows[0].startswith("| R-HIGH | uk-gdpr | high | High | 2 | 1 | 0 | 7 |")
    assert rows[1].startswith("| R-CRIT | uk-gdpr | critical |")
    assert len(rows) == 2  # R-OK only passed
    skips = report.split("## Skips by reason")[1]
    assert f"| page | {md_escape(HOSTILE)} | 2 |" in skips
    assert "| image | robots\\_disallowed | 1 |" in skips


def test_hostile_text_is_inert(report: str) -> None:
    assert "<script>" not in report
    assert "<" not in report
    assert not re.search(r"(?<!\\)\]\(", report)  # no unescaped "](": no link can form
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\[x\\](javascript:1)" in report
    # Every table row keeps its column count despite the pipes in crawled text.
    for line in report.splitlines():
        if line.startswith("| R-CRIT | uk-gdpr | critical"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 9


def test_findings_are_capped_per_severity(stored: ReportData) -> None:
    out = io.StringIO()
    render_markdown(stored, out, max_findings_per_severity=1)
    high = out.getvalue().split("### High")[1].split("###")[0]
    assert high.count("- **R-HIGH**") == 1
    assert "- ... and 2 more high finding(s): see `auditor export --what findings`" in high


@pytest.mark.parametrize(
    ("hostile", "escaped"),
    [
        (
            "<script>alert(1)</script> | [x](javascript:1)",
            "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\[x\\](javascript:1)",
        ),
        ("![img](http://evil/x.png)", "!\\[img\\](http://evil/x.png)"),
        ("# Heading", "\\# Heading"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("=====", "\\====="),
        ("1. first", "1\\. first"),
        ("12) twelfth", "12\\) twelfth"),
        ("1.5 million", "1.5 million"),
        ("0.1.0", "0.1.0"),
        ("3.", "3\\."),
        ("> quote", "&gt; quote"),
        ("`code` and ``more``", "\\`code\\` and \\`\\`more\\`\\`"),
        ("**bold** _it_ ~~no~~", "\\*\\*bold\\*\\* \\_it\\_ \\~\\~no\\~\\~"),
        ("a\\*b", "a\\\\\\*b"),
        ("line\nbreak\r\u2028end", "line break  end"),
        ("tab\there\x00nul", "tab here nul"),
        ("&amp; &#60;", "&amp;amp; &amp;#60;"),
        ("$x^2$", "\\$x^2\\$"),
        ("    indented code", "indented code"),
        ("<https://autolink.example>", "&lt;https://autolink.example&gt;"),
    ],
)
def test_md_escape_hostile_strings(hostile: str, escaped: str) -> None:
    assert md_escape(hostile) == escaped


def test_md_escape_cuts_long_text() -> None:
    assert md_escape("x" * 400, max_length=10) == "x" * 9 + "\u2026"
    assert md_escape("x" * 400, max_length=None) == "x" * 400
    assert md_escape(42) == "42"


_SPECIAL = "\\`*_{}[]|~$"


@given(st.text())
def test_md_escape_output_is_one_inert_line(value: str) -> None:
    escaped = md_escape(value, max_length=None)
    assert "\n" not in escaped
    assert "\r" not in escaped
    assert "<" not in escaped
    assert ">" not in escaped
    assert not escaped.startswith(("#", "-", "+", "=", " "))
    assert not re.match(r"\d+[.)](\s|$)", escaped)
    # Every Markdown special character is escaped: an odd run of backslashes precedes it.
    for match in re.finditer(r"(\\*)([`*_{}\[\]|~$])", escaped):
        assert len(match.group(1)) % 2 == 1, escaped
    # A backslash is never left dangling at the end (it would escape our next character).
    trailing = len(escaped) - len(escaped.rstrip("\\"))
    assert trailing % 2 == 0


def test_gate_states_are_shown(tmp_path: Path) -> None:
    out = io.StringIO()
    render_markdown(sample_report(tmp_path / "a.db"), out)
    text = out.getvalue()
    assert "## Gate" in text
    assert "[baselined]" in text
    assert "[suppressed]" in text
    assert "<script>" not in text


def test_markdown_matches_its_golden_file(tmp_path: Path) -> None:
    """Compare with ``golden/report.md`` (tool version normalised); ``UPDATE_GOLDEN=1`` rewrites."""
    out = io.StringIO()
    render_markdown(sample_report(tmp_path / "a.db"), out)
    text = re.sub(r"\| Tool version \| [^|]+ \|", "| Tool version | (normalised) |", out.getvalue())
    assert_golden("report.md", text)
