"""Build the flat fact maps the policy engine evaluates (docs/facts.md lists every name).

A fact that is not known is left **out** of the map (the engine reads it as missing, so no rule
can pass on it); a fact that is known to be empty is present with ``None``, ``False`` or ``[]``.
For example ``image.gps`` is absent when the image could not be decoded, and ``False`` when its
EXIF was read and holds no GPS block; ``image.faces`` is absent when face detection did not run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from auditor.config import CrawlerDeclaration
from auditor.jurisdiction import cctld
from auditor.model import Evaluation, ImageRecord, Observed, Purpose, SignalRecord, Verdict
from auditor.optout.record import decode_match

Facts = dict[str, object]


@dataclass(frozen=True)
class SiteFacts:
    """What is known about one origin when its images or the site itself are evaluated."""

    origin: str
    robots_status: str | None
    jurisdictions: Mapping[str, float]
    pages: int | None = None
    images: int | None = None
    categories: tuple[str, ...] | None = None  # None: none declared for its target


def declaration_facts(declaration: CrawlerDeclaration) -> Facts:
    """``crawler.*``: the declaration as written; ``None`` means "not provided"."""
    facts: Facts = {}
    for name, value in declaration.model_dump(mode="json").items():
        facts[f"crawler.{name}"] = list(value) if isinstance(value, list | tuple) else value
    return facts


def _jurisdiction_facts(likelihoods: Mapping[str, float]) -> Facts:
    return {f"jurisdiction.{code}": value for code, value in likelihoods.items()}


def site_facts(site: SiteFacts) -> Facts:
    """``site.*`` and the site's ``jurisdiction.*``; counts only once the crawl has finished."""
    facts: Facts = {
        "site.url": site.origin,
        "site.host": urlsplit(site.origin).hostname,
        "site.cctld": cctld(site.origin),
    }
    if site.robots_status is not None:
        facts["site.robots_status"] = site.robots_status
    if site.categories is not None:
        facts["site.categories"] = list(site.categories)
    if site.pages is not None:
        facts["site.pages"] = site.pages
    if site.images is not None:
        facts["site.images"] = site.images
    facts.update(_jurisdiction_facts(site.jurisdictions))
    return facts


#: Purposes whose refusal reserves text and data mining rights (DSM Art 4(3), law.md 7).
_RESERVED = frozenset({"crawl", "tdm", "ai-train", "genai-train"})


def _disallowed(record: SignalRecord) -> set[str]:
    return {p for p, verdict in record.purposes.items() if verdict is Verdict.DISALLOWED}


def _reserving(records: list[SignalRecord]) -> list[SignalRecord]:
    """Return the evaluated records that disallow a purpose whose refusal reserves TDM rights."""
    return [
        s for s in records if s.evaluation is Evaluation.EVALUATED and _RESERVED & _disallowed(s)
    ]


def _signal_facts(record: ImageRecord) -> Facts:
    """``signals.*``: which mechanisms spoke, which disallowed, which could not be evaluated.

    The facts describe the image as collected; what ``--refetch`` read from the live source
    (``observed == now``) only feeds ``signals.reserving_now``, present when there is any.
    """
    collected = [s for s in record.signals if s.observed is Observed.COLLECTION]
    evaluated = [s for s in collected if s.evaluation is Evaluation.EVALUATED]
    disallowing = [s for s in evaluated if Verdict.DISALLOWED in s.purposes.values()]
    not_evaluated = [s for s in collected if s.evaluation is not Evaluation.EVALUATED]
    reserving = _reserving(collected)
    facts: Facts = {
        "signals.mechanisms": sorted({s.mechanism for s in evaluated}),
        "signals.disallowing": sorted({s.mechanism for s in disallowing}),
        "signals.reserving": sorted({s.mechanism for s in reserving if "heuristic" not in s.notes}),
        "signals.heuristic_reserving": sorted(
            {s.mechanism for s in reserving if "heuristic" in s.notes}
        ),
        "signals.not_evaluated": sorted({s.mechanism for s in not_evaluated}),
    }
    live = [s for s in record.signals if s.observed is Observed.NOW]
    if live:
        facts["signals.reserving_now"] = sorted(
            {s.mechanism for s in _reserving(live) if "heuristic" not in s.notes}
        )
    return facts


