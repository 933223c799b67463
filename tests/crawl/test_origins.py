"""Per-origin robots.txt cache (``auditor.crawl.origins``) against real loopback servers.

Covers the status and caching table of optout-signals.md 1.1: at most 24 hours (E18), a
shorter ``Cache-Control: max-age`` wins and a longer one does not, 4xx is "unavailable" (allow
all; 401/403 noted), 429/5xx/network errors are "unreachable" (disallow all) and only kept for
the retry interval, redirects are followed for five hops (across origins, applied to the
initial origin), concurrent callers share one fetch, and rules in the first 500 KiB are used.
The clock is the cache's injectable one, so expiry needs no sleeping; fetches are counted both
by ``cache.fetches`` and by the server's own request log. The auditor's own robots gate and the
cache of other origin documents (tdmrep.json, ai.txt) are covered at the end.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import socket
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from auditor.crawl.fetcher import Fetcher, FetchLimits
from auditor.crawl.origins import (
    ROBOTS_TTL_SECONDS,
    DocumentCache,
    OwnRobotsGate,
    RobotsCache,
    RobotsEntry,
)
from auditor.crawl.robots import RobotsAvailability
from auditor.crawl.urls import origin_of
from auditor.testing import SiteServer

SiteFactory = Callable[[str | Path], SiteServer]
T = TypeVar("T")
USER_AGENT = "OriginsTestBot/1.0"
TOKEN = "mybot"
HOUR = 3600.0
START = 1_000_000.0
RULES = "User-agent: *\nDisallow: /private/\n"


class Clock:
    """The cache's injectable clock, moved by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def make_site(root: Path, robots: str | bytes | None = RULES, site_yaml: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if isinstance(robots, bytes):
        (root / "robots.txt").write_bytes(robots)
    elif robots is not None:
        (root / "robots.txt").write_text(robots, encoding="utf-8")
    (root / "_site.yaml").write_text(site_yaml, encoding="utf-8")
    return root


def robots_requests(server: SiteServer) -> int:
    return sum(1 for _, path, _ in server.requests if path == "/robots.txt")


