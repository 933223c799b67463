"""The Markdown summary of a run or a check (``auditor report --format md``, ``check --md``).

Sections: title, run provenance, the gate's decision (checks only), counts, findings by
severity and outcome, dataset aggregates, top rules, the findings grouped by severity (capped
per severity; the full list is ``auditor export``), skips by reason, and the "not legal
advice" line. Everything is generated from
:class:`~auditor.report.data.ReportData`, in a deterministic order, so the report can be
regenerated at any time without crawling again. Baselined and suppressed findings are listed,
marked with their state.

Escaping. Crawled pages control URLs, titles, alt text, header values and the messages that quote
them, and Markdown renderers turn punctuation into structure (links, images, tables, HTML). Every
value that did not come from this module's own literals goes through :func:`md_escape` before it
is written, policy-pack text and stored identifiers included; the output is therefore plain text
wherever it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TextIO

from auditor.model import FINDING_OUTCOMES, Outcome, Severity
from auditor.report.data import REPORT_FORMAT_VERSION, FindingView, ReportData
from auditor.store import RuleStat

#: Findings listed per severity before the list is cut short.
MAX_FINDINGS_PER_SEVERITY = 50

#: Rules in the "top rules" table.
TOP_RULES = 10

#: Longest text cell; longer values are cut with an ellipsis before escaping.
MAX_CELL = 300

# Characters that are Markdown syntax anywhere in a line: backslash (so escapes cannot be
# undone), code spans, emphasis, attribute lists, links and images, tables, strike-through,
# math on GitHub.
_INLINE = re.compile(r"([\\`*_{}\[\]|~$])")
# C0/C1 controls and Unicode line/paragraph separators: would end the line (a table row, a list
# item) or hide text. They become spaces.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Line starts that open a block: headings, bullet lists, setext underlines and thematic breaks,
# ordered lists ("1." or "1)" followed by a space or the end, so "0.1.0" stays as it is).
_BLOCK_START = re.compile(r"^(#|[-+=]|\d+[.)](?=\s|$))")

_OUTCOME_LABELS = {
    Outcome.FAIL.value: "Fail",
    Outcome.REVIEW.value: "Review",
    Outcome.INSUFFICIENT_DATA.value: "Insufficient data",
}
_OUTCOMES = [outcome for outcome in _OUTCOME_LABELS if outcome in FINDING_OUTCOMES]
_SEVERITIES = sorted(Severity, key=lambda severity: severity.rank, reverse=True)


def md_escape(text: object, *, max_length: int | None = MAX_CELL) -> str:
    """Return ``text`` as inert Markdown text on one line (safe in a table cell or list item).

    Control characters and line breaks become spaces; ``&``, ``<`` and ``>`` become HTML
    entities (so no tag or autolink can form); Markdown punctuation is backslash-escaped; a
    leading ``#``, ``-``, ``+``, ``=`` or ``1.`` is escaped so no heading or list can start. With
    ``max_length``, longer text is cut and ends with an ellipsis.
    """
    value = _CONTROLS.sub(" ", str(text)).strip()
    if max_length is not None and len(value) > max_length:
        value = value[: max_length - 1].rstrip() + "\u2026"
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _INLINE.sub(r"\\\1", value)
    match = _BLOCK_START.match(value)
    if match:
        start = match.group(1)
        cut = len(start) - 1 if start[0].isdigit() else 0  # escape the "." of "1.", else the mark
        value = value[:cut] + "\\" + value[cut:]
    return value


def _table(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    out.write("| " + " | ".join(header) + " |\n")
    out.write("|" + "|".join("---" for _ in header) + "|\n")
    for row in rows:
        out.write("| " + " | ".join(str(cell) for cell in row) + " |\n")
    out.write("\n")


def _write_provenance(data: ReportData, out: TextIO) -> None:
    run = data.run
    title = f"run {run.id}" if run is not None else data.mode
    out.write(f"# Image-scraping compliance audit: {md_escape(title)}\n\n")
    out.write("## Run\n\n")
    rows: list[tuple[str, object]] = [("Mode", md_escape(data.mode))]
    if run is not None:
        rows += [
            ("Run", run.id),
            ("Status", md_escape(run.status)),
            ("Tool version", md_escape(run.tool_version)),
            ("Started", md_escape(run.started_at)),
            ("Finished", md_escape(run.finished_at or "not finished")),
            ("Config sha256", md_escape(run.config_hash)),
            ("Policy packs sha256", md_escape(run.policy_hash)),
        ]
    else:
        rows.append(("Tool version", md_escape(data.tool_version)))
    rows.append(("Report format", REPORT_FORMAT_VERSION))
    _table(out, ("Field", "Value"), rows)


def _write_gate(data: ReportData, out: TextIO) -> None:
    gate = data.gate
    if gate is None:
        return
    out.write("## Gate\n\n")
    states = data.states()
    verdict = "fail" if gate.blocking else "pass"
    if gate.exit_zero:
        verdict += " (report-only: --exit-zero)"
    _table(
        out,
        ("Verdict", "Fail on", "Blocking", "New", "Baselined", "Suppressed", "Fixed"),
        [
            (
                verdict,
                gate.fail_on.value,
                gate.blocking,
                states["new"],
                states["baselined"],
                states["suppressed"],
                len(gate.fixed),
            )
        ],
    )
    for warning in gate.warnings:
        out.write(f"- {md_escape(warning)}\n")
    if gate.warnings:
        out.write("\n")


def _write_counts(data: ReportData, out: TextIO) -> None:
    summary = data.summary
    if summary is not None:
        errors = data.run.counters.errors if data.run is not None else 0
        out.write("## Counts\n\n")
        _table(
            out,
            ("Pages", "Images", "Images fetched", "Skips", "Errors", "Findings"),
            [
                (
                    summary.pages,
                    summary.images,
                    summary.images_fetched,
                    summary.skips,
                    errors,
                    len(data.findings),
                )
            ],
        )
    counts = data.counts()
    out.write("## Findings by severity and outcome\n\n")
    rows = []
    for severity in _SEVERITIES:
        cells = [counts.get((severity.value, outcome), 0) for outcome in _OUTCOMES]
        rows.append((severity.value.capitalize(), *cells, sum(cells)))
    totals = [
        sum(counts.get((severity.value, outcome), 0) for severity in _SEVERITIES)
        for outcome in _OUTCOMES
    ]
    rows.append(("**Total**", *totals, sum(totals)))
    _table(out, ("Severity", *(_OUTCOME_LABELS[o] for o in _OUTCOMES), "Total"), rows)


def _write_dataset(data: ReportData, out: TextIO) -> None:
    """Write the aggregates the dataset rules were evaluated on (absent for older runs)."""
    aggregates = data.aggregates
    if not aggregates:
        return
    facts = aggregates.get("facts", {})
    out.write("## Dataset\n\n")
    _table(
        out,
        ("Aggregate", "Value"),
        [(f"`{md_escape(name)}`", md_escape(value)) for name, value in sorted(facts.items())],
    )
    per_jurisdiction = aggregates.get("per_jurisdiction", {})
    if per_jurisdiction:
        out.write("Expected images per jurisdiction (each image weighted by its likelihood):\n\n")
        _table(
            out,
            ("Jurisdiction", "Images", "With faces", "With GPS", "Collected despite a reservation"),
            [
                (
                    md_escape(code),
                    md_escape(row.get("expected_images")),
                    md_escape(row.get("expected_with_faces")),
                    md_escape(row.get("expected_with_gps")),
                    md_escape(row.get("expected_reserved_collected")),
                )
                for code, row in sorted(per_jurisdiction.items())
            ],
        )


def _write_skips(data: ReportData, out: TextIO) -> None:
    if data.summary is None:
        return
    out.write("## Skips by reason\n\n")
    if data.summary.skip_reasons:
        _table(
            out,
            ("Kind", "Reason", "Count"),
            [
                (md_escape(kind), md_escape(reason), n)
                for kind, reason, n in data.summary.skip_reasons
            ],
        )
    else:
        out.write("No URL was skipped.\n\n")


def _top_rules(stats: Sequence[RuleStat]) -> list[RuleStat]:
    with_findings = [stat for stat in stats if stat.findings]
    with_findings.sort(key=lambda stat: (-stat.findings, -stat.severity.rank, stat.rule_id))
    return with_findings[:TOP_RULES]


def _write_rules(data: ReportData, out: TextIO) -> None:
    out.write("## Top rules\n\n")
    top = _top_rules(data.rule_stats)
    if not top:
        out.write("No rule produced a finding.\n\n")
        return
    _table(
        out,
        ("Rule", "Pack", "Severity", "Title", "Fail", "Review", "Insufficient data", "Pass"),
        [
            (
                md_escape(stat.rule_id),
                md_escape(stat.pack),
                stat.severity.value,
                md_escape(stat.title),
                stat.fails,
                stat.reviews,
                stat.insufficient,
                stat.passes,
            )
            for stat in top
        ],
    )


def _finding_line(view: FindingView) -> str:
    finding = view.finding
    subject = finding.subject_url or finding.subject.value
    state = "" if view.state == "new" else f" [{view.state}]"
    return (
        f"- **{md_escape(finding.rule_id)}** ({_OUTCOME_LABELS[finding.outcome.value].lower()})"
        f"{state}: {md_escape(subject)}: {md_escape(finding.message)}\n"
    )


def _write_findings(data: ReportData, out: TextIO, per_severity: int) -> None:
    out.write("## Findings\n\n")
    if not data.findings:
        out.write("No finding was recorded.\n\n")
        return
    for severity in _SEVERITIES:
        views = [v for v in data.findings if v.finding.severity is severity]
        if not views:
            continue
        out.write(f"### {severity.value.capitalize()}\n\n")
        out.writelines(_finding_line(view) for view in views[:per_severity])
        hidden = len(views) - per_severity
        if hidden > 0:
            out.write(
                f"- ... and {hidden} more {severity.value} finding(s): "
                "see `auditor export --what findings`\n"
            )
        out.write("\n")


def render_markdown(
    data: ReportData,
    out: TextIO,
    *,
    max_findings_per_severity: int = MAX_FINDINGS_PER_SEVERITY,
) -> None:
    """Write the Markdown summary of ``data`` to ``out``."""
    _write_provenance(data, out)
    _write_gate(data, out)
    _write_counts(data, out)
    _write_dataset(data, out)
    _write_rules(data, out)
    _write_findings(data, out, max_findings_per_severity)
    _write_skips(data, out)
    out.write(
        "---\n\n"
        "This report collects evidence about how images are published and what the audited "
        "crawler declares. It is **not legal advice**.\n"
    )
