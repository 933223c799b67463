"""The findings of a report as CSV (``--format csv``): one row per finding, for spreadsheets.

The columns are those of ``auditor export --what findings --format csv`` (DESIGN 4.3, in the
same order), so a sheet built on one reads the other; ``state`` and ``suppression`` hold the
report's gate state rather than the stored one. Then come the columns a reviewer filters on,
flattened: the suppression's reason, author and expiry, and the repository anchor (file and
line) that SARIF and the annotations use.

Cells are written by :func:`auditor.report.export.write_csv`, so nested values are compact JSON
and every text cell is defused against spreadsheet formula injection exactly as in the exports
(see :mod:`auditor.report.export`): crawled pages control the URLs and the messages quoting them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, TextIO

from auditor.report.data import FindingView, ReportData
from auditor.report.export import write_csv
from auditor.store import FindingExport

__all__ = ["CSV_KEYS", "render_csv"]

CSV_KEYS = (
    *FindingExport.json_keys,
    "suppression_reason",
    "suppression_author",
    "suppression_expires",
    "anchor_path",
    "anchor_line",
)
"""The header row: the finding export keys, then the flattened suppression and anchor."""


@dataclass(frozen=True)
class _Row:
    """Adapts a finding view to the ``to_json()`` records :func:`write_csv` takes."""

    view: FindingView

    def to_json(self) -> dict[str, Any]:
        """Return the row: the export object with the view's state, suppression and anchor."""
        view = self.view
        suppression = view.suppression
        anchor = view.anchor
        return {
            **view.finding.to_json(),
            "state": view.state,
            "suppression": None if suppression is None else asdict(suppression),
            "suppression_reason": None if suppression is None else suppression.reason,
            "suppression_author": None if suppression is None else suppression.author,
            "suppression_expires": None if suppression is None else suppression.expires,
            "anchor_path": None if anchor is None else anchor.path,
            "anchor_line": None if anchor is None else anchor.line,
        }


def render_csv(data: ReportData, out: TextIO) -> None:
    """Write a header and one row per finding of ``data``, in the report's order, to ``out``."""
    write_csv((_Row(view) for view in data.findings), CSV_KEYS, out)