def route(path: str, **fields: object) -> str:
    lines = [f"  - path: {path}"]
    lines += [f"    {key}: {value}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


class Harness:
    """A fresh cache with a hand-driven clock, run on the module's event loop."""

    def __init__(self, runner: asyncio.Runner, fetcher: Fetcher, *, retry_after: float) -> None:
        self.clock = Clock()
        self.fetcher = fetcher
        self.cache = RobotsCache(fetcher, clock=self.clock, retry_after=retry_after)
        self._runner = runner

    def get(self, origin: str) -> RobotsEntry:
        return self._runner.run(self.cache.get(origin))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(coro)

    def get_many(self, origins: list[str]) -> list[RobotsEntry]:
        async def gather() -> list[RobotsEntry]:
            return list(await asyncio.gather(*(self.cache.get(o) for o in origins)))

        return self._runner.run(gather())


MakeHarness = Callable[..., Harness]


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for the module, so one Fetcher (and its SSL context) serves most tests."""
    with asyncio.Runner() as loop_runner:
        yield loop_runner


def loopback_fetcher(limits: FetchLimits) -> Fetcher:
    """A fetcher for servers on 127.0.0.1, trusted as an explicit target's host would be."""
    fetcher = Fetcher(user_agent=USER_AGENT, limits=limits)
    fetcher.trust_targets(["http://127.0.0.1/"])
    return fetcher


@pytest.fixture(scope="module")
def shared_fetcher() -> Fetcher:
    return loopback_fetcher(FetchLimits())


@pytest.fixture
def make_harness(runner: asyncio.Runner, shared_fetcher: Fetcher) -> Iterator[MakeHarness]:
    """``make_harness(retry_after=..., limits=...)``; a fresh fetcher only for custom limits."""
    fetchers = [shared_fetcher]

    def make(*, retry_after: float = 30.0, limits: FetchLimits | None = None) -> Harness:
        fetcher = shared_fetcher
        if limits is not None:
            fetcher = loopback_fetcher(limits)
            fetchers.append(fetcher)
        return Harness(runner, fetcher, retry_after=retry_after)

    yield make
    for fetcher in fetchers:  # no pooled connection outlives this test's servers
        runner.run(fetcher.aclose())


@pytest.fixture
def harness(make_harness: MakeHarness) -> Harness:
    return make_harness()


def allowed(entry: RobotsEntry, path: str, token: str = TOKEN) -> bool:
    return entry.policy.decide(token, path).allowed


# --- a parsed file and the 24-hour limit -------------------------------------------------------


def test_parsed_file_is_applied_with_evidence(
    harness: Harness, site_server: SiteFactory, tmp_path: Path
) -> None:
    site = site_server(make_site(tmp_path / "s"))
    origin = origin_of(site.base_url)
    entry = harness.get(origin)
    assert entry.origin == origin
    assert entry.source_url == entry.final_url == f"{origin}/robots.txt"
    assert entry.policy.availability is RobotsAvailability.PARSED
    assert entry.policy.http_status == 200
    assert not entry.policy.transient
    assert entry.sha256 == hashlib.sha256(RULES.encode()).hexdigest()
    assert not allowed(entry, "/private/a.jpg")
    assert allowed(entry, "/public/a.jpg")
    assert entry.expires_at == START + ROBOTS_TTL_SECONDS
    assert harness.cache.entries() == [entry]
    (_, _, headers) = site.requests[0]
    assert headers["user-agent"] == USER_AGENT
    assert headers["accept"].startswith("text/plain")


@pytest.mark.parametrize(
    ("elapsed", "fetches"),
    [
        pytest.param(0.0, 1, id="immediately"),
        pytest.param(23 * HOUR, 1, id="23h-cached"),
        pytest.param(24 * HOUR - 1, 1, id="just-under-24h-cached"),
        pytest.param(24 * HOUR, 2, id="24h-refetched"),
        pytest.param(25 * HOUR, 2, id="E18-25h-refetched"),
    ],
)
def test_entry_expires_after_24_hours(
    harness: Harness, site_server: SiteFactory, tmp_path: Path, elapsed: float, fetches: int
) -> None:
    site = site_server(make_site(tmp_path / "s"))
    origin = origin_of(site.base_url)
    harness.get(origin)
    harness.clock.now += elapsed
    harness.get(origin)
    assert harness.cache.fetches == fetches
    assert robots_requests(site) == fetches


def test_refetched_file_replaces_the_old_rules(
    harness: Harness, site_server: SiteFactory, tmp_path: Path
) -> None:
    root = make_site(tmp_path / "s")
    site = site_server(root)
    origin = origin_of(site.base_url)
    assert not allowed(harness.get(origin), "/private/x")
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /other/\n", encoding="utf-8")
    harness.clock.now += 12 * HOUR
    assert not allowed(harness.get(origin), "/private/x")  # still the cached copy
    harness.clock.now += 13 * HOUR
    fresh = harness.get(origin)
    assert allowed(fresh, "/private/x")
    assert not allowed(fresh, "/other/x")
    assert fresh.expires_at == harness.clock.now + ROBOTS_TTL_SECONDS


@pytest.mark.parametrize(
    ("cache_control", "ttl"),
    [
        pytest.param("max-age=60", 60, id="max-age-shortens"),
        pytest.param("public, max-age=3600", 3600, id="second-directive"),
        pytest.param("MAX-AGE=120", 120, id="case-insensitive"),
        pytest.param("max-age=0", 0, id="zero"),
        pytest.param("max-age=999999", ROBOTS_TTL_SECONDS, id="longer-never-lengthens"),
        pytest.param("s-maxage=60", ROBOTS_TTL_SECONDS, id="s-maxage-is-not-max-age"),
        pytest.param("no-transform", ROBOTS_TTL_SECONDS, id="no-max-age"),
    ],
)
def test_cache_control_max_age_shortens_but_never_lengthens(
    harness: Harness, site_server: SiteFactory, tmp_path: Path, cache_control: str, ttl: float
) -> None:
    yaml = "routes:\n" + route("/robots.txt", headers=f'{{Cache-Control: "{cache_control}"}}')
    site = site_server(make_site(tmp_path / "s", site_yaml=yaml))
    origin = origin_of(site.base_url)
    entry = harness.get(origin)
    assert entry.expires_at == START + ttl
    if ttl > 0:
        harness.clock.now = START + ttl - 1
        harness.get(origin)
        assert harness.cache.fetches == 1
    harness.clock.now = START + ttl
    harness.get(origin)
    assert harness.cache.fetches == 2
    assert robots_requests(site) == 2


# --- status table ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "notes"),
    [
        pytest.param(404, (), id="E14-404"),
        pytest.param(410, (), id="410"),
        pytest.param(401, ("robots_access_denied",), id="401"),
        pytest.param(403, ("robots_access_denied",), id="E15-403"),
    ],
)
def test_4xx_is_unavailable_and_allows_everything(
    harness: Harness, site_server: SiteFactory, tmp_path: Path, status: int, notes: tuple[str, ...]
) -> None:
    # The body is a robots.txt that would disallow everything: a non-2xx body is never parsed.
    yaml = "routes:\n" + route("/robots.txt", status=status)
    site = site_server(make_site(tmp_path / "s", "User-agent: *\nDisallow: /\n", yaml))
    origin = origin_of(site.base_url)
    entry = harness.get(origin)
    assert entry.policy.availability is RobotsAvailability.UNAVAILABLE
    assert entry.policy.http_status == status
    assert entry.policy.notes == notes
    assert not entry.policy.transient
    assert allowed(entry, "/anything")
    assert entry.policy.decide(TOKEN, "/anything").reason == "robots_unavailable"
    assert entry.expires_at == START + ROBOTS_TTL_SECONDS  # cached like a file
    harness.clock.now += 23 * HOUR
    harness.get(origin)
    assert harness.cache.fetches == 1


