"""SQLAlchemy 2.x declarative models: the tables of the audit database.

The schema is the same on SQLite (the embedded default) and PostgreSQL, so only portable types are
used: integers, floats, booleans and ``TEXT``. Timestamps are ISO 8601 strings exactly as the
pipeline produced them (UTC, lexically sortable); JSON values are ``TEXT`` holding
``json.dumps(value, sort_keys=True)`` so the same file reads the same everywhere and Datasette
shows it as JSON. Enumerations are ``TEXT`` with ``CHECK`` constraints whose values come from the
vocabulary in :mod:`auditor.model`.

The database never holds image bytes: images are described by URL, hashes, dimensions and
metadata flags.

Changing a table here needs a new migration in ``migrations/versions``; the test suite compares
the migrated database with these models and fails on drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from auditor.model import (
    FINDING_OUTCOMES,
    Evaluation,
    Observed,
    Purpose,
    Scope,
    Severity,
    Subject,
    Verdict,
)

#: Constraint names are derived from these templates so that migrations can refer to them on
#: every backend (SQLite cannot alter an unnamed constraint).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Origin files recorded per site: the ``kind`` of an :class:`~auditor.model.OriginFileRecord`,
#: which is also the prefix of its four ``sites`` columns.
ORIGIN_FILE_KINDS = ("robots", "tdmrep", "ai_txt")

#: The suffixes of the four ``sites`` columns of each origin file kind.
ORIGIN_FILE_FIELDS = ("status", "http_status", "sha256", "fetched_at")

#: A signal belongs to at most one subject: an image or a page.
SIGNAL_SUBJECT_CHECK = "image_id IS NULL OR page_id IS NULL"

#: Values of ``runs.status``: ``running`` from :meth:`Store.begin_run` until ``finish_run``.
RUN_STATUSES = ("running", "complete", "incomplete", "failed", "interrupted")


def in_check(column: str, values: Iterable[str]) -> str:
    """Return the SQL of a ``CHECK`` that ``column`` holds one of ``values`` (NULL passes)."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


_VERDICTS = _values(Verdict)
_OUTCOMES = [outcome.value for outcome in FINDING_OUTCOMES]
#: Gate states of a stored finding (``auditor check``); ``new`` unless a check said otherwise.
FINDING_STATES = ("baselined", "new", "suppressed")
SUPPRESSION_STATUSES = ("active", "expired", "stale")


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and its naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        str: Text(),
        int: Integer(),
        float: Float(),
        bool: Boolean(),
    }


