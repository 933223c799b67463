"""Opt-out and consent signals: one module per mechanism, combined by :mod:`auditor.signals.usage`.

Each mechanism turns the evidence it governs into :class:`auditor.model.SignalRecord` values
(optout-signals.md 9.7) with a per-purpose contribution; it never decides the final verdict.
``ORIGIN_MECHANISMS`` is the explicit registry of mechanisms evaluated from an image's origin
files; later mechanisms (headers, page meta, embedded metadata) get registries of their own shape.
"""

from __future__ import annotations

from collections.abc import Callable

from auditor.crawl.origins import RobotsEntry
from auditor.model import SignalRecord
from auditor.signals.robots import robots_signals

#: (robots entry of the image's origin, image URL, declared tokens) -> evidence records.
OriginMechanism = Callable[[RobotsEntry, str, tuple[str, ...]], list[SignalRecord]]

ORIGIN_MECHANISMS: dict[str, OriginMechanism] = {
    "robots": robots_signals,
}

__all__ = ["ORIGIN_MECHANISMS", "OriginMechanism"]
