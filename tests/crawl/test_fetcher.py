"""The HTTP fetcher against real loopback servers (``auditor.crawl.fetcher``).

Every case runs :class:`~auditor.crawl.fetcher.Fetcher` against a
:class:`~auditor.testing.SiteServer` built in ``tmp_path``: caps on bytes (declared and
streamed), redirects through the caller's gate, network failures returned as values, the total
deadline and per-host politeness. Timings use small values and assert lower bounds; the
upper bounds are generous and only where the point is that something does *not* wait long.
Most cases share one module-wide event loop and Fetcher (building its SSL context costs about
0.1 s); its connections are closed after every test.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from auditor.crawl.fetcher import Fetcher, FetchLimits, FetchResult
from auditor.testing import SiteServer

SiteFactory = Callable[[str | Path], SiteServer]
UA = "TestAuditBot/9.9 (+https://tests.invalid/bot)"


def make_site(root: Path, files: dict[str, str | bytes], site_yaml: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    (root / "_site.yaml").write_text(site_yaml, encoding="utf-8")
    return root


Run = Callable[[Coroutine[Any, Any, Any]], Any]


class FetchOne(Protocol):
    def __call__(
        self, url: str, limits: FetchLimits | None = None, **options: Any
    ) -> FetchResult: ...


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for the module, so one Fetcher (and its SSL context) serves most tests."""
    with asyncio.Runner() as loop_runner:
        yield loop_runner


def loopback_fetcher(limits: FetchLimits) -> Fetcher:
    """A fetcher for servers on 127.0.0.1, trusted as an explicit target's host would be."""
    fetcher = Fetcher(user_agent=UA, limits=limits)
    fetcher.trust_targets(["http://127.0.0.1/"])
    return fetcher


@pytest.fixture(scope="module")
def shared_fetcher() -> Fetcher:
    return loopback_fetcher(FetchLimits())


@pytest.fixture
def run(runner: asyncio.Runner) -> Run:
    return runner.run


@pytest.fixture
def fetch_one(runner: asyncio.Runner, shared_fetcher: Fetcher) -> Iterator[FetchOne]:
    """Fetch with default limits on the shared fetcher, or with ``limits`` on a fresh one."""

    async def with_limits(url: str, limits: FetchLimits, options: dict[str, Any]) -> FetchResult:
        async with loopback_fetcher(limits) as fetcher:
            return await fetcher.fetch(url, **options)

    def fetch(url: str, limits: FetchLimits | None = None, **options: Any) -> FetchResult:
        options.setdefault("max_bytes", 1_000_000)
        if limits is None:
            return runner.run(shared_fetcher.fetch(url, **options))
        return runner.run(with_limits(url, limits, options))

    yield fetch
    runner.run(shared_fetcher.aclose())  # no pooled connection outlives this test's servers


def paths(server: SiteServer) -> list[str]:
    return [path for _, path, _ in server.requests]


BOMB = gzip.compress(b"A" * 200_000)  # 200 kB decoded from a few hundred bytes on the wire

SITE_YAML = """
routes:
  - path: /multi
    body: ok
    content_type: "Text/HTML; Charset=UTF-8"
    headers:
      - X-Robots-Tag: noai
      - X-Robots-Tag: "otherbot: noimageai"
      - X-Robots-Tag: noindex
      - Link: <https://example.org/licence>; rel="license"
  - path: /bomb.bin
    headers: {Content-Encoding: gzip}
  - path: /r1
    redirect: /r2
  - path: /r2
    status: 301
    redirect: "{base}/page.html"
  - path: /loop-a
    redirect: /loop-b
  - path: /loop-b
    redirect: /loop-a
  - path: /hop/1
    redirect: /hop/2
  - path: /hop/2
    redirect: /hop/3
  - path: /hop/3
    redirect: /hop/4
  - path: /hop/4
    redirect: /hop/5
  - path: /hop/5
    redirect: /hop/6
  - path: /hop/6
    redirect: /page.html
  - path: /to-private
    redirect: /private/page.html
  - path: /to-ftp
    redirect: "ftp://files.example.org/a"
  - path: /no-location
    status: 302
    body: moved somewhere
  - path: /slow
    delay: 5
    body: eventually
  - path: /sets-cookie
    body: have a cookie
    headers: {Set-Cookie: "session=abc123; Path=/"}
"""


