"""Reports and exports of a stored run; each format lives in its own module.

Both registries are explicit dictionaries built here (nothing registers itself on import):

- :data:`REPORTERS` maps a ``--format`` name to ``(data, out) -> None`` over one
  :class:`~auditor.report.data.ReportData` (built by :mod:`auditor.report.builder` from a stored
  run, or by ``auditor check`` with the gate's states);
- :data:`EXPORTERS` maps ``(--what, --format)`` to ``(store, run_id, out) -> rows written``.

Reports and exports read only the store, so they can be regenerated at any time without
crawling again. Text that came from crawled pages is escaped for the output format
(:func:`~auditor.report.markdown.md_escape`, :func:`~auditor.report.export.defuse`).

The generic entry point is :func:`auditor.report.export.export` (not re-exported here, so the name
keeps referring to the module).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from auditor.report.csv_report import render_csv
from auditor.report.data import ReportData
from auditor.report.export import Exporter, exporter
from auditor.report.html import render_html
from auditor.report.json_report import render_json
from auditor.report.junit import render_junit
from auditor.report.markdown import md_escape, render_markdown
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
}

__all__ = [
    "EXPORTERS",
    "REPORTERS",
    "Exporter",
    "Reporter",
    "md_escape",
    "render_markdown",
]
