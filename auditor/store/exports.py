"""The export records of what a crawl saw: images, pages, sites and their signals.

These frozen dataclasses are what :mod:`auditor.store.reader` yields for the subjects of a run;
they live apart from the queries so the export shapes can be read (and changed) on their own.
Run-level records and findings are in :mod:`auditor.store.run_records`.

The ``to_json()`` methods produce the export shapes of DESIGN 4.3, with the keys in a stable
order: first the documented keys, in the order the design lists them, then extra keys. The
``to_record()`` methods rebuild the pipeline records a row was stored from (for re-evaluation
without a new crawl); what the store normalises is noted on each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from auditor.extract import ExifFacts, ImageFacts
from auditor.extract.embedded import C2paFacts, XmpFacts
from auditor.extract.imagefacts import FaceFacts
from auditor.jurisdiction import Evidence as JurisdictionEvidence
from auditor.model import (
    CollectedCopy,
    Evaluation,
    ImageContext,
    ImageRecord,
    Observed,
    OriginFileRecord,
    PageRecord,
    Purpose,
    Scope,
    SignalRecord,
    Verdict,
    frozen_map,
)
from auditor.store.facts_json import facts_to_json


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
    observed: Observed = Observed.COLLECTION

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
        "observed",
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
                "observed": self.observed.value,
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
            observed=self.observed,
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
    face_detection: FaceFacts | None = None
    gps_country: str | None = None
    jurisdiction_evidence: tuple[JurisdictionEvidence, ...] = ()
    copy: CollectedCopy | None = None

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
        "face_boxes",
        "face_detector",
        "gps_country",
        "jurisdiction_evidence",
        "manifest",
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
            "face_boxes": (
                None
                if self.face_detection is None
                else [facts_to_json(box) for box in self.face_detection.boxes]
            ),
            "face_detector": None if self.face_detection is None else self.face_detection.detector,
            "gps_country": self.gps_country,
            "jurisdiction_evidence": [facts_to_json(item) for item in self.jurisdiction_evidence],
            "manifest": None
            if self.copy is None
            else {
                "key": self.copy.key,
                "local_path": self.copy.local_path,
                "extra": dict(self.copy.extra),
            },
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
            faces=self.face_detection,
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
            jurisdiction_evidence=self.jurisdiction_evidence,
            gps_country=self.gps_country,
            copy=self.copy,
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
