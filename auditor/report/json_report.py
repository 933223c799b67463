"""The canonical JSON report (``--format json``): everything every other report shows.

One JSON object, keys sorted at every level, two-space indentation, UTF-8 (non-ASCII kept)::

    output_format_version  str      the report shape's version (bumped on incompatible change)
    generated_at           str      when the report was rendered (ISO 8601)
    tool                   {name, version, information_uri}
    mode                   str      crawl | from-db | declaration-only | report
    config_path            str|null the configuration file, relative to the repository
    run                    {id, tool_version, started_at, finished_at, status, config_hash,
                            policy_hash, config, options, counters} | null (declaration-only)
    gate                   {fail_on, counted_outcomes, blocking, exit_code, exit_zero, fixed,
                            warnings} | null (``auditor report``: no gate was evaluated)
    summary                {total, by_severity, by_outcome, by_severity_outcome, states}
    findings               [finding export (DESIGN 4.3) + state, suppression, anchor]
    rules                  {rule id: {pack, jurisdiction, title, severity, subject, references,
                            remediation, tags, anchor}} for the rules of the findings
    rules_passed           [{rule_id, pack, title, severity, passes, not_applicable, fails,
                            reviews, insufficient}] for every rule with at least one pass
    suppressions           [suppression entry + status (active|expired|stale) + matched]
    coverage               {pages, images, images_fetched, errors, skips_total,
                            skips_by_reason: [{kind, reason, count}], skips: [{url, kind,
                            reason, detail, at}], skips_truncated}
    evidence               {image URL: [signal export]} for the images of the findings
    aggregates             dataset aggregates | null
    artifacts              [{path, kind, bytes, sha256}] evidence manifest

Findings are listed in :class:`~auditor.report.data.ReportData` order (most severe first); the
``state`` and ``suppression`` of each finding are the gate's (``new``, ``baselined``,
``suppressed``), which replace whatever the stored row said. Suppressed and baselined findings
are listed like the others, never hidden. Text from crawled pages is kept as it was: JSON string
escaping makes it inert, and consumers that render it must escape it for their own format.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from enum import Enum
from typing import Any, TextIO

from auditor.model import Outcome, Severity
from auditor.report.data import Anchor, FindingView, ReportData
from auditor.report.sarif import INFORMATION_URI, TOOL_NAME

__all__ = ["render_json", "report_json"]


def _plain(value: Any) -> Any:
    """Return ``value`` as JSON data: dataclasses, mappings, tuples and enums are unwrapped."""
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _anchor(anchor: Anchor | None) -> dict[str, Any] | None:
    return None if anchor is None else {"path": anchor.path, "line": anchor.line}


def _finding(view: FindingView) -> dict[str, Any]:
    entry = view.finding.to_json()
    entry["state"] = view.state
    entry["suppression"] = _plain(view.suppression)
    entry["anchor"] = _anchor(view.anchor)
    return entry


def _summary(data: ReportData) -> dict[str, Any]:
    by_severity = {severity.value: 0 for severity in Severity}
    by_outcome = {o.value: 0 for o in (Outcome.FAIL, Outcome.REVIEW, Outcome.INSUFFICIENT_DATA)}
    nested: dict[str, dict[str, int]] = {}
    for (severity, outcome), count in data.counts().items():
        by_severity[severity] = by_severity.get(severity, 0) + count
        by_outcome[outcome] = by_outcome.get(outcome, 0) + count
        nested.setdefault(severity, {})[outcome] = count
    return {
        "total": len(data.findings),
        "by_severity": by_severity,
        "by_outcome": by_outcome,
        "by_severity_outcome": nested,
        "states": data.states(),
    }


def _coverage(data: ReportData) -> dict[str, Any]:
    summary = data.summary
    counters = data.run.counters if data.run is not None else None
    return {
        "pages": summary.pages if summary else None,
        "images": summary.images if summary else None,
        "images_fetched": summary.images_fetched if summary else None,
        "errors": counters.errors if counters else None,
        "skips_total": summary.skips if summary else len(data.skips) + data.skips_truncated,
        "skips_by_reason": [
            {"kind": kind, "reason": reason, "count": count}
            for kind, reason, count in (summary.skip_reasons if summary else ())
        ],
        "skips": _plain(data.skips),
        "skips_truncated": data.skips_truncated,
    }


def report_json(data: ReportData) -> dict[str, Any]:
    """Return the report as JSON data (the object :func:`render_json` writes)."""
    run = None
    if data.run is not None:
        run = _plain(data.run)
        run.pop("aggregates", None)  # reported once, at the top level
    shown = {view.finding.rule_id for view in data.findings}
    rules = {
        rule_id: {key: value for key, value in _plain(rule).items() if key != "id"}
        for rule_id, rule in data.rules.items()
        if rule_id in shown
    }
    return {
        "output_format_version": data.format_version,
        "generated_at": data.generated_at,
        "tool": {
            "name": TOOL_NAME,
            "version": data.tool_version,
            "information_uri": INFORMATION_URI,
        },
        "mode": data.mode,
        "config_path": data.config_path,
        "run": run,
        "gate": _plain(data.gate),
        "summary": _summary(data),
        "findings": [_finding(view) for view in data.findings],
        "rules": rules,
        "rules_passed": [
            {
                "rule_id": stat.rule_id,
                "pack": stat.pack,
                "title": stat.title,
                "severity": stat.severity.value,
                "passes": stat.passes,
                "not_applicable": stat.not_applicable,
                "fails": stat.fails,
                "reviews": stat.reviews,
                "insufficient": stat.insufficient,
            }
            for stat in sorted(data.rule_stats, key=lambda s: (s.pack, s.rule_id))
            if stat.passes
        ],
        "suppressions": [
            {**_plain(status.entry), "status": status.status, "matched": status.matched}
            for status in data.suppressions
        ],
        "coverage": _coverage(data),
        "evidence": {
            url: [signal.to_json(with_image_url=False) for signal in signals]
            for url, signals in data.evidence.items()
        },
        "aggregates": _plain(data.aggregates),
        "artifacts": _plain(data.artifacts),
    }


def render_json(data: ReportData, out: TextIO) -> None:
    """Write the canonical JSON report of ``data`` (see the module docstring)."""
    json.dump(report_json(data), out, indent=2, sort_keys=True, ensure_ascii=False)
    out.write("\n")
