r"""The HTML audit report (``--format html``): one self-contained, offline, printable file.

The sections follow conventions.md 8: header (provenance), executive summary, scope and method,
findings with their evidence, passed checks, the suppressions register, coverage and errors,
dataset aggregates, limitations and appendices (evidence manifest, rule catalogue, glossary).
Everything is computed from :class:`~auditor.report.data.ReportData` (here, and for the
run-level sections in :mod:`auditor.report.html_context`), in its deterministic order; the
Jinja2 template (``templates/report.html.j2``, shipped in the wheel) only lays it out.

Self-contained and offline. The CSS is inline, the charts are inline SVG whose geometry is
computed in Python (:mod:`auditor.report.charts`), and there is no script, web font or remote
image. A Content-Security-Policy meta tag forbids every fetch anyway, so a report opened from an
e-mail or an evidence archive cannot reach the network or leak that it was opened. The image
under audit is never embedded: the report shows its URL, hashes and signals only.

Escaping. Crawled pages control URLs, titles, alt text, header values, skip reasons and the
messages that quote them. The template environment autoescapes every value; no value is ever
marked safe, and no URL from the data becomes a link (URLs are text, so ``javascript:`` URLs are
inert and the printed report shows every URL in full). Control characters, line separators and
bidirectional overrides, which would hide or disguise text, are shown as visible ``\uXXXX``
escapes by the environment's ``finalize`` hook, and very long values are cut with a note.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from itertools import groupby
from typing import Any, TextIO

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from auditor import PROJECT_URL
from auditor.model import FINDING_OUTCOMES, Outcome, Severity
from auditor.report import html_context as sections
from auditor.report.charts import BarChart, bar_chart
from auditor.report.data import FindingState, FindingView, ReportData

__all__ = ["MAX_TEXT", "render_html"]

MAX_TEXT = 2000
"""Longest value shown in full; the rest is cut (the store and ``auditor export`` keep it)."""

TOP_ISSUES = 10
"""Rules listed in the executive summary's top issues."""


_SEVERITIES = tuple(sorted(Severity, key=lambda severity: severity.rank, reverse=True))
_OUTCOMES = tuple(o for o in Outcome if o in FINDING_OUTCOMES)
_OUTCOME_LABELS = {
    Outcome.FAIL: "Fail",
    Outcome.REVIEW: "Review",
    Outcome.INSUFFICIENT_DATA: "Insufficient data",
}
_STATES: tuple[FindingState, ...] = ("new", "baselined", "suppressed")

# Characters that would hide or disguise text: C0/C1 controls (tab and line breaks included, so
# a header value's embedded CR LF stays visible evidence), zero-width characters, bidirectional
# embeddings, overrides and isolates, line/paragraph separators and the byte-order mark.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2069\ufeff]"
)
_NAMED_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}

# Chart geometry, in SVG user units (1 unit = 1 CSS pixel at the default size).


def _visible(text: str) -> str:
    """Return ``text`` with invisible characters as escapes and cut to :data:`MAX_TEXT`."""
    if len(text) > MAX_TEXT:
        rest = len(text) - MAX_TEXT
        text = f"{text[:MAX_TEXT]}\u2026 [{rest} more characters not shown]"
    return _INVISIBLE.sub(
        lambda match: _NAMED_ESCAPES.get(match.group(), f"\\u{ord(match.group()):04x}"), text
    )


def _finalize(value: object) -> object:
    """Make every untrusted string printed by the template visible and bounded.

    ``Markup`` (the template's own macro output) is left alone: it is already escaped HTML.
    """
    if isinstance(value, str) and not isinstance(value, Markup):
        return _visible(value)
    return value


