"""Queries used by ``report``, ``export`` and ``check --from-db``, and the records they return.

Everything here reads; :mod:`auditor.store.writer` writes. Iterators stream: rows come from the
database in chunks (``yield_per``), and the contexts and signals of a chunk of images are fetched
with one query each, so memory stays bounded whatever the size of the run. An iterator holds a
connection until it is exhausted or closed.

Orders are deterministic (DESIGN 5): images, pages and sites by URL; findings by severity
(critical first), rule id, then subject (image URL, page URL, site) and fingerprint; signals by
subject URL (the image's, or the page's for page-level signals; page-level first on a tie),
mechanism, source URL; skips by URL, kind, reason. On PostgreSQL text is compared with the ``C``
collation so both backends sort byte-wise alike.

The ``to_json()`` methods produce the export shapes of DESIGN 4.3, with the keys in a stable
order: first the documented keys, in the order the design lists them, then extra keys. The
``to_record()`` methods rebuild the pipeline records a row was stored from (for re-evaluation
without a new crawl); what the store normalises is noted on each.

Embedded facts (:class:`~auditor.extract.embedded.XmpFacts`, ``C2paFacts``) are stored as the
JSON of ``dataclasses.asdict`` and rebuilt by :func:`facts_from_json`, which follows the
dataclasses' type hints: keys the current classes do not know are ignored and missing ones take
their defaults, so facts written by another version of the extractor still load.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, case, collate, func, select
from sqlalchemy.orm import InstrumentedAttribute, QueryableAttribute

from auditor.errors import StoreError
from auditor.extract import ExifFacts, ImageFacts
from auditor.extract.embedded import C2paFacts, XmpFacts
from auditor.model import (
    Evaluation,
    Finding,
    ImageContext,
    ImageRecord,
    OriginFileRecord,
    Outcome,
    PageRecord,
    Purpose,
    RunCounters,
    Scope,
    Severity,
    SignalRecord,
    SkipRecord,
    Subject,
    Verdict,
    frozen_map,
)
from auditor.store.schema import (
    ORIGIN_FILE_KINDS,
    USAGE_COLUMNS,
    FindingRow,
    Image,
    Page,
    RuleStatRow,
    Run,
    Signal,
    Site,
    Skip,
)
from auditor.store.schema import ImageContext as ImageContextRow

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

#: Rows fetched per round trip by the streaming iterators.
CHUNK_SIZE = 500

_D = TypeVar("_D", bound="DataclassInstance")


@functools.cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _from_json_value(value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [arg for arg in args if arg is not type(None)]
        return _from_json_value(value, options[0]) if len(options) == 1 else value
    if origin is tuple and isinstance(value, list | tuple):
        if args[-1:] == (Ellipsis,):
            return tuple(_from_json_value(item, args[0]) for item in value)
        return tuple(_from_json_value(item, arg) for item, arg in zip(value, args, strict=False))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return facts_from_json(hint, value)
    return value


def facts_from_json(cls: type[_D], data: Mapping[str, Any]) -> _D:
    """Rebuild the frozen dataclass ``cls`` (nested dataclasses and tuples included) from JSON.

    ``data`` is what ``dataclasses.asdict`` gave, after a JSON round trip (tuples came back as
    lists). Unknown keys are ignored; missing keys take the field's default.
    """
    hints = _hints(cls)
    values = {
        item.name: _from_json_value(data[item.name], hints[item.name])
        for item in dataclasses.fields(cls)
        if item.name in data
    }
    return cls(**values)


def facts_to_json(value: DataclassInstance | None) -> Any:
    """Return embedded facts as JSON-ready data (tuples as lists), ``None`` when absent."""
    if value is None:
        return None
    return json.loads(json.dumps(dataclasses.asdict(value)))


def _loads(text: str | None, default: Any) -> Any:
    return default if text is None else json.loads(text)


def _counts(text: str) -> Mapping[str, int]:
    return frozen_map({str(key): int(value) for key, value in json.loads(text).items()})


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
class SignalExport:
    """One stored signal (optout-signals.md 9.7) with the image or page it was recorded for.

    ``image_url`` is set for a signal about an image, ``page_url`` for a page-level signal
    (about the page resource itself, :attr:`auditor.model.PageRecord.signals`).
    """

    image_url: str | None
    mechanism: str
    scope: Scope
    source_url: str
    applies_to: str | None
    raw_value: str | None
    fetched_at: str | None
    http_status: int | None
    parsed: str | None
    purposes: Mapping[str, Verdict]
    notes: tuple[str, ...]
    token: str | None
    sha256: str | None
    evaluation: Evaluation
    page_url: str | None = None

    json_keys: ClassVar[tuple[str, ...]] = (
        "image_url",
        "page_url",
        "mechanism",
        "scope",
        "source_url",
        "raw_value",
        "purposes",
        "notes",
        "applies_to",
        "fetched_at",
        "http_status",
        "parsed",
        "token",
        "sha256",
        "evaluation",
    )

    def to_json(self, *, with_image_url: bool = True) -> dict[str, Any]:
        """Return the export object.

        Nested in an image's ``signals`` (``with_image_url=False``) the subject keys
        ``image_url`` and ``page_url`` are left out: the enclosing object says what it is about.
        """
        data: dict[str, Any] = (
            {"image_url": self.image_url, "page_url": self.page_url} if with_image_url else {}
        )
        data.update(
            {
                "mechanism": self.mechanism,
                "scope": self.scope.value,
                "source_url": self.source_url,
                "raw_value": self.raw_value,
                "purposes": {key: value.value for key, value in self.purposes.items()},
                "notes": list(self.notes),
                "applies_to": self.applies_to,
                "fetched_at": self.fetched_at,
                "http_status": self.http_status,
                "parsed": self.parsed,
                "token": self.token,
                "sha256": self.sha256,
                "evaluation": self.evaluation.value,
            }
        )
        return data

    def to_record(self) -> SignalRecord:
        """Return the pipeline record this row was stored from (for re-evaluation)."""
        return SignalRecord(
            mechanism=self.mechanism,
            scope=self.scope,
            source_url=self.source_url,
            raw_value=self.raw_value,
            purposes=self.purposes,
            applies_to=self.applies_to,
            fetched_at=self.fetched_at,
            http_status=self.http_status,
            parsed=self.parsed,
            notes=self.notes,
            token=self.token,
            sha256=self.sha256,
            evaluation=self.evaluation,
        )


@dataclass(frozen=True)
class ExifExport:
    """The EXIF facts stored for an image (GPS coarsened to 2 decimal places)."""

    gps_present: bool
    gps_lat: float | None
    gps_lon: float | None
    datetime_original: str | None
    camera_serial: str | None
    artist: str | None
    copyright: str | None
    make: str | None
    model: str | None

    def to_json(self) -> dict[str, Any]:
        """Return the ``exif`` object of the image export."""
        return {
            "gps_present": self.gps_present,
            "gps_lat": self.gps_lat,
            "gps_lon": self.gps_lon,
            "datetime_original": self.datetime_original,
            "camera_serial": self.camera_serial,
            "artist": self.artist,
            "copyright": self.copyright,
            "make": self.make,
            "model": self.model,
        }

    def to_facts(self) -> ExifFacts:
        """Return the extractor record these columns were stored from."""
        return ExifFacts(
            gps_present=self.gps_present,
            gps_lat=self.gps_lat,
            gps_lon=self.gps_lon,
            datetime_original=self.datetime_original,
            camera_serial=self.camera_serial,
            artist=self.artist,
            copyright=self.copyright,
            make=self.make,
            model=self.model,
        )


@dataclass(frozen=True)
class ImageExport:
    """One stored image with its page contexts and signals (DESIGN 4.3 image export)."""

    url: str
    site: str
    contexts: tuple[ImageContext, ...]
    fetched: bool
    skip_reason: str | None
    fetched_at: str | None
    status: int | None
    content_type: str | None
    headers: tuple[tuple[str, str], ...]
    sha256: str | None
    phash: str | None
    format: str | None
    mime: str | None
    size_bytes: int | None
    width: int | None
    height: int | None
    frames: int | None
    faces: int | None
    exif: ExifExport | None
    extract_error: str | None
    extract_error_detail: str | None
    usage: Mapping[str, Verdict]
    jurisdictions: Mapping[str, float]
    signals: tuple[SignalExport, ...] = field(default=())
    usage_conflicts: tuple[str, ...] = ()
    xmp: XmpFacts | None = None
    c2pa: C2paFacts | None = None

    json_keys: ClassVar[tuple[str, ...]] = (
        "url",
        "page_urls",
        "fetched",
        "skip_reason",
        "status",
        "content_type",
        "sha256",
        "phash",
        "width",
        "height",
        "faces",
        "gps",
        "usage",
        "signals",
        "jurisdictions",
        "site",
        "fetched_at",
        "format",
        "mime",
        "size_bytes",
        "frames",
        "exif",
        "extract_error",
        "extract_error_detail",
        "contexts",
        "headers",
        "usage_conflicts",
        "xmp",
        "c2pa",
    )

    @property
    def page_urls(self) -> tuple[str, ...]:
        """Pages that embed the image, without repeats, in stored order."""
        return tuple(dict.fromkeys(context.page_url for context in self.contexts))

    @property
    def gps(self) -> bool | None:
        """Whether EXIF carries a position; ``None`` when EXIF was not examined."""
        return None if self.exif is None else self.exif.gps_present

    def to_json(self) -> dict[str, Any]:
        """Return the export object: every DESIGN 4.3 key, then the extra keys."""
        return {
            "url": self.url,
            "page_urls": list(self.page_urls),
            "fetched": self.fetched,
            "skip_reason": self.skip_reason,
            "status": self.status,
            "content_type": self.content_type,
            "sha256": self.sha256,
            "phash": self.phash,
            "width": self.width,
            "height": self.height,
            "faces": self.faces,
            "gps": self.gps,
            "usage": {
                purpose.value: self.usage.get(purpose.value, Verdict.UNKNOWN).value
                for purpose in Purpose
            },
            "signals": [signal.to_json(with_image_url=False) for signal in self.signals],
            "jurisdictions": dict(self.jurisdictions),
            "site": self.site,
            "fetched_at": self.fetched_at,
            "format": self.format,
            "mime": self.mime,
            "size_bytes": self.size_bytes,
            "frames": self.frames,
            "exif": None if self.exif is None else self.exif.to_json(),
            "extract_error": self.extract_error,
            "extract_error_detail": self.extract_error_detail,
            "contexts": [
                {
                    "page_url": context.page_url,
                    "kind": context.kind,
                    "alt": context.alt,
                    "license": context.license,
                    "credit_text": context.credit_text,
                    "copyright_notice": context.copyright_notice,
                    "acquire_license_page": context.acquire_license_page,
                }
                for context in self.contexts
            ],
            "headers": [list(pair) for pair in self.headers],
            "usage_conflicts": list(self.usage_conflicts),
            "xmp": facts_to_json(self.xmp),
            "c2pa": facts_to_json(self.c2pa),
        }

    def to_facts(self) -> ImageFacts | None:
        """Return the extracted facts, or ``None`` when there were none (not fetched)."""
        if self.sha256 is None or self.size_bytes is None:
            return None
        return ImageFacts(
            sha256=self.sha256,
            size_bytes=self.size_bytes,
            format=self.format,
            mime=self.mime,
            width=self.width,
            height=self.height,
            frames=self.frames,
            phash=self.phash,
            exif=None if self.exif is None else self.exif.to_facts(),
            error=self.extract_error,
            error_detail=self.extract_error_detail,
            xmp=self.xmp,
            c2pa=self.c2pa,
        )

    def to_record(self) -> ImageRecord:
        """Return the pipeline record this row was stored from (for re-evaluation).

        What the store normalised stays normalised: ``usage`` names every purpose (those the
        record left out are ``unknown``), non-finite GPS coordinates and jurisdiction scores
        were dropped.
        """
        return ImageRecord(
            url=self.url,
            site=self.site,
            contexts=self.contexts,
            fetched=self.fetched,
            skip_reason=self.skip_reason,
            fetched_at=self.fetched_at,
            status=self.status,
            content_type=self.content_type,
            headers=self.headers,
            facts=self.to_facts(),
            signals=tuple(signal.to_record() for signal in self.signals),
            usage=frozen_map(self.usage),
            usage_conflicts=self.usage_conflicts,
            jurisdictions=frozen_map(self.jurisdictions),
        )


@dataclass(frozen=True)
class PageExport:
    """One stored page with its page-level signals."""

    url: str
    final_url: str
    site: str
    depth: int
    status: int | None
    content_type: str | None
    fetched_at: str
    title: str | None
    lang: str | None
    hreflang: tuple[tuple[str, str], ...]
    meta_robots: tuple[tuple[str, str], ...]
    license_links: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    tdm_meta: tuple[tuple[str, str], ...]
    image_count: int
    link_count: int
    truncated: bool
    signals: tuple[SignalExport, ...] = ()

    def to_record(self) -> PageRecord:
        """Return the pipeline record this row was stored from."""
        return PageRecord(
            url=self.url,
            final_url=self.final_url,
            site=self.site,
            depth=self.depth,
            status=self.status,
            content_type=self.content_type,
            fetched_at=self.fetched_at,
            title=self.title,
            lang=self.lang,
            hreflang=self.hreflang,
            meta_robots=self.meta_robots,
            license_links=self.license_links,
            headers=self.headers,
            tdm_meta=self.tdm_meta,
            signals=tuple(signal.to_record() for signal in self.signals),
            image_count=self.image_count,
            link_count=self.link_count,
            truncated=self.truncated,
        )


@dataclass(frozen=True)
class SiteExport:
    """One stored origin with the origin files recorded for it.

    ``files`` holds one record per kind whose status was recorded, in the order of
    :data:`~auditor.store.schema.ORIGIN_FILE_KINDS` (robots, tdmrep, ai_txt).
    """

    origin: str
    files: tuple[OriginFileRecord, ...]

    def file(self, kind: str) -> OriginFileRecord | None:
        """Return the record of origin file ``kind``, or ``None`` when none was recorded."""
        return next((record for record in self.files if record.kind == kind), None)


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


# -- helpers -------------------------------------------------------------------------------


def _text_order(
    connection: Connection, column: ColumnElement[str] | QueryableAttribute[str]
) -> ColumnElement[str] | QueryableAttribute[str]:
    """Order text byte-wise on every backend (PostgreSQL would use the locale otherwise)."""
    if connection.dialect.name == "postgresql":
        return collate(column, "C")
    return column


def severity_rank() -> ColumnElement[int]:
    """Return a SQL expression ranking ``findings.severity`` (critical highest)."""
    return case(
        {severity.value: severity.rank for severity in Severity},
        value=FindingRow.severity,
        else_=-1,
    )


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(name), str(value)) for name, value in json.loads(text))


def _signal(row: Any, image_url: str | None, page_url: str | None = None) -> SignalExport:
    return SignalExport(
        image_url=image_url,
        page_url=page_url,
        mechanism=row.mechanism,
        scope=Scope(row.scope),
        source_url=row.source_url,
        applies_to=row.applies_to,
        raw_value=row.raw_value,
        fetched_at=row.fetched_at,
        http_status=row.http_status,
        parsed=row.parsed,
        purposes=frozen_map(
            {key: Verdict(value) for key, value in json.loads(row.purposes_json).items()}
        ),
        notes=tuple(json.loads(row.notes_json)),
        token=row.token,
        sha256=row.sha256,
        evaluation=Evaluation(row.evaluation),
    )


def _exif(row: Any) -> ExifExport | None:
    if row.gps is None:
        return None
    return ExifExport(
        gps_present=bool(row.gps),
        gps_lat=row.gps_lat,
        gps_lon=row.gps_lon,
        datetime_original=row.exif_datetime,
        camera_serial=row.camera_serial,
        artist=row.exif_artist,
        copyright=row.exif_copyright,
        make=row.exif_make,
        model=row.exif_model,
    )


def _image(
    row: Any, contexts: Sequence[ImageContext], signals: Sequence[SignalExport]
) -> ImageExport:
    return ImageExport(
        url=row.url,
        site=row.origin,
        contexts=tuple(contexts),
        fetched=bool(row.fetched),
        skip_reason=row.skip_reason,
        fetched_at=row.fetched_at,
        status=row.status,
        content_type=row.content_type,
        headers=_pairs(row.headers_json),
        sha256=row.sha256,
        phash=row.phash,
        format=row.format,
        mime=row.mime,
        size_bytes=row.size_bytes,
        width=row.width,
        height=row.height,
        frames=row.frames,
        faces=row.faces,
        exif=_exif(row),
        extract_error=row.extract_error,
        extract_error_detail=row.extract_error_detail,
        usage=frozen_map(
            {purpose: Verdict(getattr(row, column)) for purpose, column in USAGE_COLUMNS.items()}
        ),
        jurisdictions=frozen_map(json.loads(row.jurisdictions_json)),
        signals=tuple(signals),
        usage_conflicts=tuple(json.loads(row.usage_conflicts_json)),
        xmp=None if row.xmp_json is None else facts_from_json(XmpFacts, json.loads(row.xmp_json)),
        c2pa=(
            None if row.c2pa_json is None else facts_from_json(C2paFacts, json.loads(row.c2pa_json))
        ),
    )


def _page(row: Any, signals: Sequence[SignalExport]) -> PageExport:
    return PageExport(
        url=row.url,
        final_url=row.final_url,
        site=row.origin,
        depth=row.depth,
        status=row.status,
        content_type=row.content_type,
        fetched_at=row.fetched_at,
        title=row.title,
        lang=row.lang,
        hreflang=_pairs(row.hreflang_json),
        meta_robots=_pairs(row.meta_robots_json),
        license_links=tuple(json.loads(row.license_links_json)),
        headers=_pairs(row.headers_json),
        tdm_meta=_pairs(row.tdm_meta_json),
        image_count=row.image_count,
        link_count=row.link_count,
        truncated=bool(row.truncated),
        signals=tuple(signals),
    )


def _site(row: Any) -> SiteExport:
    files = []
    for kind in ORIGIN_FILE_KINDS:
        status = getattr(row, f"{kind}_status")
        if status is None:
            continue
        files.append(
            OriginFileRecord(
                kind=kind,
                status=status,
                http_status=getattr(row, f"{kind}_http_status"),
                sha256=getattr(row, f"{kind}_sha256"),
                fetched_at=getattr(row, f"{kind}_fetched_at"),
            )
        )
    return SiteExport(origin=row.origin, files=tuple(files))


# -- queries -------------------------------------------------------------------------------


def get_run(connection: Connection, run_id: int) -> RunRow:
    """Return run ``run_id``; :class:`StoreError` if there is none."""
    run = connection.execute(select(*Run.__table__.columns).where(Run.id == run_id)).first()
    if run is None:
        raise StoreError(f"no run {run_id} in the database: pick another --run")
    return RunRow(
        id=run.id,
        tool_version=run.tool_version,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status=run.status,
        config_hash=run.config_hash,
        policy_hash=run.policy_hash,
        config=frozen_map(json.loads(run.config_json)),
        options=frozen_map(json.loads(run.options_json)),
        counters=RunCounters(
            pages=run.pages,
            images=run.images,
            images_fetched=run.images_fetched,
            skips=run.skips,
            errors=run.errors,
            findings=_counts(run.findings_json),
            by_severity=_counts(run.by_severity_json),
            passes=_counts(run.passes_json),
        ),
    )


def latest_run_id(connection: Connection) -> int | None:
    """Return the id of the newest run, or ``None`` when the database has none."""
    value = connection.execute(select(func.max(Run.id))).scalar()
    return None if value is None else int(value)


def iter_images(engine: Engine, run_id: int) -> Iterator[ImageExport]:
    """Yield the run's images ordered by URL, with contexts and signals, in bounded memory."""
    with engine.connect() as connection:
        query = (
            select(*Image.__table__.columns, Site.origin)
            .join(Site, Site.id == Image.site_id)
            .where(Image.run_id == run_id)
            .order_by(_text_order(connection, Image.url))
        )
        result = connection.execution_options(yield_per=CHUNK_SIZE).execute(query)
        for chunk in result.partitions():
            urls = {row.id: row.url for row in chunk}
            contexts = _contexts_of(connection, list(urls))
            signals = _signals_of(connection, Signal.image_id, urls)
            for row in chunk:
                yield _image(row, contexts.get(row.id, ()), signals.get(row.id, ()))


