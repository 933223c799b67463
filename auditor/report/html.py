r"""The HTML audit report (``--format html``): one self-contained, offline, printable file.

The sections follow conventions.md 8: header (provenance), executive summary, scope and method,
findings with their evidence, passed checks, the suppressions register, coverage and errors,
dataset aggregates, limitations and appendices (evidence manifest, rule catalogue, glossary).
Everything is computed here from :class:`~auditor.report.data.ReportData`, in its deterministic
order; the Jinja2 template (``templates/report.html.j2``, shipped in the wheel) only lays it out.

Self-contained and offline. The CSS is inline, the charts are inline SVG whose geometry is
computed here, and there is no script, web font or remote image. A Content-Security-Policy meta
tag forbids every fetch anyway, so a report opened from an e-mail or an evidence archive cannot
reach the network or leak that it was opened. The image under audit is never embedded: the
report shows its URL, hashes and signals only.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from itertools import groupby
from typing import Any, TextIO

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from auditor import PROJECT_URL
from auditor.model import FINDING_OUTCOMES, Evaluation, Outcome, Severity
from auditor.report.data import FindingState, FindingView, ReportData

__all__ = ["MAX_TEXT", "bar_chart", "render_html"]

MAX_TEXT = 2000
"""Longest value shown in full; the rest is cut (the store and ``auditor export`` keep it)."""

TOP_ISSUES = 10
"""Rules listed in the executive summary's top issues."""

MAX_CHART_BARS = 20
"""Bars in one chart; the remainder is summed into a last "other" bar."""

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
_CHART_WIDTH = 640
_CHART_LABEL = 190  # right edge of the label column
_CHART_VALUE = 60  # room right of the longest bar for its value
_BAR_HEIGHT = 20
_BAR_GAP = 8
_CHART_PAD = 6
_LABEL_CHARS = 28


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
class Bar:
    """One bar of a horizontal bar chart, with its computed geometry."""

    label: str
    full_label: str
    value: int
    y: int
    width: float
    css: str


@dataclass(frozen=True)
class BarChart:
    """An inline SVG bar chart: the template draws exactly these numbers."""

    id: str
    title: str
    width: int
    height: int
    label_x: int
    bars: tuple[Bar, ...]

    @property
    def value_x(self) -> int:
        """Return where the value column starts: bars begin here too."""
        return self.label_x + 8


def bar_chart(chart_id: str, title: str, items: Sequence[tuple[str, int, str]]) -> BarChart:
    """Lay out ``(label, value, css class)`` bars, longest scaled to the plot width.

    Bars past :data:`MAX_CHART_BARS` are summed into one "other" bar so a crawl with hundreds of
    rules still gives a readable chart (the tables list every rule).
    """
    if len(items) > MAX_CHART_BARS:
        rest = items[MAX_CHART_BARS - 1 :]
        label = f"{len(rest)} others"
        items = [*items[: MAX_CHART_BARS - 1], (label, sum(value for _, value, _ in rest), "bar")]
    plot = _CHART_WIDTH - _CHART_LABEL - 8 - _CHART_VALUE
    top = max((value for _, value, _ in items), default=0) or 1
    bars = []
    for index, (label, value, css) in enumerate(items):
        short = label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "\u2026"
        bars.append(
            Bar(
                label=short,
                full_label=label,
                value=value,
                y=_CHART_PAD + index * (_BAR_HEIGHT + _BAR_GAP),
                width=round(plot * value / top, 1),
                css=css,
            )
        )
    height = 2 * _CHART_PAD + len(bars) * (_BAR_HEIGHT + _BAR_GAP) - _BAR_GAP
    return BarChart(chart_id, title, _CHART_WIDTH, max(height, 0), _CHART_LABEL, tuple(bars))


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
class TargetRow:
    """One configured target as stored with the run."""

    url: object
    max_pages: object
    max_depth: object
    scope: object
    jurisdictions: object
    categories: object


