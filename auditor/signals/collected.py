"""Signals for an image a crawler already collected (``auditor manifest``): then and now.

A manifest records the image, and perhaps its bytes, but not the robots.txt, TDMRep file,
ai.txt, response headers or page the crawler saw when it collected it. So for each row:

- :func:`collected_signals` (``observed = collection``) runs the mechanisms that read the stored
  copy (embedded IPTC/PLUS, licence fields, C2PA) and the look-ups (opt-out list, registries),
  and records every mechanism that needs the live source as ``not_evaluated`` with the note
  ``not_in_manifest``: a reservation may have been there, so its absence is not permission;
- :func:`live_signals` (``observed = now``, only with ``--refetch``) runs the origin and response
  mechanisms on the live source, and the embedded ones on the live bytes when there is no stored
  copy. Pages are not refetched (a manifest can name millions), so the page mechanisms are
  recorded ``not_evaluated`` with the note ``page_not_refetched``.

Every slot of :func:`auditor.signals.image_mechanisms` is classified below; a test keeps the
classification complete, so a new mechanism cannot silently go unrecorded in manifest mode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from auditor.crawl.origins import FetchMeta, RobotsEntry
from auditor.crawl.robots import policy_from_fetch
from auditor.model import Evaluation, Observed, Scope, SignalRecord, frozen_map
from auditor.signals.aitxt import parse_ai_txt
from auditor.signals.evidence import ImageEvidence, OriginEvidence
from auditor.signals.tdmrep import parse_tdmrep_file

__all__ = [
    "EMBEDDED_SLOTS",
    "LIVE_SLOTS",
    "LOOKUP_SLOTS",
    "collected_signals",
    "live_signals",
    "unobserved_origin",
]

#: Registry slots that read the live source, with the mechanisms (and scopes) each records.
LIVE_SLOTS: Mapping[str, tuple[tuple[str, Scope], ...]] = {
    "robots": (("robots", Scope.ORIGIN),),
    "robots.ai_tokens": (("robots.ai_tokens", Scope.ORIGIN),),
    "robots.content_usage": (("robots.content_usage", Scope.ORIGIN),),
    "robots.content_signal": (("robots.content_signal", Scope.ORIGIN),),
    "robots.disallow_ai_training": (("robots.disallow_ai_training", Scope.ORIGIN),),
    "tdmrep": (
        ("tdmrep.file", Scope.ORIGIN),
        ("tdmrep.header", Scope.RESPONSE),
        ("tdmrep.html", Scope.PAGE),
    ),
    "ai_txt": (("ai_txt", Scope.ORIGIN),),
    "x_robots_tag": (("x_robots_tag", Scope.RESPONSE),),
    "content_usage.header": (("content_usage.header", Scope.RESPONSE),),
    "meta_robots": (("meta_robots", Scope.PAGE),),
    "licence.link": (("licence.link", Scope.PAGE),),
}
#: Registry slots that read the image's own bytes.
EMBEDDED_SLOTS = frozenset({"iptc.data_mining", "licence.embedded", "c2pa"})
#: Registry slots that look the image up elsewhere (the opt-out list, registries).
LOOKUP_SLOTS = frozenset({"optout_list", "registry.spawning"})

#: The shape of a registry entry (auditor.signals.ImageMechanism; not imported: no cycle).
Mechanisms = Mapping[str, Callable[[ImageEvidence], list[SignalRecord]]]


_NOT_FETCHED = "not_fetched"


def unobserved_origin(origin: str) -> OriginEvidence:
    """Return the evidence of an origin whose files nobody fetched (every one ``not_fetched``).

    The collected evidence of a manifest row needs an origin, but no mechanism that reads it
    runs on that evidence (:data:`LIVE_SLOTS` are recorded ``not_evaluated`` instead).
    """
    meta = FetchMeta(origin, origin, None, None, None, _NOT_FETCHED)
    robots = RobotsEntry(
        origin, f"{origin}/robots.txt", f"{origin}/robots.txt",
        policy_from_fetch(None, None, error=_NOT_FETCHED), "", None, 0.0,
    )  # fmt: skip
    tdmrep = parse_tdmrep_file(None, None, _NOT_FETCHED)
    ai_txt = parse_ai_txt(None, None, _NOT_FETCHED)
    return OriginEvidence(origin, robots, meta, tdmrep, meta, ai_txt)


def _unrecorded(url: str, mechanism: str, scope: Scope, note: str, detail: str) -> SignalRecord:
    return SignalRecord(
        mechanism=mechanism,
        scope=scope,
        source_url=url,
        applies_to=url,
        raw_value=None,
        purposes=frozen_map(),
        parsed=detail,
        notes=(note,),
        evaluation=Evaluation.NOT_EVALUATED,
    )


def collected_signals(mechanisms: Mechanisms, evidence: ImageEvidence) -> list[SignalRecord]:
    """Return the signals about the image as collected (``evidence.facts``: the stored copy)."""
    records: list[SignalRecord] = []
    for slot, mechanism in mechanisms.items():
        live = LIVE_SLOTS.get(slot)
        if live is None:
            records.extend(mechanism(evidence))
            continue
        records.extend(
            _unrecorded(
                evidence.url,
                name,
                scope,
                "not_in_manifest",
                "the manifest does not record what the source said at collection",
            )
            for name, scope in live
        )
    return records


def live_signals(
    mechanisms: Mechanisms, evidence: ImageEvidence, *, embedded: bool
) -> list[SignalRecord]:
    """Return what the live source says now (``evidence``: the refetch, with no pages).

    ``embedded`` runs the embedded mechanisms on ``evidence.facts`` too: set it when those facts
    come from the live bytes (no stored copy), so the embedded evidence is labelled ``now``.
    """
    records: list[SignalRecord] = []
    for slot, mechanism in mechanisms.items():
        live = LIVE_SLOTS.get(slot)
        if live is not None:
            records.extend(mechanism(evidence))
            records.extend(
                _unrecorded(
                    evidence.url,
                    name,
                    scope,
                    "page_not_refetched",
                    "pages are not refetched in manifest mode",
                )
                for name, scope in live
                if scope is Scope.PAGE
            )
        elif embedded and slot in EMBEDDED_SLOTS:
            records.extend(mechanism(evidence))
    return [replace(record, observed=Observed.NOW) for record in records]
