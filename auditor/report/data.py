"""What every report format renders: one frozen :class:`ReportData`, built once per report.

Reporters (``html.py``, ``sarif.py``, ``junit.py``, ``json_report.py``, ``csv_report.py``,
``github.py`` ...) are functions ``(data: ReportData, out: TextIO) -> None`` registered in
:data:`auditor.report.REPORTERS`; none of them reads the store or the policy packs itself, so
``auditor report`` (from a stored run) and ``auditor check`` (a fresh crawl, a re-evaluation
``--from-db`` or ``--declaration-only``) render exactly the same data the same way.

Findings carry their gate **state**: ``new``, ``baselined`` (its fingerprint is in the
baseline) or ``suppressed`` (an active suppression matched it; the suppression travels with it).
Suppressed and baselined findings are never hidden: every format shows them, marked.

Each finding also carries an :class:`Anchor`: the repository file and line that caused it (the
``audit.yaml`` line of the declaration field or of the target that put the site in scope, else
the rule's line in its pack). SARIF needs a physical location in a repository file for every
result (conventions.md 2.2); annotations use the same anchor.

Everything in here that came from crawled pages (URLs, messages quoting them, raw signal values)
is untrusted text: reporters escape it for their format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from auditor.model import (
    Outcome,
    Severity,
    SkipRecord,
    SuppressionInfo,
    SuppressionStatus,
    frozen_map,
)

if TYPE_CHECKING:
    from auditor.store import FindingExport, RuleStat, RunRow, RunSummary, SignalExport

__all__ = [
    "REPORT_FORMAT_VERSION",
    "Anchor",
    "Artifact",
    "FindingState",
    "FindingView",
    "GateSummary",
    "ReportData",
    "RuleInfo",
    "SuppressionInfo",
    "SuppressionStatus",
]

REPORT_FORMAT_VERSION = "2"
"""Version of every report's shape (``output_format_version``); bump on incompatible change."""

FindingState = Literal["new", "baselined", "suppressed"]


@dataclass(frozen=True)
class Anchor:
    """A repository file and 1-based line a finding is attributed to (SARIF, annotations)."""

    path: str  # relative to the repository (the working directory), with forward slashes
    line: int


@dataclass(frozen=True)
class FindingView:
    """A stored or freshly evaluated finding, with its gate state and repository anchor."""

    finding: FindingExport
    state: FindingState = "new"
    suppression: SuppressionInfo | None = None
    anchor: Anchor | None = None


@dataclass(frozen=True)
class RuleInfo:
    """A rule's metadata as the packs define it (SARIF ``rules[]``, the HTML catalogue)."""

    id: str
    pack: str
    jurisdiction: str
    title: str
    severity: Severity
    subject: str
    references: tuple[str, ...]
    remediation: str
    tags: tuple[str, ...] = ()
    anchor: Anchor | None = None  # the rule's line in its pack file


@dataclass(frozen=True)
class GateSummary:
    """What ``auditor check`` decided; ``None`` in :class:`ReportData` for ``auditor report``."""

    fail_on: Severity
    counted_outcomes: tuple[Outcome, ...]  # fail, plus review/insufficient_data when asked
    blocking: int  # new findings at or above the threshold
    exit_code: int
    exit_zero: bool
    fixed: tuple[str, ...] = ()  # baseline fingerprints no longer found
    warnings: tuple[str, ...] = ()  # expired/stale suppressions, incomplete targets ...


@dataclass(frozen=True)
class Artifact:
    """One input or output of the audit in the evidence manifest (path, bytes, sha256)."""

    path: str
    kind: str  # database | config | policy | baseline | suppressions
    bytes: int
    sha256: str


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, frozen, in a deterministic order.

    ``findings`` are sorted most severe first, then by rule id, subject URL and fingerprint.
    ``run``, ``summary`` and ``aggregates`` are ``None`` for a declaration-only check (nothing
    was crawled); ``evidence`` maps the image URLs of the findings to their stored signals.
    """

    tool_version: str
    generated_at: str
    findings: tuple[FindingView, ...]
    rules: Mapping[str, RuleInfo]
    run: RunRow | None = None
    summary: RunSummary | None = None
    rule_stats: tuple[RuleStat, ...] = ()
    skips: tuple[SkipRecord, ...] = ()
    skips_truncated: int = 0  # skips left out of ``skips`` (the summary still counts them)
    aggregates: Mapping[str, Any] | None = None
    evidence: Mapping[str, tuple[SignalExport, ...]] = field(default_factory=frozen_map)
    suppressions: tuple[SuppressionStatus, ...] = ()
    gate: GateSummary | None = None
    artifacts: tuple[Artifact, ...] = ()
    config_path: str | None = None
    mode: Literal["crawl", "from-db", "declaration-only", "report"] = "report"
    format_version: str = REPORT_FORMAT_VERSION

    def counts(self) -> dict[tuple[str, str], int]:
        """Count findings per (severity, outcome), over every finding shown."""
        out: dict[tuple[str, str], int] = {}
        for view in self.findings:
            key = (view.finding.severity.value, view.finding.outcome.value)
            out[key] = out.get(key, 0) + 1
        return out

    def states(self) -> dict[str, int]:
        """Count findings per gate state (new, baselined, suppressed)."""
        out = {"new": 0, "baselined": 0, "suppressed": 0}
        for view in self.findings:
            out[view.state] += 1
        return out