@dataclass(frozen=True)
class Scope:
    """What the run was configured to look at (conventions.md 8.3)."""

    targets: tuple[TargetRow, ...]
    crawl: tuple[tuple[str, object], ...]
    crawler: tuple[tuple[str, object], ...]
    jurisdictions: tuple[str, ...]
    policies: object
    options: tuple[tuple[str, object], ...]


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _scope(data: ReportData) -> Scope | None:
    if data.run is None:
        return None
    config = data.run.config
    targets = []
    codes: set[str] = set()
    raw_targets = config.get("targets")
    for raw in raw_targets if isinstance(raw_targets, list | tuple) else ():
        target = _mapping(raw) or {"url": raw}
        found = target.get("jurisdictions")
        if isinstance(found, list):
            codes.update(str(code) for code in found if code)
        targets.append(
            TargetRow(
                url=target.get("url"),
                max_pages=target.get("max_pages"),
                max_depth=target.get("max_depth"),
                scope=target.get("scope"),
                jurisdictions=found,
                categories=target.get("categories"),
            )
        )
    crawler = _mapping(config.get("crawler"))
    markets = crawler.get("markets")
    if isinstance(markets, list):
        codes.update(str(code) for code in markets if code)
    declared = [(key, value) for key, value in crawler.items() if value not in (None, [], {})]
    return Scope(
        targets=tuple(targets),
        crawl=tuple(sorted(_mapping(config.get("crawl")).items())),
        crawler=tuple(sorted(declared)),
        jurisdictions=tuple(sorted(codes)),
        policies=config.get("policies"),
        options=tuple(sorted(data.run.options.items())),
    )


@dataclass(frozen=True)
class Pack:
    """A policy pack whose rules were evaluated, from the rule metadata."""

    name: str
    jurisdiction: str
    rules: tuple[str, ...]


def _packs(data: ReportData) -> list[Pack]:
    packs: dict[tuple[str, str], list[str]] = {}
    for rule in data.rules.values():
        packs.setdefault((rule.pack, rule.jurisdiction), []).append(rule.id)
    return [Pack(name, code, tuple(sorted(ids))) for (name, code), ids in sorted(packs.items())]


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


@dataclass(frozen=True)
class Coverage:
    """Pages and images attempted, fetched and skipped, and signals not evaluated."""

    counts: tuple[tuple[str, object], ...]
    skip_reasons: tuple[tuple[str, str, int], ...]
    not_evaluated: tuple[tuple[str, str, int], ...]


def _coverage(data: ReportData) -> Coverage | None:
    if data.run is None or data.summary is None:
        return None
    summary = data.summary
    unevaluated = Counter(
        (signal.mechanism, signal.evaluation.value)
        for signals in data.evidence.values()
        for signal in signals
        if signal.evaluation is not Evaluation.EVALUATED
    )
    return Coverage(
        counts=(
            ("Run status", data.run.status),
            ("Pages fetched", summary.pages),
            ("Images seen", summary.images),
            ("Images fetched", summary.images_fetched),
            ("URLs skipped", summary.skips),
            ("Errors", data.run.counters.errors),
        ),
        skip_reasons=summary.skip_reasons,
        not_evaluated=tuple(
            (mechanism, evaluation, n) for (mechanism, evaluation), n in sorted(unevaluated.items())
        ),
    )


@dataclass(frozen=True)
class Aggregates:
    """The dataset aggregates the dataset rules were evaluated on."""

    facts: tuple[tuple[str, object], ...]
    per_jurisdiction: tuple[tuple[str, Mapping[str, Any]], ...]
    other: tuple[tuple[str, object], ...]


_PER_JURISDICTION_COLUMNS = (
    ("expected_images", "Images"),
    ("expected_with_faces", "With faces"),
    ("expected_with_gps", "With GPS"),
    ("expected_reserved_collected", "Collected despite a reservation"),
)


def _aggregates(data: ReportData) -> Aggregates | None:
    if not data.aggregates:
        return None
    values = data.aggregates
    per = _mapping(values.get("per_jurisdiction"))
    return Aggregates(
        facts=tuple(sorted(_mapping(values.get("facts")).items())),
        per_jurisdiction=tuple((code, _mapping(row)) for code, row in sorted(per.items())),
        other=tuple(
            (key, value)
            for key, value in sorted(values.items())
            if key not in {"facts", "per_jurisdiction"}
        ),
    )


def _sections(items: Iterable[tuple[str, str, bool]]) -> list[tuple[str, str]]:
    return [(anchor, title) for anchor, title, shown in items if shown]


def render_html(data: ReportData, out: TextIO) -> None:
    """Write the HTML audit report of ``data`` to ``out`` (one self-contained UTF-8 document)."""
    scope = _scope(data)
    coverage = _coverage(data)
    aggregates = _aggregates(data)
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
        "packs": _packs(data),
        "groups": _finding_groups(data),
        "passed": passed,
        "coverage": coverage,
        "aggregates": aggregates,
        "per_jurisdiction_columns": _PER_JURISDICTION_COLUMNS,
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
