"""Crawled strings in every output: page titles, alt texts, URLs and header values carrying
HTML, JavaScript, Markdown and spreadsheet formulas are rendered inert in every format.

The case site ``fixtures/hostile/reports_injection/markup/`` is crawled by the shared audit;
each test renders the stored run through the real CLI entry point and checks that no payload
survives as live markup, link or formula, and that the structured formats still parse.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from auditor.cli import main

from .harness import HostileRun, Record, record_outcome

CASE = "reports_injection/markup"
#: Live markup or script the crawled strings try to smuggle into a report.
LIVE_MARKUP = re.compile(r"<script|<img src=x|onerror=|<b>not bold", re.IGNORECASE)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render(args: list[str], out: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run ``auditor ARGS -o OUT`` through the console script's entry point; return OUT."""
    monkeypatch.setattr("sys.argv", ["auditor", *args, "-o", str(out)])
    try:
        main()
    except SystemExit as exc:
        assert exc.code in (0, None), f"auditor {' '.join(args)} exited {exc.code}"
    return out.read_text(encoding="utf-8")


def judge(record: Record, run: HostileRun, fmt: str, problems: list[str], started: float) -> None:
    record_outcome(
        record, f"{CASE}.{fmt}", survived=not problems and run.error is None,
        data_lost=bool(run.lost(CASE)), seconds=time.monotonic() - started,
    )  # fmt: skip
    assert run.error is None, run.error
    assert not problems, problems
    assert not run.lost(CASE)


def crawled_payloads_reached(run: HostileRun) -> bool:
    """The hostile strings really are in the store, so the rendering checks mean something."""
    page = run.page(run.url(CASE, "/")) or {}
    return "<script>" in (page.get("title") or "")


def test_html_report_escapes_everything(
    hostile_run: HostileRun,
    tmp_path: Path,
    record_property: Record,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = time.monotonic()
    text = render(
        ["report", "--db", str(hostile_run.db), "--format", "html"],
        tmp_path / "r.html",
        monkeypatch,
    )
    problems = [m.group(0) for m in LIVE_MARKUP.finditer(text)]
    problems += re.findall(r"""href\s*=\s*["']?\s*javascript:""", text, re.IGNORECASE)
    if not crawled_payloads_reached(hostile_run):
        problems.append("the hostile title is not in the store")
    judge(record_property, hostile_run, "html", problems, started)


def test_markdown_report_escapes_markup_and_links(
    hostile_run: HostileRun,
    tmp_path: Path,
    record_property: Record,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = time.monotonic()
    text = render(
        ["report", "--db", str(hostile_run.db), "--format", "md"], tmp_path / "r.md", monkeypatch
    )
    problems = [m.group(0) for m in LIVE_MARKUP.finditer(text)]
    problems += re.findall(r"\]\(javascript:", text, re.IGNORECASE)
    judge(record_property, hostile_run, "md", problems, started)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["report", "--format", "csv"], id="report"),
        pytest.param(["export", "--what", "images", "--format", "csv"], id="images"),
        pytest.param(["export", "--what", "findings", "--format", "csv"], id="findings"),
        pytest.param(["export", "--what", "signals", "--format", "csv"], id="signals"),
    ],
)
def test_csv_cells_never_start_a_formula(
    hostile_run: HostileRun,
    tmp_path: Path,
    record_property: Record,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    started = time.monotonic()
    text = render([*args, "--db", str(hostile_run.db)], tmp_path / "out.csv", monkeypatch)
    rows = list(csv.reader(io.StringIO(text)))
    problems = [cell for row in rows for cell in row if cell.startswith(FORMULA_START)]
    judge(
        record_property,
        hostile_run,
        f"csv-{args[-3] if args[0] == 'export' else 'report'}",
        problems,
        started,
    )


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit"])
def test_structured_formats_still_parse(
    hostile_run: HostileRun,
    tmp_path: Path,
    record_property: Record,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    started = time.monotonic()
    text = render(
        ["report", "--db", str(hostile_run.db), "--format", fmt], tmp_path / f"r.{fmt}", monkeypatch
    )
    problems = []
    try:
        if fmt == "junit":
            ET.fromstring(text)  # noqa: S314 - our own output, parsed to prove it is well-formed
        else:
            json.loads(text)
    except (ValueError, ET.ParseError) as exc:
        problems.append(f"{fmt} does not parse: {exc}")
    judge(record_property, hostile_run, fmt, problems, started)
