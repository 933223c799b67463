"""One HTTP exchange at a time: the part of fetching that runs wherever the bytes should arrive.

:class:`~auditor.crawl.fetcher.Fetcher` decides *whether* and *when* a request is sent (address
checks, the robots gate, politeness, redirects); an :class:`Exchanger` sends one :class:`Hop`
and reads its capped body. The split lets the image phase run the exchange in a worker process
(:mod:`auditor.crawl.imagepool`), next to the decoder, so image bytes never cross a process
boundary, while every decision stays in the crawling process.

- **Small transports per host.** httpx slows down as one connection pool's concurrency grows
  (about 1,400 req/s at 4 in flight, 280-370 at 64, encode/httpx#3215: httpcore scans every
  connection of its pool, checking each socket, whenever a request starts or ends), so each host
  gets pools of at most :data:`CONNECTIONS_PER_POOL` connections, as many as its concurrency
  needs, and a request goes to the least busy one.
- **Transports, not clients.** A hop is one request the fetcher already shaped (no redirects
  to follow, no auth), so it goes straight to an ``httpx.AsyncHTTPTransport``: the
  ``AsyncClient`` layers above it (URL merging, auth and redirect loops, event hooks, a cookie
  jar) cost about 0.2 ms of CPU per request, a fifth of httpx's cost for a thumbnail on
  loopback. Without the client there is no cookie jar either, as an audit wants: every request
  stands alone, so what a server answers never depends on a cookie an earlier response set.
- **One shared SSLContext.** Building a default context costs 20-35 ms; every pool reuses one.
- **Bodies are streamed with a cap** on the decoded size (a gzip bomb stops at the cap) and the
  whole exchange runs under a deadline, so a server trickling bytes cannot hold a slot forever.
- **Proxy variables are ignored** (``trust_env=False``): an audit must reach exactly the hosts it
  reports on, and results must not depend on the shell it runs in.
- **Pinned addresses.** The request goes to an address the fetcher already checked (the URL
  carries the IP; the ``Host`` header and the TLS server name, which certificate verification
  checks, carry the host name), so a second DNS answer cannot redirect the connection.

Network failures never raise: they come back as a :class:`FetchResult` with ``error`` set.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from auditor.extract import ImageFacts

#: Connections per httpx transport; a host allowed more requests in flight gets more of them.
CONNECTIONS_PER_POOL = 4


def utc_now_iso() -> str:
    """Return the UTC time as ISO 8601 with seconds, the format every record uses."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class FetchLimits:
    """Per-request bounds; the crawler builds one from ``CrawlSettings``."""

    max_redirects: int = 5
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    per_host_concurrency: int = 4
    delay: float = 0.0
    allow_private_addresses: bool = False
    """Allow every host on private and other special-use addresses, not only explicit targets'."""


def timeout_detail(limits: FetchLimits) -> str:
    """Return the detail of a ``timeout`` error: the fetch's whole wire-time budget ran out."""
    return f"no complete response within {limits.total_timeout:g} s"


@dataclass(frozen=True)
class FetchResult:
    """What one fetch produced: a response, or an error reason, never an exception.

    ``facts`` is set when the body was examined where it was received (an image fetched in a
    worker process); ``body`` is then ``None``, since the bytes stayed in that process.
    """

    url: str
    final_url: str
    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    fetched_at: str
    redirects: tuple[str, ...] = ()
    error: str | None = None
    error_detail: str | None = None
    facts: ImageFacts | None = None

    @property
    def ok(self) -> bool:
        """A 2xx response whose body was read completely."""
        return self.error is None and self.status is not None and 200 <= self.status < 300  # noqa: PLR2004

    def header(self, name: str) -> str | None:
        """First value of a header (names compared case-insensitively)."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def header_values(self, name: str) -> list[str]:
        """Every value of a repeated header, in order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]

    @property
    def content_type(self) -> str | None:
        """Media type without parameters, lower-cased."""
        value = self.header("content-type")
        return value.split(";", 1)[0].strip().lower() if value else None


@dataclass(frozen=True)
class Hop:
    """One request the fetcher has cleared: where to send it and within which bounds.

    ``addresses`` are the checked addresses of ``host``, tried in order while they refuse the
    connection; ``budget`` is the wire time left for the whole fetch, in seconds.
    """

    host: str
    url: str
    addresses: tuple[str, ...]
    max_bytes: int
    accept: str
    started: str
    truncate: bool
    budget: float