@pytest.fixture
def site(site_server: SiteFactory, tmp_path: Path) -> SiteServer:
    root = make_site(
        tmp_path / "site",
        {
            "page.html": "<html><body>hello</body></html>",
            "private/page.html": "<p>private</p>",
            "big.bin": b"B" * 5000,
            "exact.bin": b"E" * 1000,
            "bomb.bin": BOMB,
        },
        SITE_YAML,
    )
    return site_server(root)


# --- a plain fetch -----------------------------------------------------------------------------


def test_ok_fetch_returns_status_headers_and_body(site: SiteServer, fetch_one: FetchOne) -> None:
    result = fetch_one(site.url("/page.html"))
    assert result.ok
    assert result.error is None
    assert result.status == 200
    assert result.body == b"<html><body>hello</body></html>"
    assert result.url == result.final_url == site.url("/page.html")
    assert result.redirects == ()
    assert result.content_type == "text/html"
    assert result.header("Content-Length") == str(len(result.body))
    assert result.fetched_at.endswith("+00:00")


def test_repeated_headers_keep_every_value_in_order(site: SiteServer, fetch_one: FetchOne) -> None:
    result = fetch_one(site.url("/multi"))
    assert result.header_values("X-Robots-Tag") == ["noai", "otherbot: noimageai", "noindex"]
    assert result.header_values("x-robots-tag") == result.header_values("X-ROBOTS-TAG")
    assert result.header("x-robots-tag") == "noai"  # header() is the first value
    assert result.header_values("tdm-reservation") == []
    assert result.header("tdm-reservation") is None
    assert result.header("link") == '<https://example.org/licence>; rel="license"'


def test_content_type_drops_parameters_and_lowercases(
    site: SiteServer, fetch_one: FetchOne
) -> None:
    assert fetch_one(site.url("/multi")).content_type == "text/html"
    assert fetch_one(site.url("/big.bin")).content_type == "application/octet-stream"


def test_non_2xx_is_a_response_not_an_error(site: SiteServer, fetch_one: FetchOne) -> None:
    result = fetch_one(site.url("/missing.html"))
    assert result.status == 404
    assert result.error is None
    assert not result.ok
    assert result.body is not None
    assert b"404" in result.body


def test_sends_the_given_user_agent_and_accept(site: SiteServer, fetch_one: FetchOne) -> None:
    fetch_one(site.url("/page.html"), accept="text/html")
    (_, path, headers) = site.requests[-1]
    assert path == "/page.html"
    assert headers["user-agent"] == UA
    assert headers["accept"] == "text/html"


def test_a_cookie_set_by_one_response_is_never_sent_back(
    site: SiteServer, fetch_one: FetchOne
) -> None:
    # No cookie jar: what a server answers must not depend on an earlier response.
    assert fetch_one(site.url("/sets-cookie")).header("set-cookie") == "session=abc123; Path=/"
    fetch_one(site.url("/page.html"))
    (_, path, headers) = site.requests[-1]
    assert path == "/page.html"
    assert "cookie" not in headers
    assert headers["host"] == site.base_url.removeprefix("http://")


# --- byte caps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        pytest.param("/big.bin", "Content-Length 5000", id="declared-content-length"),
        pytest.param("/bomb.bin", "body exceeds", id="streamed-gzip-decoded-size"),
    ],
)
def test_body_over_max_bytes_is_too_large(
    site: SiteServer, path: str, detail: str, fetch_one: FetchOne
) -> None:
    result = fetch_one(site.url(path), max_bytes=1000)
    assert result.error == "too_large"
    assert detail in (result.error_detail or "")
    assert result.body is None
    assert result.status == 200
    assert not result.ok


@pytest.mark.parametrize(
    ("path", "max_bytes"),
    [
        pytest.param("/exact.bin", 1000, id="exactly-at-cap"),
        pytest.param("/big.bin", 5000, id="declared-at-cap"),
        pytest.param("/bomb.bin", 200_000, id="decoded-at-cap"),
    ],
)
def test_body_at_max_bytes_is_not_too_large(
    site: SiteServer, path: str, max_bytes: int, fetch_one: FetchOne
) -> None:
    result = fetch_one(site.url(path), max_bytes=max_bytes)
    assert result.ok, result.error_detail
    assert result.body is not None
    assert len(result.body) == max_bytes


@pytest.mark.parametrize(
    ("path", "byte"),
    [
        pytest.param("/big.bin", b"B", id="declared-content-length"),
        pytest.param("/bomb.bin", b"A", id="streamed-gzip"),
    ],
)
def test_truncate_returns_the_first_max_bytes(
    site: SiteServer, path: str, byte: bytes, fetch_one: FetchOne
) -> None:
    result = fetch_one(site.url(path), max_bytes=1000, truncate=True)
    assert result.ok
    assert result.body == byte * 1000


