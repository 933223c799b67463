"""Opt-out and consent signals: one module per mechanism, combined by :mod:`auditor.signals.usage`.

Each mechanism reads an evidence bundle (:mod:`auditor.signals.evidence`) and returns
:class:`auditor.model.SignalRecord` values (optout-signals.md 9.7) with its own per-purpose
contribution; it never decides the final verdict and never applies the implications between
purposes. The registries below are explicit and complete: the orchestrator runs every entry for
every image (or page), and nothing registers itself on import.

A mechanism returns no record when it was evaluated and found nothing, and one
``not_evaluated`` (or ``error``) record when it could not be evaluated, so policy packs can see
the difference between "no signal" and "not looked at".
"""

from __future__ import annotations

from collections.abc import Callable

from auditor.model import SignalRecord
from auditor.signals.aitxt import ai_txt_signals
from auditor.signals.c2pa import c2pa_signals
from auditor.signals.content_signal import content_signal_signals
from auditor.signals.content_usage import (
    content_usage_header_signals,
    content_usage_robots_signals,
)
from auditor.signals.evidence import ImageEvidence, OriginEvidence, PageEvidence
from auditor.signals.iptc import iptc_signals
from auditor.signals.licence import licence_signals
from auditor.signals.licence_links import licence_link_signals
from auditor.signals.optout_list import OptOutMatcher, optout_mechanism
from auditor.signals.registries import spawning_signals
from auditor.signals.robots import robots_signals
from auditor.signals.robots_ai import disallow_ai_training_signals, robots_ai_token_signals
from auditor.signals.robots_meta import (
    meta_robots_signals,
    page_meta_robots_signals,
    page_x_robots_tag_signals,
    x_robots_tag_signals,
)
from auditor.signals.tdmrep import page_tdmrep_signals, tdmrep_signals

ImageMechanism = Callable[[ImageEvidence], list[SignalRecord]]
PageMechanism = Callable[[PageEvidence, OriginEvidence, tuple[str, ...]], list[SignalRecord]]


def image_mechanisms(
    optout: OptOutMatcher | None, registry: ImageMechanism = spawning_signals
) -> dict[str, ImageMechanism]:
    """Every mechanism evaluated for an image, in evidence order (origin, response, page, file).

    Built once per run because two slots depend on the run: the opt-out list's matcher and the
    Spawning registry client (without one, the registry is recorded as not evaluated).
    """
    return {
        "robots": robots_signals,
        "robots.ai_tokens": robots_ai_token_signals,
        "robots.content_usage": content_usage_robots_signals,
        "robots.content_signal": content_signal_signals,
        "robots.disallow_ai_training": disallow_ai_training_signals,
        "tdmrep": tdmrep_signals,
        "ai_txt": ai_txt_signals,
        "x_robots_tag": x_robots_tag_signals,
        "content_usage.header": content_usage_header_signals,
        "meta_robots": meta_robots_signals,
        "licence.link": licence_link_signals,
        "iptc.data_mining": iptc_signals,
        "licence.embedded": licence_signals,
        "c2pa": c2pa_signals,
        "optout_list": optout_mechanism(optout),
        "registry.spawning": registry,
    }


def _page_x_robots_tag(
    page: PageEvidence, origin: OriginEvidence, tokens: tuple[str, ...]
) -> list[SignalRecord]:
    return page_x_robots_tag_signals(page, tokens)


def _page_meta_robots(
    page: PageEvidence, origin: OriginEvidence, tokens: tuple[str, ...]
) -> list[SignalRecord]:
    return page_meta_robots_signals(page, tokens)


def _page_tdmrep(
    page: PageEvidence, origin: OriginEvidence, tokens: tuple[str, ...]
) -> list[SignalRecord]:
    return page_tdmrep_signals(page, origin)


#: Mechanisms evaluated for the page resource itself (its own response and markup).
PAGE_MECHANISMS: dict[str, PageMechanism] = {
    "x_robots_tag": _page_x_robots_tag,
    "meta_robots": _page_meta_robots,
    "tdmrep": _page_tdmrep,
}

__all__ = ["PAGE_MECHANISMS", "ImageMechanism", "PageMechanism", "image_mechanisms"]
