"""Fetched database rows to export records: the decoding half of :mod:`auditor.store.reader`.

The queries in :mod:`auditor.store.reader` decide what to fetch and in which order; the functions
here only turn one row (with its already fetched contexts and signals) into a record, undoing
the JSON encoding of :mod:`auditor.store.rows`. Keeping them apart keeps both halves short.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from auditor.extract.embedded import C2paFacts, XmpFacts
from auditor.extract.imagefacts import FaceFacts
from auditor.jurisdiction import Evidence as JurisdictionEvidence
from auditor.model import (
    CollectedCopy,
    Evaluation,
    ImageContext,
    Observed,
    OriginFileRecord,
    Scope,
    Verdict,
    frozen_map,
)
from auditor.store.exports import ExifExport, ImageExport, PageExport, SignalExport, SiteExport
from auditor.store.facts_json import facts_from_json
from auditor.store.schema import ORIGIN_FILE_KINDS, USAGE_COLUMNS


def counts_from_json(text: str) -> Mapping[str, int]:
    """Return a stored ``{key: count}`` JSON object as a read-only mapping."""
    return frozen_map({str(key): int(value) for key, value in json.loads(text).items()})


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(name), str(value)) for name, value in json.loads(text))


def signal_from_row(row: Any, image_url: str | None, page_url: str | None = None) -> SignalExport:
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
        observed=Observed(row.observed),
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


def image_from_row(
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
        face_detection=(
            None
            if row.faces_json is None
            else facts_from_json(FaceFacts, json.loads(row.faces_json))
        ),
        gps_country=row.gps_country,
        jurisdiction_evidence=tuple(
            facts_from_json(JurisdictionEvidence, item)
            for item in json.loads(row.jurisdiction_evidence_json)
        ),
        copy=_copy(row),
    )


def _copy(row: Any) -> CollectedCopy | None:
    """Return where a manifest row's copy is stored; ``None`` for a crawled image."""
    if row.source_key is None:
        return None
    extra = json.loads(row.extra_json) if row.extra_json else {}
    return CollectedCopy(row.source_key, row.local_path, frozen_map(extra))


def page_from_row(row: Any, signals: Sequence[SignalExport]) -> PageExport:
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


def site_from_row(row: Any) -> SiteExport:
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