@pytest.mark.parametrize(
    ("status", "note"),
    [
        pytest.param(503, "robots_server_error", id="503"),
        pytest.param(500, "robots_server_error", id="500"),
        pytest.param(429, "robots_rate_limited", id="E16-429"),
    ],
)
def test_429_and_5xx_are_unreachable_and_retried(
    make_harness: MakeHarness, site_server: SiteFactory, tmp_path: Path, status: int, note: str
) -> None:
    harness = make_harness(retry_after=30.0)
    # The body allows everything: it must not be parsed.
    yaml = "routes:\n" + route("/robots.txt", status=status)
    site = site_server(make_site(tmp_path / "s", "User-agent: *\nAllow: /\n", yaml))
    origin = origin_of(site.base_url)
    entry = harness.get(origin)
    assert entry.policy.availability is RobotsAvailability.UNREACHABLE
    assert entry.policy.transient
    assert entry.policy.notes == (note,)
    assert not allowed(entry, "/page.html")
    assert allowed(entry, "/robots.txt")
    assert entry.expires_at == START + 30.0  # not 24 hours
    harness.clock.now += 29
    harness.get(origin)
    assert harness.cache.fetches == 1
    site.routes = ()  # the server recovers
    harness.clock.now += 1
    recovered = harness.get(origin)
    assert harness.cache.fetches == 2
    assert robots_requests(site) == 2
    assert recovered.policy.availability is RobotsAvailability.PARSED
    assert allowed(recovered, "/page.html")
    assert recovered.expires_at == harness.clock.now + ROBOTS_TTL_SECONDS


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_unreachable_and_transient(make_harness: MakeHarness) -> None:
    harness = make_harness(retry_after=5.0)
    origin = f"http://127.0.0.1:{closed_port()}"
    entry = harness.get(origin)
    assert entry.policy.availability is RobotsAvailability.UNREACHABLE
    assert entry.policy.notes == ("robots_fetch_error",)
    assert entry.policy.http_status is None
    assert entry.sha256 is None
    assert not allowed(entry, "/")
    assert entry.expires_at == START + 5.0
    harness.clock.now += 5.0
    harness.get(origin)
    assert harness.cache.fetches == 2


