r"""GitHub Actions output: workflow annotations and the job summary (conventions.md 4).

These are the fallback everyone gets: code scanning (SARIF) needs a public repository or GitHub's
code-security product, annotations and the job summary do not.

Annotations. :func:`annotations` returns workflow command lines
``::error file=<path>,line=<n>,title=<rule id: title>::<message>`` for the **new** findings
only (baselined and suppressed ones do not need attention in a pull request), most severe first,
using the same repository anchor and the same level as SARIF (``error`` -> ``::error``,
``warning`` -> ``::warning``, ``note`` -> ``::notice``; :func:`~auditor.report.sarif.result_level`).
GitHub shows only a few annotations per step, so at most ``limit`` lines are returned and, when
findings are left out, the last line is a notice saying how many and pointing at the summary.

Escaping follows GitHub's toolkit (``@actions/core`` ``command.ts``): in the message ``%``,
``\r`` and ``\n`` become ``%25``, ``%0D`` and ``%0A``; in a property value ``:`` and ``,``
become ``%3A`` and ``%2C`` too. A crawled page therefore cannot end the line and start a
workflow command of its own, nor add properties to ours.

Job summary. :func:`job_summary` returns the Markdown to append to ``$GITHUB_STEP_SUMMARY``:
verdict, counts by severity and outcome, new versus baselined versus suppressed, the top
findings, fixed baseline entries, warnings (expired and stale suppressions, incomplete targets)
and coverage. Every value that is not one of this module's literals goes through
:func:`~auditor.report.markdown.md_escape`.

This module does not use ``from __future__ import annotations``: the name would clash with
:func:`annotations`, and every annotation here is valid at run time on Python 3.11.
"""

from collections.abc import Iterable, Sequence

from auditor.model import Outcome, Severity
from auditor.report.data import FindingView, ReportData
from auditor.report.markdown import md_escape
from auditor.report.sarif import SarifLevel, result_level

__all__ = ["TOP_FINDINGS", "annotations", "escape_data", "escape_property", "job_summary"]

TOP_FINDINGS = 10
"""Findings listed in the job summary's table."""

_COMMAND: dict[SarifLevel, str] = {"error": "error", "warning": "warning", "note": "notice"}
_LEVEL_RANK: dict[SarifLevel, int] = {"error": 0, "warning": 1, "note": 2}
_SEVERITIES = sorted(Severity, key=lambda severity: severity.rank, reverse=True)
_OUTCOME_LABELS = {
    Outcome.FAIL: "Fail",
    Outcome.REVIEW: "Review",
    Outcome.INSUFFICIENT_DATA: "Insufficient data",
}
_OUTCOMES = list(_OUTCOME_LABELS)


