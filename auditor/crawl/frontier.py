"""The page frontier: which pages to visit, once each, within each target's scope and limits."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from auditor.crawl.urls import InvalidURLError, in_scope, normalise_url


@dataclass(frozen=True)
class Seed:
    """A target as the crawler sees it: where to start and how far to go."""

    url: str
    max_pages: int
    max_depth: int
    scope: str
    jurisdictions: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageTask:
    """One page to fetch: its URL, its distance from the seed and the target it belongs to."""

    url: str
    depth: int
    target: int


class Frontier:
    """A FIFO of page tasks (breadth-first), de-duplicated on normalised URLs.

    Each page belongs to the target whose seed discovered it; a link is queued only when it is
    in that target's scope, within its depth limit, and the target has page budget left.
    """

    def __init__(self, seeds: tuple[Seed, ...]) -> None:
        self.seeds = seeds
        self.queue: asyncio.Queue[PageTask] = asyncio.Queue()
        self._seen: set[str] = set()
        self._queued_per_target = [0] * len(seeds)
        self._over_budget: set[int] = set()
        self._reported: set[int] = set()

    def add_seeds(self) -> list[tuple[str, str]]:
        """Queue every seed; return (seed, reason) for seeds that are not valid URLs."""
        invalid = []
        for index, seed in enumerate(self.seeds):
            try:
                self._push(normalise_url(seed.url), 0, index)
            except InvalidURLError as exc:
                invalid.append((seed.url, str(exc)))
        return invalid

    def add_link(self, url: str, depth: int, target: int) -> bool:
        """Queue a discovered link if it is new, in scope and within limits."""
        seed = self.seeds[target]
        try:
            url = normalise_url(url)
        except InvalidURLError:
            return False
        if url in self._seen or depth > seed.max_depth or not in_scope(url, seed.url, seed.scope):
            return False
        if self._queued_per_target[target] >= seed.max_pages:
            self._over_budget.add(target)
            return False
        self._push(url, depth, target)
        return True

    def newly_over_budget(self) -> list[int]:
        """Targets whose page budget turned away a link since the last call (each once)."""
        fresh = sorted(self._over_budget - self._reported)
        self._reported.update(fresh)
        return fresh

    def mark_seen(self, url: str) -> None:
        """Record a URL reached by redirect so it is not queued again under its final name."""
        self._seen.add(url)

    def _push(self, url: str, depth: int, target: int) -> None:
        if url in self._seen:
            return
        self._seen.add(url)
        self._queued_per_target[target] += 1
        self.queue.put_nowait(PageTask(url, depth, target))
