"""SARIF 2.1.0 for GitHub code scanning (``--format sarif``, conventions.md 2).

One ``run`` per file, tool ``consent-auditor``. Its ``rules[]`` describe every rule with at least
one result (sorted by id, so ``ruleIndex`` is stable); each finding becomes one result, suppressed
and baselined findings included (never hidden, conventions.md 6).

Levels. GitHub shows ``level`` for tools without ``security-severity`` and sorts on it, so it is
derived from the finding, never hard-coded to ``error``:

==================  ==========================================================================
outcome             ``level``
==================  ==========================================================================
``fail``            by severity: critical and high ``error``, medium ``warning``, low and
                    info ``note``
``review``          by severity, but at most ``warning`` (a human has to decide)
``insufficient_data``  ``note`` (a fact was missing; nothing was shown to be wrong)
==================  ==========================================================================

A ``review`` or ``insufficient_data`` outcome that the gate counts (``--fail-on-review``,
``--fail-on-insufficient``) is mapped like ``fail``, so the file agrees with the exit code. The
result ``kind`` is left at its default ``fail``: SARIF requires ``level: "none"`` for any other
kind, which would erase the severity; the outcome is in ``properties.outcome``. Each rule carries
``properties["security-severity"]`` (critical 9.5, high 8.0, medium 5.5, low 2.0, none for info)
and the tag ``security``, without which GitHub ignores the score.

Locations. GitHub rejects the whole file when one result has no physical location in a repository
file or has an ``https:`` URI (conventions.md 2.2). Each result points at its finding's
:class:`~auditor.report.data.Anchor` (the ``audit.yaml`` line that put the subject in scope),
else its rule's line in the pack, else line 1 of the configuration file; anything that is not a
relative path is replaced by the next candidate. The crawled URL goes in ``message.text`` and
``properties``, never in the location.

Escaping. The output is JSON written by :func:`json.dumps`, so crawled text cannot break the
structure. SARIF plain-text messages may contain embedded links (``[text](target)``, SARIF
3.11.6), which a crawled page could use to plant a ``javascript:`` link in a viewer; backslashes
and square brackets in messages are therefore backslash-escaped as the specification requires for
literal brackets.

Cap. GitHub accepts at most 25,000 results per run. Above that the most severe are kept (findings
come most severe first) and ``run.properties`` says how many were dropped and where the full list
is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, Literal, TextIO
from urllib.parse import quote

from auditor.model import Outcome, Severity
from auditor.report.data import Anchor, FindingView, ReportData, RuleInfo
from auditor.report.markdown import md_escape

__all__ = [
    "CATALOGUE_URL",
    "INFORMATION_URI",
    "MAX_RESULTS",
    "SARIF_SCHEMA",
    "SECURITY_SEVERITY",
    "TOOL_NAME",
    "SarifLevel",
    "automation_id",
    "render_sarif",
    "result_level",
    "severity_level",
]

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/consent-auditor/consent-auditor"
CATALOGUE_URL = f"{INFORMATION_URI}/blob/main/docs/rule-catalogue.md"
TOOL_NAME = "consent-auditor"

MAX_RESULTS = 25_000
"""Results per run GitHub accepts (https://github.com/github/docs/issues/38085)."""

SarifLevel = Literal["error", "warning", "note"]

_SEVERITY_LEVEL: dict[Severity, SarifLevel] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
}
"""GitHub's numeric score per severity (above 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium)."""

_LEVEL_RANK: dict[SarifLevel, int] = {"note": 0, "warning": 1, "error": 2}
_EMBEDDED_LINK = re.compile(r"([\\\[\]])")
_NOT_CATEGORY = re.compile(r"[^a-z0-9._-]+")
_WORD = re.compile(r"[A-Za-z0-9]+")


def severity_level(severity: Severity) -> SarifLevel:
    """Return the SARIF level of a ``fail`` outcome of this severity (conventions.md 2.2)."""
    return _SEVERITY_LEVEL[severity]


def result_level(
    outcome: Outcome, severity: Severity, counted: tuple[Outcome, ...] = (Outcome.FAIL,)
) -> SarifLevel:
    """Return the level of a finding; the same mapping drives the GitHub annotations.

    Outcomes the gate counts map by severity; an uncounted ``review`` is capped at ``warning``
    because a person still has to judge it, an uncounted ``insufficient_data`` is a ``note``
    because nothing was shown to be wrong.
    """
    level = severity_level(severity)
    if outcome is Outcome.FAIL or outcome in counted:
        return level
    if outcome is Outcome.REVIEW:
        return level if _LEVEL_RANK[level] <= _LEVEL_RANK["warning"] else "warning"
    return "note"