def show(value: object) -> str:
    """Return a stored value as display text: dashes for null, yes/no, lists joined, JSON else."""
    if value is None:
        return "\u2014"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list | tuple) and all(
        isinstance(item, str | int | float) for item in value
    ):
        return ", ".join(str(item) for item in value) if value else "\u2014"
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@functools.cache
def _environment() -> Environment:
    """Return the template environment (built once; the template is compiled on first use)."""
    env = Environment(
        loader=PackageLoader("auditor.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["show"] = show
    return env


@dataclass(frozen=True)
class Verdict:
    """The one-line outcome at the top of the executive summary."""

    label: str
    css: str  # pass | fail | warn
    detail: str


def verdict(data: ReportData) -> Verdict:
    """Return the verdict: the gate's decision for ``auditor check``, else what was recorded."""
    gate = data.gate
    if gate is None:
        if not data.findings:
            return Verdict("No findings", "pass", "No rule produced a finding in this run.")
        new = data.states()["new"]
        return Verdict(
            "Findings recorded",
            "warn",
            f"{len(data.findings)} finding(s), {new} new. No CI gate was applied to this "
            "report; `auditor check` decides pass or fail.",
        )
    threshold = f"at or above {gate.fail_on.value}"
    if gate.exit_zero:
        return Verdict(
            "Report only",
            "fail" if gate.blocking else "pass",
            f"{gate.blocking} new finding(s) {threshold} would block; --exit-zero makes the "
            f"exit code {gate.exit_code}.",
        )
    if gate.exit_code == 0:
        return Verdict("Pass", "pass", f"No new finding {threshold}; exit code 0.")
    if gate.exit_code == 1:
        return Verdict("Fail", "fail", f"{gate.blocking} new finding(s) {threshold}; exit code 1.")
    return Verdict(
        "Incomplete",
        "fail",
        f"The audit did not complete (exit code {gate.exit_code}); see Coverage and errors.",
    )


def _duration(started: str | None, finished: str | None) -> str:
    """Return the run's wall-clock duration, or why it is unknown."""
    if not started or not finished:
        return "not finished"
    try:
        elapsed = datetime.fromisoformat(finished) - datetime.fromisoformat(started)
    except (TypeError, ValueError):  # naive against aware, or not ISO 8601
        return "unknown"
    minutes, seconds = divmod(max(int(elapsed.total_seconds()), 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s" if hours else f"{minutes}m {seconds:02d}s"


def _header(data: ReportData) -> list[tuple[str, object]]:
    run = data.run
    rows: list[tuple[str, object]] = [
        ("Tool version", data.tool_version),
        ("output_format_version", data.format_version),
        ("Mode", data.mode),
        ("Report generated", data.generated_at),
    ]
    if run is None:
        rows.append(("Run", "none: declaration-only check, nothing was crawled"))
    else:
        rows += [
            ("Run id", run.id),
            ("Run status", run.status),
            ("Run recorded by tool version", run.tool_version),
            ("Started", run.started_at),
            ("Finished", run.finished_at or "not finished"),
            ("Duration", _duration(run.started_at, run.finished_at)),
            ("Config sha256", run.config_hash),
            ("Policy packs sha256", run.policy_hash),
        ]
    rows.append(("Config file", data.config_path or "\u2014"))
    return rows


def _count_matrix(data: ReportData) -> list[tuple[str, list[int], int]]:
    counts = data.counts()
    rows = []
    for severity in _SEVERITIES:
        cells = [counts.get((severity.value, outcome.value), 0) for outcome in _OUTCOMES]
        rows.append((severity.value, cells, sum(cells)))
    totals = [sum(row[1][i] for row in rows) for i in range(len(_OUTCOMES))]
    rows.append(("total", totals, sum(totals)))
    return rows


@dataclass(frozen=True)
class Issue:
    """A rule in the top issues: how many findings it produced, by state."""

    rule_id: str
    title: str
    severity: str
    findings: int
    states: Mapping[str, int]


def top_issues(data: ReportData, limit: int = TOP_ISSUES) -> list[Issue]:
    """Return the rules with findings, most severe first, then most findings."""
    by_rule: dict[str, list[FindingView]] = {}
    for view in data.findings:
        by_rule.setdefault(view.finding.rule_id, []).append(view)
    issues = []
    for rule_id, views in by_rule.items():
        first = views[0].finding
        rule = data.rules.get(rule_id)
        states = Counter(view.state for view in views)
        issues.append(
            Issue(
                rule_id=rule_id,
                title=rule.title if rule else first.title,
                severity=first.severity.value,
                findings=len(views),
                states={state: states[state] for state in _STATES},
            )
        )
    issues.sort(key=lambda i: (-Severity(i.severity).rank, -i.findings, i.rule_id))
    return issues[:limit]


def _charts(data: ReportData) -> dict[str, BarChart]:
    severities = Counter(view.finding.severity for view in data.findings)
    jurisdictions = Counter(view.finding.jurisdiction for view in data.findings)
    rules = Counter(view.finding.rule_id for view in data.findings)
    rule_severity = {view.finding.rule_id: view.finding.severity for view in data.findings}
    return {
        "severity": bar_chart(
            "chart-severity",
            "Findings by severity",
            [(s.value, severities.get(s, 0), f"sev-{s.value}") for s in _SEVERITIES],
        ),
        "jurisdiction": bar_chart(
            "chart-jurisdiction",
            "Findings by jurisdiction",
            [(code, n, "bar") for code, n in sorted(jurisdictions.items(), key=_most_first)],
        ),
        "rule": bar_chart(
            "chart-rule",
            "Findings by rule",
            [
                (rule_id, n, f"sev-{rule_severity[rule_id].value}")
                for rule_id, n in sorted(rules.items(), key=_most_first)
            ],
        ),
    }


def _most_first(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


@dataclass(frozen=True)
class FindingItem:
    """One finding as the template shows it, with its anchor id and its image's signals."""

    index: int
    view: FindingView
    outcome_label: str
    evidence: tuple[tuple[str, object], ...]
    signals: tuple[dict[str, Any], ...]
    suppression: tuple[tuple[str, object], ...]


def _finding_groups(data: ReportData) -> list[tuple[str, list[FindingItem]]]:
    """Return the findings grouped by severity, most severe first (the data's order)."""
    items = []
    for index, view in enumerate(data.findings, start=1):
        finding = view.finding
        signals = data.evidence.get(finding.image_url, ()) if finding.image_url else ()
        items.append(
            FindingItem(
                index=index,
                view=view,
                outcome_label=_OUTCOME_LABELS.get(finding.outcome, finding.outcome.value),
                evidence=tuple(sorted(finding.evidence.items())),
                signals=tuple(signal.to_json(with_image_url=False) for signal in signals),
                suppression=_fields(asdict(view.suppression)) if view.suppression else (),
            )
        )
    return [
        (severity.value, list(group))
        for severity, group in groupby(items, key=lambda item: item.view.finding.severity)
    ]


def _fields(values: Mapping[str, object]) -> tuple[tuple[str, object], ...]:
    """Return the set fields of a suppression entry, labelled, in declaration order."""
    return tuple(
        (key.replace("_", " ").capitalize(), value)
        for key, value in values.items()
        if value is not None and value is not False
    )


def _sections(items: Iterable[tuple[str, str, bool]]) -> list[tuple[str, str]]:
    return [(anchor, title) for anchor, title, shown in items if shown]


def render_html(data: ReportData, out: TextIO) -> None:
    """Write the HTML audit report of ``data`` to ``out`` (one self-contained UTF-8 document)."""
    scope = sections.scope(data)
    coverage = sections.coverage(data)
    aggregates = sections.aggregates(data)
    passed = [stat for stat in data.rule_stats if stat.passes]
    context = {
        "data": data,
        "title": (
            f"Image-scraping compliance audit: run {data.run.id}"
            if data.run is not None
            else "Image-scraping compliance audit: declaration check"
        ),
        "header": _header(data),
        "verdict": verdict(data),
        "outcomes": [_OUTCOME_LABELS[outcome] for outcome in _OUTCOMES],
        "count_matrix": _count_matrix(data),
        "states": data.states(),
        "top_issues": top_issues(data),
        "charts": _charts(data),
        "scope": scope,
        "packs": sections.packs(data),
        "groups": _finding_groups(data),
        "passed": passed,
        "coverage": coverage,
        "aggregates": aggregates,
        "per_jurisdiction_columns": sections.PER_JURISDICTION_COLUMNS,
        "severities": [severity.value for severity in _SEVERITIES],
        "project_url": PROJECT_URL,
        "sections": _sections(
            [
                ("summary", "Executive summary", True),
                ("scope", "Scope and method", True),
                ("findings", "Findings", True),
                ("passed", "Passed checks", True),
                ("suppressions", "Suppressions register", True),
                ("coverage", "Coverage and errors", True),
                ("dataset", "Dataset aggregates", aggregates is not None),
                ("limitations", "Limitations", True),
                ("appendices", "Appendices", True),
            ]
        ),
    }
    out.write(_environment().get_template("report.html.j2").render(context))