def test_timeout_is_unreachable(
    make_harness: MakeHarness, site_server: SiteFactory, tmp_path: Path
) -> None:
    # E17: the fetch times out.
    harness = make_harness(limits=FetchLimits(total_timeout=0.3))
    yaml = "routes:\n" + route("/robots.txt", delay=5)
    site = site_server(make_site(tmp_path / "s", site_yaml=yaml))
    entry = harness.get(origin_of(site.base_url))
    assert entry.policy.availability is RobotsAvailability.UNREACHABLE
    assert entry.policy.transient
    assert not allowed(entry, "/")


# --- redirects ---------------------------------------------------------------------------------


def test_redirect_to_another_origin_applies_to_the_initial_origin(
    harness: Harness, site_server: SiteFactory, tmp_path: Path
) -> None:
    other = site_server(make_site(tmp_path / "b", "User-agent: *\nDisallow: /from-b/\n"))
    yaml = "routes:\n" + route("/robots.txt", redirect=f'"{other.url("/robots.txt")}"')
    first = site_server(make_site(tmp_path / "a", "User-agent: *\nDisallow: /from-a/\n", yaml))
    origin = origin_of(first.base_url)
    entry = harness.get(origin)
    assert entry.origin == origin
    assert entry.source_url == f"{origin}/robots.txt"
    assert entry.final_url == other.url("/robots.txt")
    assert entry.policy.availability is RobotsAvailability.PARSED
    assert not allowed(entry, "/from-b/x")  # the file reached governs the initial origin
    assert allowed(entry, "/from-a/x")  # the redirecting origin's own body is never used
    assert [e.origin for e in harness.cache.entries()] == [origin]


def redirect_chain_site(root: Path, hops: int) -> Path:
    """``/robots.txt`` redirects ``hops`` times, ending at ``/real.txt``."""
    names = ["/robots.txt", *(f"/hop/{n}" for n in range(1, hops)), "/real.txt"]
    yaml = "routes:\n" + "".join(route(a, redirect=b) for a, b in itertools.pairwise(names))
    make_site(root, None, yaml)
    (root / "real.txt").write_text(RULES, encoding="utf-8")
    return root


@pytest.mark.parametrize("hops", [1, 5])
def test_up_to_five_redirects_are_followed(
    harness: Harness, site_server: SiteFactory, tmp_path: Path, hops: int
) -> None:
    site = site_server(redirect_chain_site(tmp_path / "s", hops))
    entry = harness.get(origin_of(site.base_url))
    assert entry.policy.availability is RobotsAvailability.PARSED
    assert entry.final_url == site.url("/real.txt")
    assert not allowed(entry, "/private/x")
    assert allowed(entry, "/public/x")


def test_six_redirects_are_unreachable_with_a_note(
    harness: Harness, site_server: SiteFactory, tmp_path: Path
) -> None:
    site = site_server(redirect_chain_site(tmp_path / "s", 6))
    entry = harness.get(origin_of(site.base_url))
    assert entry.policy.availability is RobotsAvailability.UNREACHABLE
    assert entry.policy.notes == ("robots_redirect_limit",)
    assert entry.policy.transient
    assert not allowed(entry, "/public/x")
    assert not any(path == "/real.txt" for _, path, _ in site.requests)


def test_robots_redirects_ignore_a_lower_page_redirect_limit(
    make_harness: MakeHarness, site_server: SiteFactory, tmp_path: Path
) -> None:
    # RFC 9309 requires at least five hops for robots.txt whatever pages are allowed.
    harness = make_harness(limits=FetchLimits(max_redirects=0))
    site = site_server(redirect_chain_site(tmp_path / "s", 5))
    entry = harness.get(origin_of(site.base_url))
    assert entry.policy.availability is RobotsAvailability.PARSED


# --- concurrency -------------------------------------------------------------------------------


