"""The records about a run as a whole and what its rules concluded.

:class:`RunRow` (provenance and counters), :class:`RunSummary` (counts computed from the tables),
:class:`RuleStat` (per-rule outcome counts) and :class:`FindingExport` (one stored finding, DESIGN
4.3 finding export). They are kept apart from :mod:`auditor.store.exports`, the records of the
crawled subjects, because reports use them without ever touching images or pages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from auditor.model import (
    Finding,
    Outcome,
    RunCounters,
    Severity,
    Subject,
    SuppressionInfo,
)


@dataclass(frozen=True)
class RunRow:
    """A ``runs`` row: provenance, status and counters of one run."""

    id: int
    tool_version: str
    started_at: str
    finished_at: str | None
    status: str
    config_hash: str
    policy_hash: str
    config: Mapping[str, Any]
    options: Mapping[str, Any]
    counters: RunCounters
    aggregates: Mapping[str, Any] | None = None  # dataset aggregates; None: not computed


@dataclass(frozen=True)
class Checkpoint:
    """Where a resumable run stands (the ``run_checkpoints`` row; see :class:`StoreWriter`)."""

    run_id: int
    last_key: str | None
    rows: int
    state: Mapping[str, Any]
    updated_at: str


@dataclass(frozen=True)
class RuleStat:
    """Outcome counts of one rule in one run (passes included)."""

    rule_id: str
    pack: str
    title: str
    severity: Severity
    passes: int
    fails: int
    reviews: int
    insufficient: int
    not_applicable: int

    @property
    def findings(self) -> int:
        """Outcomes stored as findings: fails, reviews and insufficient data."""
        return self.fails + self.reviews + self.insufficient


@dataclass(frozen=True)
class RunSummary:
    """Counts of what a run stored, for summaries (computed from the tables, not the counters)."""

    pages: int
    images: int
    images_fetched: int
    skips: int
    findings: Mapping[tuple[str, str], int]  # (severity, outcome) -> count
    skip_reasons: tuple[tuple[str, str, int], ...]  # (kind, reason, count), most frequent first

    @property
    def finding_total(self) -> int:
        """All stored findings of the run."""
        return sum(self.findings.values())


@dataclass(frozen=True)
class FindingExport:
    """One stored finding (DESIGN 4.3 finding export)."""

    rule_id: str
    pack: str
    jurisdiction: str
    outcome: Outcome
    severity: Severity
    subject: Subject
    image_url: str | None
    page_url: str | None
    site: str | None
    message: str
    references: tuple[str, ...]
    evidence: Mapping[str, Any]
    fingerprint: str
    title: str
    remediation: str | None
    state: str = "new"  # new | baselined | suppressed (set by ``auditor check``)
    suppression: SuppressionInfo | None = None

    json_keys: ClassVar[tuple[str, ...]] = (
        "rule_id",
        "pack",
        "jurisdiction",
        "outcome",
        "severity",
        "subject",
        "image_url",
        "page_url",
        "site",
        "message",
        "references",
        "evidence",
        "fingerprint",
        "title",
        "remediation",
        "state",
        "suppression",
    )

    @property
    def subject_url(self) -> str | None:
        """The most specific URL the finding is about (image, else page, else site)."""
        return self.image_url or self.page_url or self.site

    def to_json(self) -> dict[str, Any]:
        """Return the export object with the DESIGN 4.3 keys, then title and remediation."""
        return {
            "rule_id": self.rule_id,
            "pack": self.pack,
            "jurisdiction": self.jurisdiction,
            "outcome": self.outcome.value,
            "severity": self.severity.value,
            "subject": self.subject.value,
            "image_url": self.image_url,
            "page_url": self.page_url,
            "site": self.site,
            "message": self.message,
            "references": list(self.references),
            "evidence": json.loads(json.dumps(dict(self.evidence))),
            "fingerprint": self.fingerprint,
            "title": self.title,
            "remediation": self.remediation,
            "state": self.state,
            "suppression": None if self.suppression is None else asdict(self.suppression),
        }

    def to_finding(self) -> Finding:
        """Return the pipeline record (for baselines and ``check --from-db``)."""
        return Finding(
            rule_id=self.rule_id,
            pack=self.pack,
            jurisdiction=self.jurisdiction,
            outcome=self.outcome,
            severity=self.severity,
            subject=self.subject,
            message=self.message,
            references=self.references,
            evidence=self.evidence,
            fingerprint=self.fingerprint,
            title=self.title,
            remediation=self.remediation,
            image_url=self.image_url,
            page_url=self.page_url,
            site=self.site,
        )