def iter_pages(engine: Engine, run_id: int) -> Iterator[PageExport]:
    """Yield the run's pages ordered by URL, with their page-level signals, in bounded memory."""
    with engine.connect() as connection:
        query = (
            select(*Page.__table__.columns, Site.origin)
            .join(Site, Site.id == Page.site_id)
            .where(Page.run_id == run_id)
            .order_by(_text_order(connection, Page.url))
        )
        result = connection.execution_options(yield_per=CHUNK_SIZE).execute(query)
        for chunk in result.partitions():
            urls = {row.id: row.url for row in chunk}
            signals = _signals_of(connection, Signal.page_id, urls)
            for row in chunk:
                yield _page(row, signals.get(row.id, ()))


def iter_sites(engine: Engine, run_id: int) -> Iterator[SiteExport]:
    """Yield the run's sites ordered by origin, with their origin-file records."""
    with engine.connect() as connection:
        query = (
            select(*Site.__table__.columns)
            .where(Site.run_id == run_id)
            .order_by(_text_order(connection, Site.origin))
        )
        for row in connection.execution_options(yield_per=CHUNK_SIZE).execute(query):
            yield _site(row)


def _contexts_of(connection: Connection, ids: list[int]) -> dict[int, list[ImageContext]]:
    contexts: dict[int, list[ImageContext]] = {}
    query = (
        select(*ImageContextRow.__table__.columns)
        .where(ImageContextRow.image_id.in_(ids))
        .order_by(ImageContextRow.image_id, ImageContextRow.id)
    )
    for row in connection.execute(query):
        contexts.setdefault(row.image_id, []).append(
            ImageContext(
                page_url=row.page_url,
                kind=row.kind,
                alt=row.alt,
                license=row.license,
                credit_text=row.credit_text,
                copyright_notice=row.copyright_notice,
                acquire_license_page=row.acquire_license_page,
            )
        )
    return contexts


