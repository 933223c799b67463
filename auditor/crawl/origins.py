"""Per-origin robots.txt: fetched once, cached as RFC 9309 allows, shared by every request.

The cache implements the status and caching rules of optout-signals.md 1.1: a parsed or
"unavailable" file is kept for at most 24 hours (a shorter ``Cache-Control: max-age`` wins, never
a longer one); an "unreachable" outcome (429, 5xx, network error) disallows everything but is kept
only for a short retry interval, so one bad moment never blocks an origin for the whole run.
Concurrent requests for one origin wait for a single fetch. The clock is injectable so expiry is
testable without sleeping.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from auditor.crawl.fetcher import Fetcher, FetchResult
from auditor.crawl.robots import MAX_ROBOTS_BYTES, RobotsPolicy, policy_from_fetch

ROBOTS_TTL_SECONDS = 24 * 3600
#: Redirect hops followed for robots.txt: RFC 9309 2.3.1.2 requires at least five.
ROBOTS_REDIRECTS = 5
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class RobotsEntry:
    """The robots.txt that governs one origin, with the evidence of how it was obtained."""

    origin: str
    source_url: str
    final_url: str
    policy: RobotsPolicy
    fetched_at: str
    sha256: str | None
    expires_at: float


def _ttl(result: FetchResult, policy: RobotsPolicy, retry_after: float) -> float:
    if policy.transient:
        return retry_after
    max_age = _MAX_AGE.search(result.header("cache-control") or "")
    if max_age is not None:
        return min(float(max_age.group(1)), ROBOTS_TTL_SECONDS)
    return ROBOTS_TTL_SECONDS


class RobotsCache:
    """Fetches and caches robots.txt per origin (scheme, host and port)."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        clock: Callable[[], float] = time.monotonic,
        retry_after: float = 30.0,
    ) -> None:
        self._fetcher = fetcher
        self._clock = clock
        self._retry_after = retry_after
        self._entries: dict[str, RobotsEntry] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetches = 0

    async def get(self, origin: str) -> RobotsEntry:
        """Return the current entry for ``origin``, fetching it when absent or expired."""
        entry = self._entries.get(origin)
        if entry is not None and entry.expires_at > self._clock():
            return entry
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            entry = self._entries.get(origin)
            if entry is not None and entry.expires_at > self._clock():
                return entry
            entry = await self._fetch(origin)
            self._entries[origin] = entry
            return entry

    def entries(self) -> list[RobotsEntry]:
        """Every origin seen so far, for the sites table."""
        return [self._entries[origin] for origin in sorted(self._entries)]

    async def _fetch(self, origin: str) -> RobotsEntry:
        self.fetches += 1
        source = f"{origin}/robots.txt"
        result = await self._fetcher.fetch(
            source,
            # One byte past the parse limit lets the parser tell a cut file from one that
            # happens to be exactly the limit long.
            max_bytes=MAX_ROBOTS_BYTES + 1,
            truncate=True,
            accept="text/plain, */*;q=0.1",
            max_redirects=ROBOTS_REDIRECTS,
        )
        redirect_limit = result.error == "redirect_limit"
        network_error = None if redirect_limit else result.error
        policy = policy_from_fetch(
            result.status,
            result.body,
            error=network_error,
            redirect_limit_hit=redirect_limit,
        )
        digest = hashlib.sha256(result.body).hexdigest() if result.body is not None else None
        return RobotsEntry(
            origin=origin,
            source_url=source,
            final_url=result.final_url,
            policy=policy,
            fetched_at=result.fetched_at,
            sha256=digest,
            expires_at=self._clock() + _ttl(result, policy, self._retry_after),
        )
