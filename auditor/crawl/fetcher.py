"""The HTTP fetcher: polite, bounded and identified.

It decides whether and when each request is sent; :mod:`auditor.crawl.exchange` sends it (small
httpx transports per host, a capped body, a deadline, the checked address pinned).

- **Redirects are followed by hand**, so each hop passes the caller's gate (the auditor's own
  robots.txt for the hop's origin) and the hop count is capped.
- **Politeness per host**: requests in flight and the gap between request starts are bounded
  for each host, however many clients or worker processes send its requests.
- **No way from a public target to a private address** (:mod:`auditor.crawl.netsafety`): each
  hop's host is resolved once and every address checked before the gate runs, and the request
  is sent to the checked address itself, so a second DNS answer cannot redirect the
  connection. Hosts of explicit targets may be private.
- **The total deadline counts wire time only**: it starts when a hop is sent, and what is left
  of it carries over to the next hop; waiting for a politeness slot is free.

Network failures never raise out of :meth:`Fetcher.fetch`; they come back as a
:class:`FetchResult` with ``error`` set, so the crawl records them and goes on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from urllib.parse import urljoin

from auditor.crawl.exchange import (
    Exchanger,
    FetchLimits,
    FetchResult,
    Hop,
    timeout_detail,
    utc_now_iso,
)
from auditor.crawl.netsafety import (
    AddressGuard,
    Classifier,
    Resolution,
    Resolver,
    special_use,
    system_resolver,
)
from auditor.crawl.urls import InvalidURLError, host_key, normalise_url

#: A gate called before every request (including each redirect hop); it returns a skip reason to
#: refuse the URL, or None to allow it.
RequestGate = Callable[[str], Awaitable[str | None]]

#: Sends one cleared hop and returns its result with the wire time it took.
HopSender = Callable[[Hop], Awaitable[tuple[FetchResult, float]]]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

__all__ = ["FetchLimits", "FetchResult", "Fetcher", "HopSender", "RequestGate", "utc_now_iso"]


class _HostSlot:
    """Politeness for one host: bounded concurrency and a minimum gap between request starts."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self.semaphore = asyncio.Semaphore(concurrency)
        self.delay = delay
        self._next_start = 0.0
        self._lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        if self.delay <= 0:
            return
        async with self._lock:
            now = time.monotonic()
            wait = self._next_start - now
            self._next_start = max(now, self._next_start) + self.delay
        if wait > 0:
            await asyncio.sleep(wait)


class Fetcher:
    """Fetches URLs with small httpx transports per host; use as an async context manager."""

    def __init__(
        self,
        *,
        user_agent: str,
        limits: FetchLimits,
        resolver: Resolver = system_resolver,
        classify: Classifier = special_use,
    ) -> None:
        self._limits = limits
        self._guard = AddressGuard(
            resolver=resolver, classify=classify,
            allow_private=limits.allow_private_addresses, timeout=limits.connect_timeout,
        )  # fmt: skip
        self._exchanger = Exchanger(user_agent=user_agent, limits=limits)
        self._slots: dict[str, _HostSlot] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every per-host transport."""
        await self._exchanger.aclose()

    def trust_targets(self, urls: Iterable[str]) -> None:
        """Allow the hosts of these explicit targets on any address, private ones included."""
        self._guard.trust(urls)

    async def screen(self, url: str) -> Resolution:
        """Resolve and check ``url``'s host (once per run); ``refusal`` says why it is refused."""
        return await self._guard.resolve(url)

    def _slot(self, host: str) -> _HostSlot:
        slot = self._slots.get(host)
        if slot is None:
            slot = _HostSlot(self._limits.per_host_concurrency, self._limits.delay)
            self._slots[host] = slot
        return slot

    async def fetch(
        self,
        url: str,
        *,
        max_bytes: int,
        gate: RequestGate | None = None,
        accept: str = "*/*",
        truncate: bool = False,
        max_redirects: int | None = None,
        via: HopSender | None = None,
    ) -> FetchResult:
        """GET ``url`` following redirects through ``gate``; bounded in bytes, hops and time.

        A body over ``max_bytes`` is an error (``too_large``), unless ``truncate`` asks for its
        first ``max_bytes`` instead (robots.txt: the first 500 KiB must still be used).
        ``via`` sends each hop instead of this process (an image worker, which examines the
        body where it arrives); by default the fetcher's own transports send it.
        """
        hop_limit = self._limits.max_redirects if max_redirects is None else max_redirects
        started = utc_now_iso()
        chain: list[str] = []
        current = url

        def fail(reason: str, detail: str | None) -> FetchResult:
            return FetchResult(
                url, current, None, (), None, started, tuple(chain),
                error=reason, error_detail=detail,
            )  # fmt: skip

        budget = self._limits.total_timeout  # wire time left; queueing for politeness is free
        while True:
            resolution = await self._guard.resolve(current)
            if resolution.refusal is not None:
                return fail(resolution.refusal, resolution.detail)
            if gate is not None and (refusal := await gate(current)) is not None:
                return fail(refusal, None)
            hop = Hop(
                host_key(current), current, resolution.addresses, max_bytes=max_bytes,
                accept=accept, started=started, truncate=truncate, budget=budget,
            )  # fmt: skip
            result, spent = await self._fetch_once(hop, via)
            budget -= spent
            location = result.header("location")
            if result.status not in _REDIRECT_STATUSES or location is None:
                return _with_chain(result, url, chain)
            if len(chain) >= hop_limit:
                return fail("redirect_limit", f"more than {hop_limit} redirects")
            if budget <= 0:
                return fail("timeout", timeout_detail(self._limits))
            chain.append(current)
            try:
                current = normalise_url(urljoin(current, location))
            except InvalidURLError as exc:
                return fail("bad_redirect", str(exc))

    async def _fetch_once(self, hop: Hop, via: HopSender | None) -> tuple[FetchResult, float]:
        """Send one hop once its host's politeness allows it; return it and its wire time.

        The deadline starts when the request is sent, so time spent waiting for a politeness
        slot never turns into a timeout.
        """
        slot = self._slot(hop.host)
        async with slot.semaphore:
            await slot.wait_turn()
            return await (via or self._exchanger.send)(hop)


def _with_chain(result: FetchResult, url: str, chain: list[str]) -> FetchResult:
    """Report the response under the URL that was asked for, with the hops that led to it."""
    return replace(result, url=url, redirects=tuple(chain)) if chain else result