class _HostPools:
    """A host's httpx transports, their connection limits and the requests each has in flight."""

    def __init__(self, pools: list[tuple[httpx.AsyncHTTPTransport, int]]) -> None:
        self.pools = [pool for pool, _ in pools]
        self._free = [connections for _, connections in pools]

    @contextlib.contextmanager
    def least_busy(self) -> Iterator[httpx.AsyncHTTPTransport]:
        """Lend the transport with the most free connections for one exchange."""
        index = self._free.index(max(self._free))
        self._free[index] -= 1
        try:
            yield self.pools[index]
        finally:
            self._free[index] += 1


class Exchanger:
    """Sends hops through small httpx transports per host; close with :meth:`aclose`."""

    def __init__(self, *, user_agent: str, limits: FetchLimits) -> None:
        self._headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
        self._limits = limits
        self._timeout = httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout).as_dict()
        self._ssl = ssl.create_default_context()
        self._pools: dict[str, _HostPools] = {}

    async def aclose(self) -> None:
        """Close every transport and its connections."""
        hosts, self._pools = list(self._pools.values()), {}
        await asyncio.gather(*(pool.aclose() for host in hosts for pool in host.pools))

    async def send(self, hop: Hop) -> tuple[FetchResult, float]:
        """Send ``hop`` under its deadline; return the result and the wire time it took."""
        sent = time.monotonic()
        try:
            async with asyncio.timeout(hop.budget):
                for address in hop.addresses:  # in resolver order, to the next on refusal
                    result = await self._exchange(hop, address)
                    if result.error != "connect_error":
                        break
        except TimeoutError:
            result = FetchResult(
                hop.url, hop.url, None, (), None, hop.started, error="timeout",
                error_detail=timeout_detail(self._limits),
            )  # fmt: skip
        return result, time.monotonic() - sent

    def _host_pools(self, host: str) -> _HostPools:
        pools = self._pools.get(host)
        if pools is None:
            wanted = self._limits.per_host_concurrency
            sizes = [CONNECTIONS_PER_POOL] * (wanted // CONNECTIONS_PER_POOL)
            if wanted % CONNECTIONS_PER_POOL:
                sizes.append(wanted % CONNECTIONS_PER_POOL)
            pools = _HostPools([(self._new_pool(size), size) for size in sizes])
            self._pools[host] = pools
        return pools

    def _new_pool(self, connections: int) -> httpx.AsyncHTTPTransport:
        return httpx.AsyncHTTPTransport(
            verify=self._ssl,
            trust_env=False,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    async def _exchange(self, hop: Hop, address: str) -> FetchResult:
        """One HTTP exchange with ``address``, capped body; network failures become results."""
        url, started = hop.url, hop.started
        try:
            target = httpx.URL(url)
            extensions: dict[str, object] = {"timeout": self._timeout}
            if target.scheme == "https":
                extensions["sni_hostname"] = target.host
            request = httpx.Request(
                "GET",
                target.copy_with(host=address),
                headers={
                    "Host": target.netloc.decode("ascii"),
                    "Accept": hop.accept,
                    **self._headers,
                },
                extensions=extensions,
            )
            with self._host_pools(hop.host).least_busy() as pool:
                response = await pool.handle_async_request(request)
                try:
                    return await _read(hop, response)
                finally:
                    await response.aclose()
        except httpx.TimeoutException as exc:
            return FetchResult(url, url, None, (), None, started, error="timeout",
                               error_detail=type(exc).__name__)  # fmt: skip
        except httpx.ConnectError as exc:
            reason = "tls_error" if isinstance(exc.__cause__, ssl.SSLError) else "connect_error"
            return FetchResult(url, url, None, (), None, started, error=reason,
                               error_detail=str(exc) or type(exc).__name__)  # fmt: skip
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return FetchResult(url, url, None, (), None, started, error="protocol_error",
                               error_detail=str(exc) or type(exc).__name__)  # fmt: skip


async def _read(hop: Hop, response: httpx.Response) -> FetchResult:
    """Read ``response``'s body up to the hop's cap (or truncate there, when it asks to)."""
    url, started, max_bytes = hop.url, hop.started, hop.max_bytes
    headers = tuple((key.lower(), value) for key, value in response.headers.multi_items())
    declared = response.headers.get("content-length", "")
    if not hop.truncate and declared.isdigit() and int(declared) > max_bytes:
        return FetchResult(
            url, url, response.status_code, headers, None, started, error="too_large",
            error_detail=f"Content-Length {declared} exceeds {max_bytes} bytes",
        )  # fmt: skip
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            if hop.truncate:
                del body[max_bytes:]
                break
            return FetchResult(
                url, url, response.status_code, headers, None, started, error="too_large",
                error_detail=f"body exceeds {max_bytes} bytes",
            )  # fmt: skip
    return FetchResult(url, url, response.status_code, headers, bytes(body), started)
