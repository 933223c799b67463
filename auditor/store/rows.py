"""Pipeline records to plain ``INSERT`` row dictionaries, and the store's JSON encoding.

:class:`~auditor.store.writer.StoreWriter` calls these builders as soon as a record is added, so
a bad value (an unknown purpose, a pass stored as a finding, evidence JSON cannot represent)
fails at the ``add_*`` call that passed it. They are pure functions with no database access,
which is why they live apart from the writer's buffering and flushing. :func:`dumps` is the one
JSON encoding of every ``*_json`` column.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import PurePath
from typing import Any, Protocol

from auditor.extract.embedded import C2paFacts, XmpFacts
from auditor.extract.imagefacts import FaceFacts
from auditor.model import (
    FINDING_OUTCOMES,
    Evaluation,
    Finding,
    ImageContext,
    ImageRecord,
    Observed,
    OriginFileRecord,
    Outcome,
    PageRecord,
    Purpose,
    Scope,
    Severity,
    SignalRecord,
    Subject,
    Verdict,
)
from auditor.store.schema import (
    ORIGIN_FILE_FIELDS,
    ORIGIN_FILE_KINDS,
    USAGE_COLUMNS,
)

Row = dict[str, Any]

#: ``rule_stats`` column for each outcome key accepted by :meth:`StoreWriter.add_rule_stats`.
OUTCOME_COLUMNS: dict[str, str] = {
    Outcome.PASS.value: "passes",
    Outcome.FAIL.value: "fails",
    Outcome.REVIEW.value: "reviews",
    Outcome.INSUFFICIENT_DATA.value: "insufficient",
    Outcome.NOT_APPLICABLE.value: "not_applicable",
}


class RuleMeta(Protocol):
    """What :meth:`StoreWriter.add_rule_stats` needs to know about a rule besides its counts.

    A compiled policy rule (or any object with these two read-only attributes) fits.
    """

    @property
    def title(self) -> str:
        """The rule's one-line title."""
        ...

    @property
    def severity(self) -> Severity | str:
        """The rule's severity."""
        ...


