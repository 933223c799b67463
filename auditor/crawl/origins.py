"""Per-origin files: fetched once, cached within their allowed lifetime, shared by every request.

robots.txt has its own cache (below); tdmrep.json and ai.txt use :class:`DocumentCache`, which
is generic over the parser so this crawl module never depends on the signal mechanisms that
interpret the files.


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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from auditor.crawl.fetcher import Fetcher, FetchResult
from auditor.crawl.netsafety import PRIVATE_ADDRESS
from auditor.crawl.robots import MAX_ROBOTS_BYTES, RobotsPolicy, path_and_query, policy_from_fetch
from auditor.crawl.urls import origin_of

ROBOTS_TTL_SECONDS = 24 * 3600
#: Redirect hops followed for robots.txt: RFC 9309 2.3.1.2 requires at least five.
ROBOTS_REDIRECTS = 5
_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)
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


@dataclass(frozen=True)
class FetchMeta:
    """How an origin document was obtained: the evidence fields of optout-signals.md 9.7."""

    source_url: str
    final_url: str
    status: int | None
    fetched_at: str | None
    sha256: str | None
    error: str | None  # network error, or a refusal (REFUSALS: own robots.txt, network safety)

    @property
    def outcome(self) -> str:
        """One word for the sites table: fetched, unavailable, refused or unreachable."""
        if self.error in REFUSALS:
            return "refused"
        if self.error is not None:
            return "unreachable"
        ok = self.status is not None and 200 <= self.status < 300  # noqa: PLR2004
        return "fetched" if ok else "unavailable"


@dataclass(frozen=True)
class OriginDocument(Generic[_T_co]):
    """A parsed origin document with the evidence of its fetch."""

    meta: FetchMeta
    parsed: _T_co
    expires_at: float


#: Parses a fetched document: (HTTP status, body, network error) -> the mechanism's own model.
DocumentParser = Callable[[int | None, bytes | None, str | None], _T]


class DocumentCache(Generic[_T]):
    """One origin document kind (tdmrep.json, ai.txt): fetched once per origin, kept 24 h.

    The fetch goes through ``gate`` (the auditor's own robots.txt group): a refused fetch is
    recorded as such and parsed as "no file", which the mechanisms report as not evaluated.
    Transient failures (network errors, 429, 5xx) are retried after ``retry_after`` seconds.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        path: str,
        parse: DocumentParser[_T],
        max_bytes: int,
        truncate: bool,
        gate: Callable[[str], Awaitable[str | None]],
        clock: Callable[[], float] = time.monotonic,
        retry_after: float = 30.0,
    ) -> None:
        self._fetcher = fetcher
        self._path = path
        self._parse = parse
        self._max_bytes = max_bytes
        self._truncate = truncate
        self._gate = gate
        self._clock = clock
        self._retry_after = retry_after
        self._entries: dict[str, OriginDocument[_T]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetches = 0

    async def get(self, origin: str) -> OriginDocument[_T]:
        """Return the current document for ``origin``, fetching it when absent or expired."""
        entry = self._entries.get(origin)
        if entry is not None and entry.expires_at > self._clock():
            return entry
        async with self._locks.setdefault(origin, asyncio.Lock()):
            entry = self._entries.get(origin)
            if entry is None or entry.expires_at <= self._clock():
                entry = await self._fetch(origin)
                self._entries[origin] = entry
            return entry

    def entries(self) -> dict[str, OriginDocument[_T]]:
        """Every origin fetched so far, for the sites table."""
        return dict(sorted(self._entries.items()))

    async def _fetch(self, origin: str) -> OriginDocument[_T]:
        source = f"{origin}{self._path}"
        self.fetches += 1
        result = await self._fetcher.fetch(
            source, max_bytes=self._max_bytes, truncate=self._truncate, gate=self._gate
        )
        body = result.body if result.error is None else None
        digest = hashlib.sha256(body).hexdigest() if body is not None else None
        meta = FetchMeta(
            source, result.final_url, result.status, result.fetched_at, digest, result.error
        )
        transient = result.error not in (None, "too_large") or (
            result.status is not None and (result.status == 429 or result.status >= 500)  # noqa: PLR2004
        )
        ttl = self._retry_after if transient else ROBOTS_TTL_SECONDS
        return OriginDocument(
            meta, self._parse(result.status, body, result.error), self._clock() + ttl
        )


#: Reasons the auditor declined a request on principle (its own robots.txt group, network
#: safety); they are recorded as skips, never counted as fetch errors.
REFUSALS = frozenset({"robots_disallowed", "robots_unreachable", PRIVATE_ADDRESS})


class OwnRobotsGate:
    """The auditor's own robots.txt group as a request gate: the auditor is polite.

    Called before every request (pages, images, origin documents, each redirect hop); returns
    ``robots_disallowed`` or ``robots_unreachable`` to refuse, None to allow.
    """

    def __init__(self, robots: RobotsCache, token: str) -> None:
        self._robots = robots
        self._token = token

    async def __call__(self, url: str) -> str | None:
        """Return a refusal reason for ``url``, or None when the auditor may fetch it."""
        entry = await self._robots.get(origin_of(url))
        decision = entry.policy.decide(self._token, path_and_query(url))
        if decision.allowed:
            return None
        unreachable = decision.reason == "robots_unreachable"
        return "robots_unreachable" if unreachable else "robots_disallowed"