def automation_id(data: ReportData) -> str:
    """Return the SARIF category, so the alerts of different crawlers never close each other's.

    The declared crawler's name when the run recorded it, ``declaration`` for a declaration-only
    check (its findings differ from a crawl's), else ``crawl``.
    """
    name = ""
    crawler = data.run.config.get("crawler") if data.run is not None else None
    if isinstance(crawler, Mapping) and isinstance(crawler.get("name"), str):
        name = _NOT_CATEGORY.sub("-", crawler["name"].lower()).strip("-")
    if not name:
        name = "declaration" if data.mode == "declaration-only" else "crawl"
    return f"auditor/{name}/"


def _message_text(text: str) -> str:
    """Return ``text`` with backslashes and brackets escaped: no SARIF embedded link can form."""
    return _EMBEDDED_LINK.sub(r"\\\1", text)


def _camel_case(text: str) -> str:
    """Return ``text`` as a SARIF rule ``name`` (PascalCase words, punctuation dropped)."""
    return "".join(word[:1].upper() + word[1:] for word in _WORD.findall(text))


def _repo_anchor(anchor: Anchor | None) -> Anchor | None:
    """Return ``anchor`` with forward slashes if it is a relative repository path, else ``None``."""
    if anchor is None:
        return None
    path = anchor.path.replace("\\", "/")
    if not path or ":" in path or PurePosixPath(path).is_absolute():
        return None  # a URL ("https:"), a Windows drive or an absolute path: GitHub rejects it
    return Anchor(path, max(anchor.line, 1))


def _location(view: FindingView, rule: RuleInfo, data: ReportData) -> Anchor:
    """Return the first usable repository location (see the module docstring)."""
    for candidate in (view.anchor, rule.anchor, Anchor(data.config_path or "audit.yaml", 1)):
        usable = _repo_anchor(candidate)
        if usable is not None:
            return usable
    return Anchor("audit.yaml", 1)


def _rule_of(view: FindingView, rules: Mapping[str, RuleInfo]) -> RuleInfo:
    """Return the rule's metadata, or metadata taken from the finding for a rule no pack has."""
    finding = view.finding
    return rules.get(finding.rule_id) or RuleInfo(
        id=finding.rule_id,
        pack=finding.pack,
        jurisdiction=finding.jurisdiction,
        title=finding.title,
        severity=finding.severity,
        subject=finding.subject.value,
        references=finding.references,
        remediation=finding.remediation or "",
    )


def _help_uri(rule_id: str) -> str:
    """Link to the catalogue, scrolled to the rule's row by a text fragment (``#:~:text=``)."""
    return f"{CATALOGUE_URL}#:~:text={quote(rule_id, safe='').replace('-', '%2D')}"


def _descriptor(rule: RuleInfo) -> dict[str, Any]:
    references = "; ".join(rule.references) or "none listed"
    remediation = rule.remediation or "none given"
    properties: dict[str, Any] = {
        "tags": sorted({"security", "compliance", rule.jurisdiction, rule.pack, *rule.tags}),
        "precision": "medium",
    }
    if rule.severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[rule.severity]
    return {
        "id": rule.id,
        "name": _camel_case(rule.title) or _camel_case(rule.id) or rule.id,
        "shortDescription": {"text": rule.title or rule.id},
        "fullDescription": {
            "text": (
                f"{rule.title or rule.id} ({rule.severity.value} severity, {rule.subject} "
                f"subjects, {rule.jurisdiction}, pack {rule.pack}). References: {references}."
            )
        },
        "help": {
            "text": (
                f"Requirement: {rule.title or rule.id}\n"
                f"References: {references}\n"
                f"Remediation: {remediation}"
            ),
            "markdown": (
                f"**Requirement:** {md_escape(rule.title or rule.id, max_length=None)}\n\n"
                "**References:**\n\n"
                + "".join(f"- {md_escape(ref, max_length=None)}\n" for ref in rule.references)
                + f"\n**Remediation:** {md_escape(remediation, max_length=None)}"
            ),
        },
        "helpUri": _help_uri(rule.id),
        "defaultConfiguration": {"level": severity_level(rule.severity)},
        "properties": properties,
    }


