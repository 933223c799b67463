"""The explicit registries of report formats and exports (see :mod:`auditor.report`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from auditor.report.csv_report import render_csv
from auditor.report.data import ReportData
from auditor.report.deletions import export_deletions
from auditor.report.export import Exporter, exporter
from auditor.report.html import render_html
from auditor.report.json_report import render_json
from auditor.report.junit import render_junit
from auditor.report.markdown import render_markdown
from auditor.report.sarif import render_sarif

Reporter = Callable[[ReportData, TextIO], None]
"""An entry of :data:`REPORTERS`: writes the report of ``data`` to ``out``."""

REPORTERS: dict[str, Reporter] = {
    "md": render_markdown,
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
    "html": render_html,
    "csv": render_csv,
}

EXPORTERS: dict[tuple[str, str], Exporter] = {
    ("images", "jsonl"): exporter("images", "jsonl"),
    ("images", "csv"): exporter("images", "csv"),
    ("findings", "jsonl"): exporter("findings", "jsonl"),
    ("findings", "csv"): exporter("findings", "csv"),
    ("signals", "jsonl"): exporter("signals", "jsonl"),
    ("signals", "csv"): exporter("signals", "csv"),
    ("deletions", "jsonl"): export_deletions("jsonl"),
    ("deletions", "csv"): export_deletions("csv"),
}
