"""Reports and exports of a stored run; each format lives in its own module.

Both registries are explicit dictionaries built in :mod:`auditor.report.registry` (nothing
registers itself on import) and re-exported here on first use, so importing one reporter's
module (or :mod:`auditor.report.data`) does not load every format:

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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditor.report.export import Exporter
    from auditor.report.markdown import md_escape, render_markdown
    from auditor.report.registry import EXPORTERS, REPORTERS, Reporter

_LOCATIONS = {
    "EXPORTERS": "registry",
    "REPORTERS": "registry",
    "Reporter": "registry",
    "Exporter": "export",
    "md_escape": "markdown",
    "render_markdown": "markdown",
}


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use (PEP 562)."""
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'auditor.report' has no attribute {name!r}")
    return getattr(importlib.import_module(f"auditor.report.{module}"), name)


__all__ = [
    "EXPORTERS",
    "REPORTERS",
    "Exporter",
    "Reporter",
    "md_escape",
    "render_markdown",
]