def dumps(value: Any) -> str:
    """Serialise ``value`` as the store's JSON text: sorted keys, compact, UTF-8, finite.

    Read-only mappings, dataclass instances (an object of their fields, nested ones included),
    sets, paths, dates and enums are converted; anything else that JSON cannot represent raises
    ``TypeError`` (or ``ValueError`` for NaN and infinities).
    """
    return _ENCODER.encode(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # One level at a time, the encoder recursing: ``dataclasses.asdict`` deep-copies every
        # value first, which made an image's XMP facts cost 3.5 % of the crawling process.
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_ENCODER = json.JSONEncoder(
    sort_keys=True,
    separators=(",", ":"),
    ensure_ascii=False,
    allow_nan=False,
    default=_json_default,
)

_PURPOSES = frozenset(purpose.value for purpose in Purpose)


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _verdicts(values: Mapping[str, Any], *, what: str) -> dict[str, str]:
    """Return ``values`` as ``{purpose: verdict}`` strings, rejecting unknown purposes."""
    result: dict[str, str] = {}
    for key, verdict in values.items():
        purpose = str(key)
        if purpose not in _PURPOSES:
            raise ValueError(
                f"{what}: unknown purpose {purpose!r}, expected one of {sorted(_PURPOSES)}"
            )
        result[purpose] = verdict.value if isinstance(verdict, Verdict) else Verdict(verdict).value
    return result


def _pairs(pairs: Iterable[tuple[str, str]]) -> str:
    return dumps([list(pair) for pair in pairs])


def _facts_json(value: XmpFacts | C2paFacts | FaceFacts | None) -> str | None:
    """Return embedded facts as a JSON object of their fields, ``None``: not examined.

    Values are kept as the extractor produced them (it cleans and coarsens); nothing is dropped.
    """
    if value is None:
        return None
    return dumps(value)


def _purpose_list(values: Iterable[str], *, what: str) -> list[str]:
    """Return ``values`` as purpose strings in the given order, rejecting unknown purposes."""
    result: list[str] = []
    for value in values:
        purpose = value.value if isinstance(value, Enum) else str(value)
        if purpose not in _PURPOSES:
            raise ValueError(
                f"{what}: unknown purpose {purpose!r}, expected one of {sorted(_PURPOSES)}"
            )
        result.append(purpose)
    return result


def site_columns(files: Iterable[OriginFileRecord]) -> Row:
    """Return the ``sites`` columns set by ``files`` (a later record of a kind wins)."""
    columns: Row = {}
    for file in files:
        if file.kind not in ORIGIN_FILE_KINDS:
            raise ValueError(
                f"origin file kind {file.kind!r}: expected one of {', '.join(ORIGIN_FILE_KINDS)}"
            )
        values = (file.status, file.http_status, file.sha256, file.fetched_at)
        for suffix, value in zip(ORIGIN_FILE_FIELDS, values, strict=True):
            columns[f"{file.kind}_{suffix}"] = value
    return columns


def page_row(page: PageRecord) -> Row:
    """Return the ``pages`` row for ``page`` (site resolved at flush time)."""
    return {
        "url": page.url,
        "final_url": page.final_url,
        "depth": page.depth,
        "status": page.status,
        "content_type": page.content_type,
        "fetched_at": page.fetched_at,
        "title": page.title,
        "lang": page.lang,
        "hreflang_json": _pairs(page.hreflang),
        "meta_robots_json": _pairs(page.meta_robots),
        "license_links_json": dumps(list(page.license_links)),
        "headers_json": _pairs(page.headers),
        "tdm_meta_json": _pairs(page.tdm_meta),
        "image_count": page.image_count,
        "link_count": page.link_count,
        "truncated": page.truncated,
    }


def image_row(image: ImageRecord) -> Row:
    """Return the ``images`` row for ``image``; ``faces`` is NULL when detection did not run."""
    facts = image.facts
    exif = facts.exif if facts is not None else None
    usage = _verdicts(image.usage, what=f"usage of {image.url}")
    row: Row = {
        "url": image.url,
        "fetched": image.fetched,
        "skip_reason": image.skip_reason,
        "fetched_at": image.fetched_at,
        "status": image.status,
        "content_type": image.content_type,
        "headers_json": _pairs(image.headers),
        "size_bytes": facts.size_bytes if facts is not None else None,
        "sha256": facts.sha256 if facts is not None else None,
        "phash": facts.phash if facts is not None else None,
        "format": facts.format if facts is not None else None,
        "mime": facts.mime if facts is not None else None,
        "width": facts.width if facts is not None else None,
        "height": facts.height if facts is not None else None,
        "frames": facts.frames if facts is not None else None,
        "faces": facts.faces.count if facts is not None and facts.faces is not None else None,
        "faces_json": _facts_json(facts.faces) if facts is not None else None,
        "gps_country": image.gps_country,
        "jurisdiction_evidence_json": dumps(image.jurisdiction_evidence),
        "gps": exif.gps_present if exif is not None else None,
        "gps_lat": _finite(exif.gps_lat) if exif is not None else None,
        "gps_lon": _finite(exif.gps_lon) if exif is not None else None,
        "exif_datetime": exif.datetime_original if exif is not None else None,
        "camera_serial": exif.camera_serial if exif is not None else None,
        "exif_artist": exif.artist if exif is not None else None,
        "exif_copyright": exif.copyright if exif is not None else None,
        "exif_make": exif.make if exif is not None else None,
        "exif_model": exif.model if exif is not None else None,
        "extract_error": facts.error if facts is not None else None,
        "extract_error_detail": facts.error_detail if facts is not None else None,
        "jurisdictions_json": dumps(
            {
                str(code): float(score)
                for code, score in image.jurisdictions.items()
                if math.isfinite(score)
            }
        ),
        "usage_conflicts_json": dumps(
            _purpose_list(image.usage_conflicts, what=f"usage conflicts of {image.url}")
        ),
        "xmp_json": _facts_json(facts.xmp) if facts is not None else None,
        "c2pa_json": _facts_json(facts.c2pa) if facts is not None else None,
        "source_key": image.copy.key if image.copy is not None else None,
        "local_path": image.copy.local_path if image.copy is not None else None,
        "extra_json": dumps(dict(image.copy.extra)) if image.copy is not None else None,
    }
    for purpose, column in USAGE_COLUMNS.items():
        row[column] = usage.get(purpose, Verdict.UNKNOWN.value)
    return row


def context_row(context: ImageContext) -> Row:
    """Return the ``image_contexts`` row for ``context`` (image id added at flush time)."""
    return {
        "page_url": context.page_url,
        "kind": context.kind,
        "alt": context.alt,
        "license": context.license,
        "credit_text": context.credit_text,
        "copyright_notice": context.copyright_notice,
        "acquire_license_page": context.acquire_license_page,
    }


def signal_row(signal: SignalRecord) -> Row:
    """Return the ``signals`` row for ``signal`` (run and image or page ids added at flush)."""
    return {
        "mechanism": signal.mechanism,
        "scope": Scope(signal.scope).value,
        "source_url": signal.source_url,
        "applies_to": signal.applies_to,
        "raw_value": signal.raw_value,
        "fetched_at": signal.fetched_at,
        "http_status": signal.http_status,
        "parsed": signal.parsed,
        "purposes_json": dumps(_verdicts(signal.purposes, what=f"{signal.mechanism} signal")),
        "notes_json": dumps(list(signal.notes)),
        "token": signal.token,
        "sha256": signal.sha256,
        "evaluation": Evaluation(signal.evaluation).value,
        "observed": Observed(signal.observed).value,
    }


def finding_row(finding: Finding) -> Row:
    """Return the ``findings`` row for ``finding``; passes are counted, never stored."""
    outcome = Outcome(finding.outcome)
    if outcome not in FINDING_OUTCOMES:
        raise ValueError(
            f"finding {finding.rule_id}: outcome {outcome.value!r} is counted in rule stats, "
            "not stored as a finding"
        )
    return {
        "rule_id": finding.rule_id,
        "pack": finding.pack,
        "jurisdiction": finding.jurisdiction,
        "outcome": outcome.value,
        "severity": Severity(finding.severity).value,
        "subject": Subject(finding.subject).value,
        "title": finding.title,
        "image_url": finding.image_url,
        "page_url": finding.page_url,
        "site": finding.site,
        "message": finding.message,
        "references_json": dumps(list(finding.references)),
        "evidence_json": dumps(finding.evidence),
        "fingerprint": finding.fingerprint,
        "remediation": finding.remediation,
    }


def rule_stat_row(pack: str, rule_id: str, counts: Mapping[str, int], rule: RuleMeta) -> Row:
    """Return the ``rule_stats`` row for one rule's ``{outcome: count}``."""
    row: Row = {
        "pack": pack,
        "rule_id": rule_id,
        "title": rule.title,
        "severity": Severity(rule.severity).value,
    }
    row.update(dict.fromkeys(OUTCOME_COLUMNS.values(), 0))
    for outcome, count in counts.items():
        column = OUTCOME_COLUMNS.get(str(outcome))
        if column is None:
            raise ValueError(
                f"rule stats for {rule_id}: unknown outcome {outcome!r}, "
                f"expected one of {sorted(OUTCOME_COLUMNS)}"
            )
        row[column] = int(count)
    return row