def _signals_of(
    connection: Connection, owner: InstrumentedAttribute[int | None], urls: Mapping[int, str]
) -> dict[int, list[SignalExport]]:
    """Return the signals of the images (or pages) ``urls``, by owner id, in stored order."""
    pages = owner.key == "page_id"
    signals: dict[int, list[SignalExport]] = {}
    query = (
        select(*Signal.__table__.columns).where(owner.in_(list(urls))).order_by(owner, Signal.id)
    )
    for row in connection.execute(query):
        owner_id = getattr(row, owner.key)
        url = urls[owner_id]
        signal = _signal(row, None, url) if pages else _signal(row, url)
        signals.setdefault(owner_id, []).append(signal)
    return signals


def iter_findings(engine: Engine, run_id: int) -> Iterator[FindingExport]:
    """Yield the run's findings, most severe first (see the module docstring for the order)."""
    with engine.connect() as connection:
        query = (
            select(*FindingRow.__table__.columns)
            .where(FindingRow.run_id == run_id)
            .order_by(
                severity_rank().desc(),
                _text_order(connection, FindingRow.rule_id),
                _text_order(connection, func.coalesce(FindingRow.image_url, "")),
                _text_order(connection, func.coalesce(FindingRow.page_url, "")),
                _text_order(connection, func.coalesce(FindingRow.site, "")),
                _text_order(connection, FindingRow.fingerprint),
            )
        )
        result = connection.execution_options(yield_per=CHUNK_SIZE).execute(query)
        for row in result:
            yield FindingExport(
                rule_id=row.rule_id,
                pack=row.pack,
                jurisdiction=row.jurisdiction,
                outcome=Outcome(row.outcome),
                severity=Severity(row.severity),
                subject=Subject(row.subject),
                image_url=row.image_url,
                page_url=row.page_url,
                site=row.site,
                message=row.message,
                references=tuple(json.loads(row.references_json)),
                evidence=frozen_map(json.loads(row.evidence_json)),
                fingerprint=row.fingerprint,
                title=row.title,
                remediation=row.remediation,
            )