class Run(Base):
    """One audit run: provenance (tool version, config and policy hashes, times) and counters."""

    __tablename__ = "runs"
    __table_args__ = (CheckConstraint(in_check("status", RUN_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tool_version: Mapped[str]
    started_at: Mapped[str]
    finished_at: Mapped[str | None]
    status: Mapped[str] = mapped_column(server_default="running")
    config_hash: Mapped[str]
    policy_hash: Mapped[str]
    config_json: Mapped[str]
    options_json: Mapped[str]
    pages: Mapped[int] = mapped_column(server_default="0")
    images: Mapped[int] = mapped_column(server_default="0")
    images_fetched: Mapped[int] = mapped_column(server_default="0")
    skips: Mapped[int] = mapped_column(server_default="0")
    errors: Mapped[int] = mapped_column(server_default="0")
    findings_json: Mapped[str] = mapped_column(server_default="{}")
    by_severity_json: Mapped[str] = mapped_column(server_default="{}")
    passes_json: Mapped[str] = mapped_column(server_default="{}")
    aggregates_json: Mapped[str | None]


class Site(Base):
    """An origin (scheme, host, port) seen in a run, with the fetches of its origin files.

    Each origin file kind of :data:`ORIGIN_FILE_KINDS` (robots.txt, tdmrep.json, ai.txt) has four
    columns ``<kind>_status``, ``<kind>_http_status``, ``<kind>_sha256``, ``<kind>_fetched_at``;
    all four are NULL when the file was not fetched (or not recorded) for the origin.
    """

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("run_id", "origin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    origin: Mapped[str]
    robots_status: Mapped[str | None]
    robots_http_status: Mapped[int | None]
    robots_sha256: Mapped[str | None]
    robots_fetched_at: Mapped[str | None]
    tdmrep_status: Mapped[str | None]
    tdmrep_http_status: Mapped[int | None]
    tdmrep_sha256: Mapped[str | None]
    tdmrep_fetched_at: Mapped[str | None]
    ai_txt_status: Mapped[str | None]
    ai_txt_http_status: Mapped[int | None]
    ai_txt_sha256: Mapped[str | None]
    ai_txt_fetched_at: Mapped[str | None]


class Page(Base):
    """A crawled HTML page and what was discovered on it."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("run_id", "url"), Index(None, "site_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    url: Mapped[str]
    final_url: Mapped[str]
    depth: Mapped[int]
    status: Mapped[int | None]
    content_type: Mapped[str | None]
    fetched_at: Mapped[str]
    title: Mapped[str | None]
    lang: Mapped[str | None]
    hreflang_json: Mapped[str] = mapped_column(server_default="[]")
    meta_robots_json: Mapped[str] = mapped_column(server_default="[]")
    license_links_json: Mapped[str] = mapped_column(server_default="[]")
    headers_json: Mapped[str] = mapped_column(server_default="[]")
    tdm_meta_json: Mapped[str] = mapped_column(server_default="[]")
    image_count: Mapped[int] = mapped_column(server_default="0")
    link_count: Mapped[int] = mapped_column(server_default="0")
    truncated: Mapped[bool] = mapped_column(server_default=false())


#: The usage columns of ``images`` keyed by purpose (DESIGN 4.3 spelling), in export order.
USAGE_COLUMNS: dict[str, str] = {
    purpose.value: "usage_" + purpose.value.replace("-", "_") for purpose in Purpose
}


class Image(Base):
    """One image URL in one run: fetch result, extracted facts and per-purpose usage verdicts.

    ``gps`` is NULL when EXIF was not examined (not fetched, or not an image), and ``faces``
    (with ``faces_json``, the boxes and detector) is NULL when face detection did not run: NULL
    always means "not evaluated", never 0. Likewise ``xmp_json`` and ``c2pa_json`` (the
    :class:`~auditor.extract.embedded.XmpFacts` and :class:`~auditor.extract.embedded.C2paFacts`
    as JSON objects) are NULL when not examined. ``usage_conflicts_json`` lists the purposes on
    which mechanisms disagreed; ``jurisdiction_evidence_json`` the evidence behind
    ``jurisdictions_json``; ``gps_country`` the country of the (coarsened) GPS position.
    ``source_key``, ``local_path`` and ``extra_json`` (manifest mode only, NULL for crawls) say
    which manifest row and stored copy the image came from (:class:`auditor.model.CollectedCopy`).
    """

    __tablename__ = "images"
    __table_args__ = (
        UniqueConstraint("run_id", "url"),
        Index(None, "site_id"),
        Index(None, "run_id", "sha256"),
        *(
            CheckConstraint(in_check(column, _VERDICTS), name=column)
            for column in USAGE_COLUMNS.values()
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    url: Mapped[str]
    fetched: Mapped[bool]
    skip_reason: Mapped[str | None]
    fetched_at: Mapped[str | None]
    status: Mapped[int | None]
    content_type: Mapped[str | None]
    headers_json: Mapped[str] = mapped_column(server_default="[]")
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None]
    phash: Mapped[str | None]
    format: Mapped[str | None]
    mime: Mapped[str | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    frames: Mapped[int | None]
    faces: Mapped[int | None]
    gps: Mapped[bool | None]
    gps_lat: Mapped[float | None]
    gps_lon: Mapped[float | None]
    exif_datetime: Mapped[str | None]
    camera_serial: Mapped[str | None]
    exif_artist: Mapped[str | None]
    exif_copyright: Mapped[str | None]
    exif_make: Mapped[str | None]
    exif_model: Mapped[str | None]
    extract_error: Mapped[str | None]
    extract_error_detail: Mapped[str | None]
    usage_crawl: Mapped[str] = mapped_column(server_default="unknown")
    usage_search: Mapped[str] = mapped_column(server_default="unknown")
    usage_tdm: Mapped[str] = mapped_column(server_default="unknown")
    usage_ai_train: Mapped[str] = mapped_column(server_default="unknown")
    usage_genai_train: Mapped[str] = mapped_column(server_default="unknown")
    usage_ai_input: Mapped[str] = mapped_column(server_default="unknown")
    jurisdictions_json: Mapped[str] = mapped_column(server_default="{}")
    usage_conflicts_json: Mapped[str] = mapped_column(server_default="[]")
    xmp_json: Mapped[str | None]
    c2pa_json: Mapped[str | None]
    faces_json: Mapped[str | None]
    gps_country: Mapped[str | None]
    jurisdiction_evidence_json: Mapped[str] = mapped_column(server_default="[]")
    source_key: Mapped[str | None]
    local_path: Mapped[str | None]
    extra_json: Mapped[str | None]


class ImageContext(Base):
    """How one page referenced an image (the evidence tying the image to the page)."""

    __tablename__ = "image_contexts"
    __table_args__ = (Index(None, "image_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    page_url: Mapped[str]
    kind: Mapped[str]
    alt: Mapped[str | None]
    license: Mapped[str | None]
    credit_text: Mapped[str | None]
    copyright_notice: Mapped[str | None]
    acquire_license_page: Mapped[str | None]


class Signal(Base):
    """One opt-out or consent evidence record (optout-signals.md 9.7), as of collection time.

    A signal is about an image (``image_id``) or about a page resource itself (``page_id``, the
    signals of :attr:`auditor.model.PageRecord.signals`), never both; a ``CHECK`` enforces it.
    """

    __tablename__ = "signals"
    __table_args__ = (
        CheckConstraint(in_check("scope", _values(Scope)), name="scope"),
        CheckConstraint(in_check("evaluation", _values(Evaluation)), name="evaluation"),
        CheckConstraint(SIGNAL_SUBJECT_CHECK, name="single_subject"),
        Index(None, "image_id"),
        Index(None, "page_id"),
        Index(None, "run_id", "mechanism"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    mechanism: Mapped[str]
    scope: Mapped[str]
    source_url: Mapped[str]
    applies_to: Mapped[str | None]
    raw_value: Mapped[str | None]
    fetched_at: Mapped[str | None]
    http_status: Mapped[int | None]
    parsed: Mapped[str | None]
    purposes_json: Mapped[str] = mapped_column(server_default="{}")
    notes_json: Mapped[str] = mapped_column(server_default="[]")
    token: Mapped[str | None]
    sha256: Mapped[str | None]
    evaluation: Mapped[str] = mapped_column(server_default="evaluated")
    observed: Mapped[str] = mapped_column(
        CheckConstraint(in_check("observed", _values(Observed)), name="observed"),
        server_default="collection",
    )


class FindingRow(Base):
    """A stored rule outcome (fail, review, insufficient data); passes are only counted."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("run_id", "fingerprint"),
        CheckConstraint(in_check("outcome", sorted(_OUTCOMES)), name="outcome"),
        CheckConstraint(in_check("severity", _values(Severity)), name="severity"),
        CheckConstraint(in_check("subject", _values(Subject)), name="subject"),
        Index(None, "run_id", "severity"),
        Index(None, "run_id", "rule_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    rule_id: Mapped[str]
    pack: Mapped[str]
    jurisdiction: Mapped[str]
    outcome: Mapped[str]
    severity: Mapped[str]
    subject: Mapped[str]
    title: Mapped[str] = mapped_column(server_default="")
    image_url: Mapped[str | None]
    page_url: Mapped[str | None]
    site: Mapped[str | None]
    message: Mapped[str]
    references_json: Mapped[str] = mapped_column(server_default="[]")
    evidence_json: Mapped[str] = mapped_column(server_default="{}")
    fingerprint: Mapped[str]
    remediation: Mapped[str | None]
    state: Mapped[str] = mapped_column(
        CheckConstraint(in_check("state", FINDING_STATES), name="state"), server_default="new"
    )
    suppression_json: Mapped[str | None]


class RuleStatRow(Base):
    """Per-run outcome counts for one rule, passes included (the attestation table)."""

    __tablename__ = "rule_stats"
    __table_args__ = (
        PrimaryKeyConstraint("run_id", "pack", "rule_id"),
        CheckConstraint(in_check("severity", _values(Severity)), name="severity"),
    )

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    pack: Mapped[str]
    rule_id: Mapped[str]
    title: Mapped[str] = mapped_column(server_default="")
    severity: Mapped[str]
    passes: Mapped[int] = mapped_column(server_default="0")
    fails: Mapped[int] = mapped_column(server_default="0")
    reviews: Mapped[int] = mapped_column(server_default="0")
    insufficient: Mapped[int] = mapped_column(server_default="0")
    not_applicable: Mapped[int] = mapped_column(server_default="0")


class SuppressionRow(Base):
    """One entry of the suppressions file a check applied to the run, with its status.

    ``status``: ``active`` (matched findings, not expired), ``expired`` (no longer suppresses),
    ``stale`` (matched nothing). The register the HTML report shows.
    """

    __tablename__ = "suppressions"
    __table_args__ = (
        CheckConstraint(in_check("status", SUPPRESSION_STATUSES), name="status"),
        Index(None, "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    fingerprint: Mapped[str | None]
    rule_id: Mapped[str | None]
    scope: Mapped[str | None]
    reason: Mapped[str]
    author: Mapped[str]
    created: Mapped[str]
    expires: Mapped[str | None]
    approved_by: Mapped[str | None]
    false_positive: Mapped[bool] = mapped_column(server_default="0")
    status: Mapped[str]
    matched: Mapped[int] = mapped_column(server_default="0")


class RunCheckpoint(Base):
    """Where a resumable run stands: written in the same transaction as each batch of records.

    ``last_key`` is the last manifest row whose records are all stored, ``rows`` how many rows
    were finished, ``state_json`` the running counts (rule outcomes, dataset tally) as of that
    row, so a resumed run continues with exactly the state an uninterrupted one would have.
    """

    __tablename__ = "run_checkpoints"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    last_key: Mapped[str | None]
    rows: Mapped[int] = mapped_column(server_default="0")
    state_json: Mapped[str] = mapped_column(server_default="{}")
    updated_at: Mapped[str]


class Skip(Base):
    """A URL the run did not process, with a machine-friendly reason and a human detail."""

    __tablename__ = "skips"
    __table_args__ = (Index(None, "run_id", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    url: Mapped[str]
    kind: Mapped[str]
    reason: Mapped[str]
    detail: Mapped[str | None]
    at: Mapped[str]