def test_truncate_leaves_a_small_body_whole(site: SiteServer, fetch_one: FetchOne) -> None:
    result = fetch_one(site.url("/page.html"), max_bytes=1000, truncate=True)
    assert result.body == b"<html><body>hello</body></html>"


# --- redirects ---------------------------------------------------------------------------------


def test_redirect_chain_is_followed_and_recorded(site: SiteServer, fetch_one: FetchOne) -> None:
    result = fetch_one(site.url("/r1"))
    assert result.ok
    assert result.url == site.url("/r1")
    assert result.final_url == site.url("/page.html")
    assert result.redirects == (site.url("/r1"), site.url("/r2"))
    assert result.body == b"<html><body>hello</body></html>"
    assert paths(site) == ["/r1", "/r2", "/page.html"]


def test_redirect_to_another_host_uses_that_host(
    site: SiteServer, site_server: SiteFactory, tmp_path: Path, fetch_one: FetchOne
) -> None:
    other = site_server(
        make_site(
            tmp_path / "hop",
            {},
            f'routes:\n  - path: /go\n    redirect: "{site.url("/page.html")}"\n',
        )
    )
    result = fetch_one(other.url("/go"))
    assert result.ok
    assert result.final_url == site.url("/page.html")
    assert result.redirects == (other.url("/go"),)
    assert paths(other) == ["/go"]
    assert paths(site) == ["/page.html"]


@pytest.mark.parametrize(
    ("max_redirects", "path", "error"),
    [
        pytest.param(5, "/hop/2", None, id="five-hops-followed"),
        pytest.param(5, "/hop/1", "redirect_limit", id="six-hops-refused"),
        pytest.param(0, "/page.html", None, id="no-hops-needed"),
        pytest.param(0, "/r2", "redirect_limit", id="zero-allowed"),
        pytest.param(1, "/r2", None, id="one-allowed"),
    ],
)
def test_redirect_limit(
    site: SiteServer, max_redirects: int, path: str, error: str | None, fetch_one: FetchOne
) -> None:
    result = fetch_one(site.url(path), FetchLimits(max_redirects=max_redirects))
    assert result.error == error
    if error is None:
        assert result.ok
        assert result.final_url == site.url("/page.html")
    else:
        assert result.status is None
        assert result.body is None
        assert len(result.redirects) == max_redirects


def test_per_call_max_redirects_overrides_the_limits(site: SiteServer, fetch_one: FetchOne) -> None:
    result = fetch_one(site.url("/hop/1"), FetchLimits(max_redirects=0), max_redirects=6)
    assert result.ok
    assert len(result.redirects) == 6


def test_redirect_loop_stops_at_the_limit(site: SiteServer, fetch_one: FetchOne) -> None:
    result = fetch_one(site.url("/loop-a"), FetchLimits(max_redirects=5))
    assert result.error == "redirect_limit"
    assert result.error_detail == "more than 5 redirects"
    assert len(result.redirects) == 5
    assert len(site.requests) == 6  # the five followed hops plus the refused one


def test_redirect_to_a_non_http_scheme_is_bad_redirect(
    site: SiteServer, fetch_one: FetchOne
) -> None:
    result = fetch_one(site.url("/to-ftp"))
    assert result.error == "bad_redirect"
    assert result.redirects == (site.url("/to-ftp"),)


def test_redirect_status_without_location_is_returned_as_is(
    site: SiteServer, fetch_one: FetchOne
) -> None:
    result = fetch_one(site.url("/no-location"))
    assert result.error is None
    assert result.status == 302
    assert result.redirects == ()
    assert result.body == b"moved somewhere"


# --- the gate ----------------------------------------------------------------------------------


def refuse_private(seen: list[str]) -> Callable[[str], Coroutine[Any, Any, str | None]]:
    async def gate(url: str) -> str | None:
        seen.append(url)
        return "robots_disallowed" if "/private/" in url else None

    return gate


def test_gate_refusal_on_the_first_url_sends_nothing(site: SiteServer, fetch_one: FetchOne) -> None:
    seen: list[str] = []
    result = fetch_one(site.url("/private/page.html"), gate=refuse_private(seen))
    assert result.error == "robots_disallowed"
    assert result.status is None
    assert result.body is None
    assert result.final_url == site.url("/private/page.html")
    assert seen == [site.url("/private/page.html")]
    assert site.requests == []