def iter_signals(engine: Engine, run_id: int) -> Iterator[SignalExport]:
    """Yield the run's image and page-level signals (see the module docstring for the order)."""
    with engine.connect() as connection:
        query = (
            select(
                *Signal.__table__.columns,
                Image.url.label("image_url"),
                Page.url.label("page_url"),
            )
            .outerjoin(Image, Image.id == Signal.image_id)
            .outerjoin(Page, Page.id == Signal.page_id)
            .where(Signal.run_id == run_id)
            .order_by(
                _text_order(connection, func.coalesce(Image.url, Page.url, "")),
                Signal.page_id.is_(None),
                _text_order(connection, Signal.mechanism),
                _text_order(connection, Signal.source_url),
                Signal.id,
            )
        )
        result = connection.execution_options(yield_per=CHUNK_SIZE).execute(query)
        for row in result:
            yield _signal(row, row.image_url, row.page_url)


def iter_skips(engine: Engine, run_id: int) -> Iterator[SkipRecord]:
    """Yield the run's skips ordered by URL, kind and reason."""
    with engine.connect() as connection:
        query = (
            select(*Skip.__table__.columns)
            .where(Skip.run_id == run_id)
            .order_by(
                _text_order(connection, Skip.url),
                _text_order(connection, Skip.kind),
                _text_order(connection, Skip.reason),
                Skip.id,
            )
        )
        result = connection.execution_options(yield_per=CHUNK_SIZE).execute(query)
        for row in result:
            yield SkipRecord(
                url=row.url, kind=row.kind, reason=row.reason, detail=row.detail, at=row.at
            )