def _copy_facts(record: ImageRecord) -> Facts:
    """``manifest.*``: the manifest row and stored copy; nothing for a crawled image."""
    copy = record.copy
    if copy is None:
        return {}
    facts: Facts = {
        "manifest.key": copy.key,
        "manifest.local_path": copy.local_path,
        "manifest.columns": sorted(copy.extra),
    }
    facts.update({f"manifest.extra.{name}": value for name, value in copy.extra.items()})
    return facts


def _optout_facts(record: ImageRecord, now: datetime) -> Facts:
    """``image.optout_*`` from the ``optout_list`` record; nothing when no list was checked.

    The mechanism writes no record when the image was checked and matched nothing, and a
    ``not_evaluated`` one when there was no list to check: only the latter leaves the facts
    missing. A match record the decoder cannot read leaves them missing too (never "none").
    """
    records = [s for s in record.signals if s.mechanism == "optout_list"]
    if any(s.evaluation is not Evaluation.EVALUATED for s in records):
        return {}
    if not records:
        return {
            "image.optout_match": "none",
            "image.optout_received": None,
            "image.optout_age_days": None,
            "image.optout_distance": None,
        }
    found = decode_match(records[0])
    try:
        received = datetime.fromisoformat(found.received or "") if found else None
    except ValueError:
        received = None
    if found is None or received is None:
        return {}
    received = received if received.tzinfo else received.replace(tzinfo=UTC)
    return {
        "image.optout_match": "near" if found.near else "exact",
        "image.optout_received": found.received,
        "image.optout_age_days": round((now - received).total_seconds() / 86400, 3),
        "image.optout_distance": found.distance,
    }


def image_facts(record: ImageRecord, now: datetime) -> Facts:
    """``image.*``, ``usage.*`` and the image's ``jurisdiction.*``."""
    contexts = record.contexts
    facts: Facts = {
        "image.url": record.url,
        "image.page_urls": list(record.page_urls),
        "image.fetched": record.fetched,
        "image.skip_reason": record.skip_reason,
        "image.status": record.status,
        "image.content_type": record.content_type,
        "image.license": next((c.license for c in contexts if c.license), None),
        "image.alt": next((c.alt for c in contexts if c.alt), None),
    }
    if contexts:
        facts["image.page_url"] = contexts[0].page_url
    if record.fetched_at is not None:
        facts["image.collected_at"] = record.fetched_at
        age = now - datetime.fromisoformat(record.fetched_at)
        facts["image.age_days"] = round(age.total_seconds() / 86400, 3)
    if record.facts is not None:
        extracted = record.facts
        facts["image.sha256"] = extracted.sha256
        facts["image.size_bytes"] = extracted.size_bytes
        if extracted.format is not None:
            facts["image.format"] = extracted.format
            facts["image.width"] = extracted.width
            facts["image.height"] = extracted.height
            facts["image.phash"] = extracted.phash
        if extracted.exif is not None:
            exif = extracted.exif
            facts["image.gps"] = exif.gps_present
            facts["image.camera_serial"] = exif.camera_serial is not None
            facts["image.exif_artist"] = exif.artist
            facts["image.exif_copyright"] = exif.copyright
            facts["image.exif_datetime"] = exif.datetime_original
            facts["image.gps_country"] = record.gps_country
        if extracted.faces is not None:
            facts["image.faces"] = extracted.faces.count
    for purpose in Purpose:
        facts[f"usage.{purpose.value}"] = str(record.usage.get(purpose.value, Verdict.UNKNOWN))
    facts["usage.conflicts"] = list(record.usage_conflicts)
    facts.update(_signal_facts(record))
    facts.update(_copy_facts(record))
    facts.update(_optout_facts(record, now))
    facts.update(_jurisdiction_facts(record.jurisdictions))
    return facts