def escape_data(text: str) -> str:
    """Return ``text`` escaped for the message of a workflow command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Return ``text`` escaped for a property value (``file``, ``line``, ``title``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _counted(data: ReportData) -> tuple[Outcome, ...]:
    return data.gate.counted_outcomes if data.gate is not None else (Outcome.FAIL,)


def _annotation(view: FindingView, level: SarifLevel) -> str:
    finding = view.finding
    properties = []
    if view.anchor is not None:
        properties += [f"file={escape_property(view.anchor.path)}", f"line={view.anchor.line}"]
    title = f"{finding.rule_id}: {finding.title}" if finding.title else finding.rule_id
    properties.append(f"title={escape_property(title)}")
    message = f"[{finding.severity.value} {finding.outcome.value}] {finding.message}"
    if finding.subject_url:
        message += f"\nSubject: {finding.subject_url}"
    return f"::{_COMMAND[level]} {','.join(properties)}::{escape_data(message)}"


def annotations(data: ReportData, limit: int = 50) -> list[str]:
    """Return workflow command lines for the new findings, most severe first, at most ``limit``.

    Raises :class:`ValueError` when ``limit`` is below 1: there must be room for the notice.
    """
    if limit < 1:
        raise ValueError(f"annotation limit must be at least 1, not {limit}")
    counted = _counted(data)
    leveled = [
        (result_level(v.finding.outcome, v.finding.severity, counted), v)
        for v in data.findings
        if v.state == "new"
    ]
    leveled.sort(key=lambda pair: (_LEVEL_RANK[pair[0]], -pair[1].finding.severity.rank))
    if len(leveled) <= limit:
        return [_annotation(view, level) for level, view in leveled]
    lines = [_annotation(view, level) for level, view in leveled[: limit - 1]]
    more = len(leveled) - (limit - 1)
    lines.append(
        "::notice title=consent-auditor::"
        + escape_data(f"{more} more new finding(s) not annotated: see the job summary and reports")
    )
    return lines


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _verdict(data: ReportData) -> list[str]:
    gate = data.gate
    if gate is None:
        return ["**Report only**: no gate was evaluated (`auditor report`).", ""]
    counted = ", ".join(o.value for o in gate.counted_outcomes)
    incomplete = data.run is not None and data.run.status != "complete"
    if gate.exit_code == 2:  # noqa: PLR2004 - exit-code contract, conventions.md 1
        verdict = "**Error**: configuration or policy error, nothing was evaluated"
    elif gate.exit_code == 3 or incomplete:  # noqa: PLR2004
        verdict = "**Incomplete**: not every target could be evaluated"
    elif gate.blocking:
        verdict = f"**Failed**: {gate.blocking} new finding(s) at or above `{gate.fail_on.value}`"
    else:
        verdict = f"**Passed**: no new finding at or above `{gate.fail_on.value}`"
    lines = [f"{verdict} (exit code {gate.exit_code}).", ""]
    lines.append(f"Gate: fail on `{gate.fail_on.value}` or worse; counted outcomes: {counted}.")
    if gate.exit_zero:
        lines.append("Report-only mode (`--exit-zero`): findings do not fail the job.")
    return [*lines, ""]


def _counts(data: ReportData) -> list[str]:
    counts = data.counts()
    rows = []
    for severity in _SEVERITIES:
        cells = [counts.get((severity.value, o.value), 0) for o in _OUTCOMES]
        rows.append((severity.value.capitalize(), *cells, sum(cells)))
    totals = [sum(counts.get((s.value, o.value), 0) for s in _SEVERITIES) for o in _OUTCOMES]
    rows.append(("**Total**", *totals, sum(totals)))
    states = data.states()
    fixed = len(data.gate.fixed) if data.gate is not None else 0
    return [
        "### Findings by severity and outcome",
        "",
        *_table(("Severity", *(_OUTCOME_LABELS[o] for o in _OUTCOMES), "Total"), rows),
        "### New, baselined, suppressed",
        "",
        *_table(
            ("New", "Baselined", "Suppressed", "Fixed baseline entries"),
            [(states["new"], states["baselined"], states["suppressed"], fixed)],
        ),
    ]


def _top(data: ReportData) -> list[str]:
    lines = ["### Top findings", ""]
    if not data.findings:
        return [*lines, "No finding was recorded.", ""]
    ranked = sorted(data.findings, key=lambda v: (v.state != "new", -v.finding.severity.rank))
    rows = []
    for view in ranked[:TOP_FINDINGS]:
        finding = view.finding
        where = md_escape(f"{view.anchor.path}:{view.anchor.line}") if view.anchor else ""
        rows.append(
            (
                finding.severity.value,
                _OUTCOME_LABELS[finding.outcome].lower(),
                view.state,
                md_escape(finding.rule_id),
                md_escape(finding.subject_url or finding.subject.value),
                md_escape(finding.message),
                where,
            )
        )
    lines += _table(("Severity", "Outcome", "State", "Rule", "Subject", "Message", "Anchor"), rows)
    if len(ranked) > TOP_FINDINGS:
        lines += [
            f"... and {len(ranked) - TOP_FINDINGS} more: see the SARIF, JSON or HTML report.",
            "",
        ]
    return lines


def _warnings(data: ReportData) -> list[str]:
    """Return the gate's warnings and the suppressions that are not in effect (expired, stale)."""
    lines: list[str] = []
    warnings = data.gate.warnings if data.gate is not None else ()
    if warnings:
        lines += ["### Warnings", "", *(f"- {md_escape(w, max_length=None)}" for w in warnings), ""]
    idle = [status for status in data.suppressions if status.status != "active"]
    if idle:
        lines += ["### Suppressions not in effect", ""]
        lines += _table(
            ("Status", "Matches", "Reason", "Author", "Expires"),
            [
                (
                    status.status,
                    md_escape(
                        status.entry.fingerprint or f"{status.entry.rule} {status.entry.scope}"
                    ),
                    md_escape(status.entry.reason),
                    md_escape(status.entry.author),
                    md_escape(status.entry.expires or "never"),
                )
                for status in idle
            ],
        )
    return lines


def _coverage(data: ReportData) -> list[str]:
    lines = ["### Coverage", ""]
    summary = data.summary
    if summary is None:
        return [*lines, "Declaration only: nothing was crawled.", ""]
    errors = data.run.counters.errors if data.run is not None else 0
    lines += _table(
        ("Pages", "Images", "Images fetched", "Skips", "Errors"),
        [(summary.pages, summary.images, summary.images_fetched, summary.skips, errors)],
    )
    targets = [skip for skip in data.skips if skip.kind == "target"]
    if targets:
        lines += ["Targets not fully evaluated:", ""]
        lines += [f"- {md_escape(s.url)}: {md_escape(s.reason)}" for s in targets]
        lines.append("")
    if summary.skip_reasons:
        lines += _table(
            ("Kind", "Reason", "Count"),
            [(md_escape(kind), md_escape(reason), n) for kind, reason, n in summary.skip_reasons],
        )
    return lines


def job_summary(data: ReportData) -> str:
    """Return the Markdown job summary of ``data`` (see the module docstring)."""
    lines = ["## Consent auditor", "", *_verdict(data), *_counts(data), *_top(data)]
    lines += [*_warnings(data), *_coverage(data)]
    lines.append("Evidence for review; **not legal advice**.")
    return "\n".join(lines) + "\n"