def rule_stats(connection: Connection, run_id: int) -> list[RuleStat]:
    """Return the run's per-rule counts ordered by pack and rule id."""
    query = (
        select(*RuleStatRow.__table__.columns)
        .where(RuleStatRow.run_id == run_id)
        .order_by(
            _text_order(connection, RuleStatRow.pack), _text_order(connection, RuleStatRow.rule_id)
        )
    )
    return [
        RuleStat(
            rule_id=row.rule_id,
            pack=row.pack,
            title=row.title,
            severity=Severity(row.severity),
            passes=row.passes,
            fails=row.fails,
            reviews=row.reviews,
            insufficient=row.insufficient,
            not_applicable=row.not_applicable,
        )
        for row in connection.execute(query)
    ]


def _count(connection: Connection, query: Any) -> int:
    return int(connection.execute(query).scalar() or 0)


def run_summary(connection: Connection, run_id: int) -> RunSummary:
    """Return what run ``run_id`` stored: counts of pages, images, skips and findings."""
    get_run(connection, run_id)  # raises for an unknown run
    findings = connection.execute(
        select(FindingRow.severity, FindingRow.outcome, func.count())
        .where(FindingRow.run_id == run_id)
        .group_by(FindingRow.severity, FindingRow.outcome)
    )
    skip_reasons = connection.execute(
        select(Skip.kind, Skip.reason, func.count().label("n"))
        .where(Skip.run_id == run_id)
        .group_by(Skip.kind, Skip.reason)
        .order_by(func.count().desc(), Skip.kind, Skip.reason)
    )
    return RunSummary(
        pages=_count(connection, select(func.count()).where(Page.run_id == run_id)),
        images=_count(connection, select(func.count()).where(Image.run_id == run_id)),
        images_fetched=_count(
            connection,
            select(func.count()).where(Image.run_id == run_id, Image.fetched.is_(True)),
        ),
        skips=_count(connection, select(func.count()).where(Skip.run_id == run_id)),
        findings=_frozen_pairs({(sev, out): int(n) for sev, out, n in findings}),
        skip_reasons=tuple((kind, reason, int(n)) for kind, reason, n in skip_reasons),
    )


def _frozen_pairs(values: Mapping[tuple[str, str], int]) -> Mapping[tuple[str, str], int]:
    """Return a read-only copy of a mapping keyed by pairs."""
    return MappingProxyType(dict(values))