def test_concurrent_gets_for_one_origin_share_one_fetch(
    harness: Harness, site_server: SiteFactory, tmp_path: Path
) -> None:
    yaml = "routes:\n" + route("/robots.txt", delay=0.3)
    site = site_server(make_site(tmp_path / "s", site_yaml=yaml))
    origin = origin_of(site.base_url)
    entries = harness.get_many([origin] * 10)
    assert harness.cache.fetches == 1
    assert robots_requests(site) == 1
    assert all(entry is entries[0] for entry in entries)


def test_concurrent_gets_for_two_origins_fetch_each_once(
    harness: Harness, site_server: SiteFactory, tmp_path: Path
) -> None:
    yaml = "routes:\n" + route("/robots.txt", delay=0.2)
    one = site_server(make_site(tmp_path / "one", site_yaml=yaml))
    two = site_server(make_site(tmp_path / "two", site_yaml=yaml))
    origins = [origin_of(one.base_url), origin_of(two.base_url)] * 5
    entries = harness.get_many(origins)
    assert harness.cache.fetches == 2
    assert robots_requests(one) == robots_requests(two) == 1
    assert {entry.origin for entry in entries} == set(origins)
    assert [entry.origin for entry in harness.cache.entries()] == sorted(set(origins))


# --- size --------------------------------------------------------------------------------------


def test_rules_in_the_first_500_kib_of_a_large_file_apply(
    harness: Harness, site_server: SiteFactory, tmp_path: Path
) -> None:
    head = b"User-agent: *\nDisallow: /early/\n"
    filler = b"# " + b"x" * 1000 + b"\n"
    body = bytearray(head)
    while len(body) < 499 * 1024:
        body += filler
    body += b"Disallow: /late-but-within-500k/\n"
    while len(body) < 600 * 1024:
        body += filler
    site = site_server(make_site(tmp_path / "s", bytes(body)))
    entry = harness.get(origin_of(site.base_url))
    assert entry.policy.availability is RobotsAvailability.PARSED
    assert "truncated" in entry.policy.notes
    assert not allowed(entry, "/early/x")
    assert not allowed(entry, "/late-but-within-500k/x")
    assert allowed(entry, "/elsewhere")


def test_small_file_is_not_marked_truncated(
    harness: Harness, site_server: SiteFactory, tmp_path: Path
) -> None:
    site = site_server(make_site(tmp_path / "s"))
    entry = harness.get(origin_of(site.base_url))
    assert "truncated" not in entry.policy.notes


# --- the auditor's own gate and the other origin documents -------------------------------------

Parsed = tuple[int | None, bytes | None, str | None]


def keep(status: int | None, body: bytes | None, error: str | None) -> Parsed:
    """A parser that keeps what it was given, so the test sees exactly what the cache passed."""
    return status, body, error


GATE_ROBOTS = "User-agent: *\nDisallow: /private/\n\nUser-agent: mybot\nDisallow: /mine/\n"


@pytest.mark.parametrize(
    ("path", "refusal"),
    [
        pytest.param("/page.html", None, id="allowed"),
        pytest.param("/mine/x.html", "robots_disallowed", id="own-group-disallows"),
        pytest.param("/private/x.html", None, id="star-group-shadowed-by-own-group"),
        pytest.param("/robots.txt", None, id="robots-txt-always-allowed"),
    ],
)
def test_own_robots_gate(
    harness: Harness,
    site_server: SiteFactory,
    tmp_path: Path,
    path: str,
    refusal: str | None,
) -> None:
    site = site_server(make_site(tmp_path / "s", GATE_ROBOTS))
    gate = OwnRobotsGate(harness.cache, TOKEN)
    assert harness.run(gate(site.url(path))) == refusal


def test_own_robots_gate_refuses_while_robots_is_unreachable(
    harness: Harness, site_server: SiteFactory, tmp_path: Path
) -> None:
    site = site_server(
        make_site(tmp_path / "s", site_yaml="routes:\n" + route("/robots.txt", status=503))
    )
    gate = OwnRobotsGate(harness.cache, TOKEN)
    assert harness.run(gate(site.url("/page.html"))) == "robots_unreachable"


