"""Frozen records passed between pipeline stages.

Every stage hands the next one immutable values, so a stage can run in another process (or be
re-run from the store) without sharing state. The vocabulary here (purposes, verdicts, outcomes,
severities, subjects) is part of the export contract of DESIGN 4.3: change a value and outside
tools break.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # annotations only: importing either here would load them with every record
    from auditor.extract import ImageFacts
    from auditor.jurisdiction import Evidence as JurisdictionEvidence


class Purpose(StrEnum):
    """The uses a usage verdict is computed for (optout-signals.md section 9)."""

    CRAWL = "crawl"
    SEARCH = "search"
    TDM = "tdm"
    AI_TRAIN = "ai-train"
    GENAI_TRAIN = "genai-train"
    AI_INPUT = "ai-input"


class Verdict(StrEnum):
    """A per-purpose usage verdict; ``UNKNOWN`` is never permission."""

    ALLOWED = "allowed"
    DISALLOWED = "disallowed"
    UNKNOWN = "unknown"


class Outcome(StrEnum):
    """A rule's result for one subject (law.md section 1)."""

    FAIL = "fail"
    REVIEW = "review"
    INSUFFICIENT_DATA = "insufficient_data"
    PASS = "pass"
    NOT_APPLICABLE = "not_applicable"


#: Outcomes that become stored findings; passes and not-applicable results are only counted.
FINDING_OUTCOMES = frozenset({Outcome.FAIL, Outcome.REVIEW, Outcome.INSUFFICIENT_DATA})


class Severity(StrEnum):
    """How bad a failed rule is; ordered by :attr:`rank` (critical is highest)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the scale, so thresholds like ``--fail-on high`` compare numerically."""
        return list(Severity).index(self)


class Subject(StrEnum):
    """What a rule is evaluated against."""

    DECLARATION = "declaration"
    SITE = "site"
    IMAGE = "image"
    DATASET = "dataset"


class Scope(StrEnum):
    """Where a signal lives (optout-signals.md section 0)."""

    ORIGIN = "origin"
    PAGE = "page"
    RESPONSE = "response"
    EMBEDDED = "embedded"
    LIST = "list"


class Evaluation(StrEnum):
    """Whether a mechanism could be evaluated for a resource (optout-signals.md 9.6)."""

    EVALUATED = "evaluated"
    NOT_EVALUATED = "not_evaluated"
    ERROR = "error"


class Observed(StrEnum):
    """When a signal describes the image: as collected, or as the live source is now.

    A crawl audits collection as it happens, so everything it records is ``collection``;
    ``auditor manifest --refetch`` adds ``now`` records read from the live source, so a
    reservation made after collection can be told apart from one the crawler ignored.
    """

    COLLECTION = "collection"
    NOW = "now"