def _result(
    view: FindingView, rule: RuleInfo, index: int, data: ReportData, counted: tuple[Outcome, ...]
) -> dict[str, Any]:
    finding = view.finding
    url = finding.subject_url
    text = finding.message if url is None else f"{finding.message} (subject: {url})"
    anchor = _location(view, rule, data)
    evidence = data.evidence.get(finding.image_url, ()) if finding.image_url else ()
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index,
        "level": result_level(finding.outcome, finding.severity, counted),
        "message": {"text": _message_text(text)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": anchor.path},
                    "region": {"startLine": anchor.line},
                }
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": finding.fingerprint},
        "properties": {
            "outcome": finding.outcome.value,
            "severity": finding.severity.value,
            "state": view.state,
            "subject": finding.subject.value,
            "jurisdiction": finding.jurisdiction,
            "pack": finding.pack,
            "site": finding.site,
            "page_url": finding.page_url,
            "image_url": finding.image_url,
            "references": list(finding.references),
            "evidence": dict(finding.evidence),
            "signals": [signal.to_json(with_image_url=False) for signal in evidence],
        },
    }
    if view.state == "suppressed":
        result["suppressions"] = [_suppression(view)]
    elif view.state == "baselined":
        result["baselineState"] = "unchanged"
    else:
        result["baselineState"] = "new"
    return result


def _suppression(view: FindingView) -> dict[str, Any]:
    entry = view.suppression
    if entry is None:  # suppressed without its entry (an old store): still marked as suppressed
        return {"kind": "external", "status": "accepted"}
    justification = (
        f"{entry.reason} (author: {entry.author}; created: {entry.created}; "
        f"expires: {entry.expires or 'never'})"
    )
    properties = {
        key: value
        for key, value in {
            "author": entry.author,
            "created": entry.created,
            "expires": entry.expires,
            "approved_by": entry.approved_by,
            "false_positive": entry.false_positive,
            "rule": entry.rule,
            "scope": entry.scope,
        }.items()
        if value is not None
    }
    return {
        "kind": "external",
        "status": "accepted",
        "justification": justification,
        "properties": properties,
    }


def _utc(stamp: str | None) -> str | None:
    """Return an ISO 8601 time in UTC with a ``Z`` (SARIF 3.9), ``None`` if it cannot be read."""
    try:
        moment = datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _invocation(data: ReportData) -> dict[str, Any]:
    complete = data.run is None or data.run.status == "complete"
    succeeded = complete and (data.gate is None or data.gate.exit_code not in {2, 3})
    invocation: dict[str, Any] = {"executionSuccessful": succeeded}
    if data.run is not None:
        times = {"startTimeUtc": data.run.started_at, "endTimeUtc": data.run.finished_at}
        invocation |= {key: utc for key, stamp in times.items() if (utc := _utc(stamp))}
    notes = list(data.gate.warnings) if data.gate is not None else []
    if not complete and data.run is not None:
        notes.append(f"run {data.run.id} is {data.run.status}: not every target was evaluated")
    if notes:
        invocation["toolExecutionNotifications"] = [
            {"level": "warning", "message": {"text": _message_text(note)}} for note in notes
        ]
    return invocation


def render_sarif(data: ReportData, out: TextIO, *, max_results: int = MAX_RESULTS) -> None:
    """Write ``data`` as a SARIF 2.1.0 log with one run (see the module docstring)."""
    counted = data.gate.counted_outcomes if data.gate is not None else (Outcome.FAIL,)
    kept = data.findings[:max_results]
    infos = {view.finding.rule_id: _rule_of(view, data.rules) for view in kept}
    rule_ids = sorted(infos)
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    results = [
        _result(view, infos[view.finding.rule_id], index[view.finding.rule_id], data, counted)
        for view in kept
    ]
    dropped = len(data.findings) - len(kept)
    properties: dict[str, Any] = {
        "output_format_version": data.format_version,
        "mode": data.mode,
        "results_total": len(data.findings),
        "results_dropped": dropped,
    }
    if dropped:
        properties["results_dropped_note"] = (
            f"{dropped} less severe result(s) left out (GitHub accepts {max_results} per run); "
            "the full list is in `auditor report --format json`"
        )
    if data.gate is not None:
        properties["gate"] = {
            "fail_on": data.gate.fail_on.value,
            "blocking": data.gate.blocking,
            "exit_code": data.gate.exit_code,
            "exit_zero": data.gate.exit_zero,
        }
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": data.tool_version,
                        "semanticVersion": data.tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": [_descriptor(infos[rule_id]) for rule_id in rule_ids],
                    }
                },
                "automationDetails": {"id": automation_id(data)},
                "invocations": [_invocation(data)],
                "results": results,
                "properties": properties,
            }
        ],
    }
    json.dump(log, out, indent=2, sort_keys=True, ensure_ascii=False)
    out.write("\n")