def document_cache(harness: Harness, *, retry_after: float = 30.0) -> DocumentCache[Parsed]:
    return DocumentCache(
        harness.fetcher,
        path="/.well-known/tdmrep.json",
        parse=keep,
        max_bytes=10_000,
        truncate=False,
        gate=OwnRobotsGate(harness.cache, TOKEN),
        clock=harness.clock,
        retry_after=retry_after,
    )


def document_requests(server: SiteServer) -> int:
    return sum(1 for _, path, _ in server.requests if path == "/.well-known/tdmrep.json")


TDMREP = '[{"location": "/", "tdm-reservation": 1}]'


async def gather_gets(cache: DocumentCache[Parsed], origin: str, count: int) -> None:
    await asyncio.gather(*(cache.get(origin) for _ in range(count)))


def test_document_is_fetched_once_and_kept_24_hours(
    harness: Harness, site_server: SiteFactory, tmp_path: Path
) -> None:
    root = make_site(tmp_path / "s")
    (root / ".well-known").mkdir()
    (root / ".well-known" / "tdmrep.json").write_text(TDMREP, encoding="utf-8")
    site = site_server(root)
    cache = document_cache(harness)
    origin = origin_of(site.base_url)
    document = harness.run(cache.get(origin))
    assert document.parsed == (200, TDMREP.encode(), None)
    assert document.meta.outcome == "fetched"
    assert document.meta.source_url == f"{origin}/.well-known/tdmrep.json"
    assert document.meta.sha256 == hashlib.sha256(TDMREP.encode()).hexdigest()
    assert document.expires_at == START + ROBOTS_TTL_SECONDS
    harness.run(gather_gets(cache, origin, 5))
    harness.clock.now += 23 * HOUR
    harness.run(cache.get(origin))
    assert cache.fetches == document_requests(site) == 1
    harness.clock.now += 1 * HOUR
    harness.run(cache.get(origin))
    assert cache.fetches == document_requests(site) == 2
    assert list(cache.entries()) == [origin]


@pytest.mark.parametrize(
    ("status", "ttl"),
    [
        pytest.param(404, ROBOTS_TTL_SECONDS, id="404-kept"),
        pytest.param(410, ROBOTS_TTL_SECONDS, id="410-kept"),
        pytest.param(503, 30.0, id="503-retried"),
        pytest.param(429, 30.0, id="429-retried"),
    ],
)
def test_document_status_decides_how_long_it_is_kept(
    harness: Harness,
    site_server: SiteFactory,
    tmp_path: Path,
    status: int,
    ttl: float,
) -> None:
    yaml = "routes:\n" + route("/.well-known/tdmrep.json", status=status)
    site = site_server(make_site(tmp_path / "s", site_yaml=yaml))
    document = harness.run(document_cache(harness).get(origin_of(site.base_url)))
    assert document.parsed[0] == status
    assert document.parsed[2] is None
    assert document.meta.outcome == "unavailable"
    assert document.expires_at == START + ttl


def test_document_refused_by_the_own_robots_group_is_never_requested(
    harness: Harness, site_server: SiteFactory, tmp_path: Path
) -> None:
    site = site_server(make_site(tmp_path / "s", "User-agent: mybot\nDisallow: /.well-known/\n"))
    document = harness.run(document_cache(harness).get(origin_of(site.base_url)))
    assert document.parsed == (None, None, "robots_disallowed")
    assert document.meta.outcome == "refused"
    assert document.meta.sha256 is None
    assert document_requests(site) == 0


def test_document_on_an_unreachable_origin_is_refused_and_retried(
    harness: Harness,
) -> None:
    origin = f"http://127.0.0.1:{closed_port()}"
    cache = document_cache(harness, retry_after=5.0)
    document = harness.run(cache.get(origin))
    # robots.txt is unreachable too, so the auditor's own gate refuses first.
    assert document.meta.outcome == "refused"
    assert document.parsed == (None, None, "robots_unreachable")
    assert document.expires_at == START + 5.0