def test_gate_refusal_on_a_redirect_hop(site: SiteServer, fetch_one: FetchOne) -> None:
    seen: list[str] = []
    result = fetch_one(site.url("/to-private"), gate=refuse_private(seen))
    assert result.error == "robots_disallowed"
    assert result.final_url == site.url("/private/page.html")
    assert result.redirects == (site.url("/to-private"),)
    assert seen == [site.url("/to-private"), site.url("/private/page.html")]
    assert paths(site) == ["/to-private"]


def test_gate_allowing_sees_every_hop(site: SiteServer, fetch_one: FetchOne) -> None:
    seen: list[str] = []
    result = fetch_one(site.url("/r1"), gate=refuse_private(seen))
    assert result.ok
    assert seen == [site.url("/r1"), site.url("/r2"), site.url("/page.html")]


# --- network failures and deadlines ------------------------------------------------------------


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_connect_error(fetch_one: FetchOne) -> None:
    result = fetch_one(f"http://127.0.0.1:{closed_port()}/page.html")
    assert result.error == "connect_error"
    assert result.status is None
    assert result.body is None
    assert result.error_detail


def test_total_timeout_bounds_a_slow_response(site: SiteServer, fetch_one: FetchOne) -> None:
    started = time.monotonic()
    result = fetch_one(site.url("/slow"), FetchLimits(total_timeout=0.5))
    elapsed = time.monotonic() - started
    assert result.error == "timeout"
    assert result.error_detail == "no complete response within 0.5 s"
    assert result.status is None
    assert 0.45 <= elapsed < 3.0  # the route would take 5 s


def test_read_timeout_is_also_timeout(site: SiteServer, fetch_one: FetchOne) -> None:
    result = fetch_one(site.url("/slow"), FetchLimits(read_timeout=0.3, total_timeout=10))
    assert result.error == "timeout"
    assert result.error_detail == "ReadTimeout"


def test_fast_response_within_total_timeout_is_not_timeout(
    site: SiteServer, fetch_one: FetchOne
) -> None:
    result = fetch_one(site.url("/page.html"), FetchLimits(total_timeout=0.5))
    assert result.ok


# --- politeness --------------------------------------------------------------------------------


async def fetch_many(urls: list[str], limits: FetchLimits) -> list[FetchResult]:
    async with loopback_fetcher(limits) as fetcher:
        return list(await asyncio.gather(*(fetcher.fetch(u, max_bytes=10_000) for u in urls)))


def test_politeness_delay_spaces_request_starts_to_one_host(site: SiteServer, run: Run) -> None:
    delay = 0.25
    started = time.monotonic()
    results = run(fetch_many([site.url("/page.html")] * 3, FetchLimits(delay=delay)))
    elapsed = time.monotonic() - started
    assert all(result.ok for result in results)
    assert len(site.requests) == 3
    assert elapsed >= 2 * delay * 0.95  # three starts need two gaps


def test_politeness_delay_applies_to_sequential_fetches(site: SiteServer, run: Run) -> None:
    async def two_in_a_row() -> float:
        async with loopback_fetcher(FetchLimits(delay=0.3)) as fetcher:
            await fetcher.fetch(site.url("/page.html"), max_bytes=10_000)
            started = time.monotonic()
            await fetcher.fetch(site.url("/page.html"), max_bytes=10_000)
            return time.monotonic() - started

    assert run(two_in_a_row()) >= 0.3 * 0.9


def test_politeness_delay_does_not_space_different_hosts(
    site: SiteServer, site_server: SiteFactory, tmp_path: Path, run: Run
) -> None:
    other = site_server(make_site(tmp_path / "other", {"page.html": "other"}))
    started = time.monotonic()
    results = run(
        fetch_many([site.url("/page.html"), other.url("/page.html")], FetchLimits(delay=3.0))
    )
    assert all(result.ok for result in results)
    assert time.monotonic() - started < 2.0  # a shared slot would take at least 3 s


def test_politeness_wait_does_not_count_against_total_timeout(site: SiteServer, run: Run) -> None:
    limits = FetchLimits(delay=0.4, total_timeout=1.0)
    results = run(fetch_many([site.url("/page.html")] * 4, limits))  # starts at 0, .4, .8, 1.2 s
    assert [result.error for result in results] == [None] * 4
    assert len(site.requests) == 4
