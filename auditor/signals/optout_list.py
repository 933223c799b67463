"""The opt-out list slot (mechanism ``optout_list``): people's objections and erasure requests.

The list itself (storage, perceptual-hash index, ``auditor optout`` commands) is another piece of
work; this module is the contract between it and the verdicts. A matcher answers whether an image
is on the list; a match makes every purpose ``disallowed``, because an objection under the data
protection packs covers any further processing, not only training. No matcher configured means
the mechanism was not evaluated, and the record says so (never "allowed").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from auditor.model import Evaluation, Purpose, Scope, SignalRecord, Verdict, frozen_map
from auditor.signals.evidence import ImageEvidence


@dataclass(frozen=True)
class OptOutMatch:
    """Why an image matched an opt-out entry."""

    entry: str  # the URL, domain or hash on the list
    kind: str  # "url", "domain", "phash"
    received: str | None = None  # when the request was received (ISO date)
    distance: int | None = None  # Hamming distance for perceptual-hash matches


class OptOutMatcher(Protocol):
    """Looks an image up on an opt-out list."""

    source: str  # where the list lives, recorded as the evidence's source

    def match(self, url: str, sha256: str | None, phash: str | None) -> OptOutMatch | None:
        """Return the matching entry, or None."""


class StaticOptOutList:
    """A list of exact URLs and domains held in memory (a domain covers its subdomains)."""

    def __init__(self, *, urls: Iterable[str] = (), domains: Iterable[str] = (), source: str):
        self.source = source
        self._urls = frozenset(urls)
        self._domains = frozenset(domain.lower().strip(".") for domain in domains)

    def match(self, url: str, sha256: str | None, phash: str | None) -> OptOutMatch | None:
        """Match by exact URL, then by the host or any parent domain of it."""
        if url in self._urls:
            return OptOutMatch(url, "url")
        labels = (urlsplit(url).hostname or "").split(".")
        for start in range(len(labels)):
            domain = ".".join(labels[start:])
            if domain in self._domains:
                return OptOutMatch(domain, "domain")
        return None


def optout_mechanism(
    matcher: OptOutMatcher | None,
) -> Callable[[ImageEvidence], list[SignalRecord]]:
    """Build the ``optout_list`` mechanism for one run's matcher (None: no list configured)."""

    def optout_signals(evidence: ImageEvidence) -> list[SignalRecord]:
        if matcher is None:
            return [
                SignalRecord(
                    mechanism="optout_list",
                    scope=Scope.LIST,
                    source_url="optout_list",
                    applies_to=evidence.url,
                    raw_value=None,
                    purposes=frozen_map(),
                    notes=("no_optout_list_configured",),
                    evaluation=Evaluation.NOT_EVALUATED,
                )
            ]
        facts = evidence.facts
        found = matcher.match(
            evidence.url, facts.sha256 if facts else None, facts.phash if facts else None
        )
        if found is None:
            return []
        distance = f", distance {found.distance}" if found.distance is not None else ""
        return [
            SignalRecord(
                mechanism="optout_list",
                scope=Scope.LIST,
                source_url=matcher.source,
                applies_to=evidence.url,
                raw_value=found.entry,
                purposes=frozen_map(dict.fromkeys((p.value for p in Purpose), Verdict.DISALLOWED)),
                parsed=f"{found.kind} match{distance}",
                fetched_at=found.received,
                notes=(f"match_{found.kind}",),
            )
        ]

    return optout_signals