def frozen_map(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """Return a read-only view of a copy of ``values``, for mapping fields of frozen records."""
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class SignalRecord:
    """One piece of opt-out or consent evidence, as found (optout-signals.md 9.7)."""

    mechanism: str
    scope: Scope
    source_url: str
    raw_value: str | None
    purposes: Mapping[str, Verdict]
    applies_to: str | None = None
    fetched_at: str | None = None
    http_status: int | None = None
    parsed: str | None = None
    notes: tuple[str, ...] = ()
    token: str | None = None
    sha256: str | None = None
    evaluation: Evaluation = Evaluation.EVALUATED
    observed: Observed = Observed.COLLECTION


@dataclass(frozen=True)
class PageRecord:
    """A crawled HTML page and the facts discovered on it."""

    url: str
    final_url: str
    site: str
    depth: int
    status: int | None
    content_type: str | None
    fetched_at: str
    title: str | None = None
    lang: str | None = None
    hreflang: tuple[tuple[str, str], ...] = ()
    meta_robots: tuple[tuple[str, str], ...] = ()
    license_links: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()  # evidence headers of the page response
    tdm_meta: tuple[tuple[str, str], ...] = ()
    signals: tuple[SignalRecord, ...] = ()  # evidence about the page resource itself
    image_count: int = 0
    link_count: int = 0
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class ImageContext:
    """How one page referenced an image: the evidence that ties an image to a page.

    Slotted: the crawl makes one per reference, and the manifest audit holds those of the
    rows in flight.
    """

    page_url: str
    kind: str
    alt: str | None = None
    license: str | None = None
    credit_text: str | None = None
    copyright_notice: str | None = None
    acquire_license_page: str | None = None


@dataclass(frozen=True)
class CollectedCopy:
    """Where a manifest says the audited crawler keeps an image: the row and the stored file.

    ``key`` is the manifest row's stable key (``images.csv#12``, ``00000.tar#000000012``),
    ``local_path`` the file or tar member the bytes were read from (``None`` when the row has
    none), ``extra`` the manifest's other columns, kept as facts. The deletion list names them,
    so whoever runs the storage knows which copy to remove.
    """

    key: str
    local_path: str | None = None
    extra: Mapping[str, str] = field(default_factory=frozen_map)


@dataclass(frozen=True)
class ImageRecord:
    """Everything the auditor learnt about one image URL in one run.

    ``fetched`` is False when the auditor could not or would not fetch the bytes (its own
    robots.txt group, a network error, a size cap); the image is still listed, with the verdicts
    that URL-level signals decide and ``skip_reason`` saying why. In manifest mode every audited
    row was collected by the audited crawler, so ``fetched`` is True and ``skip_reason`` says why
    no bytes were analysed (no stored copy, an unreadable one), ``facts`` come from the stored
    copy (or, with ``--refetch`` and no copy, the live bytes), ``fetched_at`` is the manifest's
    collection time and ``copy`` says where the copy is.
    """

    url: str
    site: str
    contexts: tuple[ImageContext, ...]
    fetched: bool
    skip_reason: str | None
    fetched_at: str | None
    status: int | None = None
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    facts: ImageFacts | None = None
    signals: tuple[SignalRecord, ...] = ()
    usage: Mapping[str, Verdict] = field(default_factory=frozen_map)
    usage_conflicts: tuple[str, ...] = ()  # purposes on which mechanisms disagree
    jurisdictions: Mapping[str, float] = field(default_factory=frozen_map)
    jurisdiction_evidence: tuple[JurisdictionEvidence, ...] = ()
    gps_country: str | None = None  # ISO country of the EXIF GPS position (offline, coarse)
    copy: CollectedCopy | None = None  # manifest mode: the row and stored file it came from

    @property
    def page_urls(self) -> tuple[str, ...]:
        """Pages that embed the image, in discovery order, without repeats."""
        return tuple(dict.fromkeys(context.page_url for context in self.contexts))


@dataclass(frozen=True)
class OriginFileRecord:
    """How one origin file (robots.txt, tdmrep.json, ai.txt) was obtained, for the sites table."""

    kind: str  # "robots", "tdmrep", "ai_txt"
    status: str  # robots: parsed/unavailable/unreachable; others: parsed/unavailable/invalid/...
    http_status: int | None
    sha256: str | None
    fetched_at: str | None


@dataclass(frozen=True)
class SkipRecord:
    """A URL the auditor did not process, with a machine-friendly reason and a human detail."""

    url: str
    kind: str  # "page", "image", "robots", "target"
    reason: str
    detail: str | None
    at: str


@dataclass(frozen=True)
class Finding:
    """A rule outcome worth storing (fail, review or insufficient data) with its evidence."""

    rule_id: str
    pack: str
    jurisdiction: str
    outcome: Outcome
    severity: Severity
    subject: Subject
    message: str
    references: tuple[str, ...]
    evidence: Mapping[str, Any]
    fingerprint: str
    title: str = ""
    remediation: str | None = None
    image_url: str | None = None
    page_url: str | None = None
    site: str | None = None


@dataclass(frozen=True)
class RunCounters:
    """Totals for a run, kept in the ``runs`` row and shown in summaries."""

    pages: int = 0
    images: int = 0
    images_fetched: int = 0
    skips: int = 0
    errors: int = 0
    findings: Mapping[str, int] = field(default_factory=frozen_map)  # outcome -> count
    by_severity: Mapping[str, int] = field(default_factory=frozen_map)  # severity -> count
    passes: Mapping[str, int] = field(default_factory=frozen_map)  # rule id -> passes


@dataclass(frozen=True)
class SuppressionInfo:
    """One entry of ``.auditor-ignore.yaml`` as it was applied (conventions.md 6)."""

    reason: str
    author: str
    created: str  # ISO date
    expires: str | None = None  # ISO date; None: no expiry (warned about)
    fingerprint: str | None = None
    rule: str | None = None
    scope: str | None = None  # URL glob for rule + scope entries
    approved_by: str | None = None
    false_positive: bool = False


@dataclass(frozen=True)
class SuppressionStatus:
    """A suppression entry in the register: how many findings it matched and whether it is live.

    ``status``: ``active`` (matched and not expired), ``expired`` (past its expiry date: it no
    longer suppresses, the finding is back), ``stale`` (matched nothing in this run).
    """

    entry: SuppressionInfo
    status: Literal["active", "expired", "stale"]
    matched: int
