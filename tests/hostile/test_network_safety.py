"""Network safety: no way from a target to loopback, private, link-local or other special-use
addresses, except the hosts the user named as targets; DNS resolved once, connections pinned.

The first tests read the shared audit, whose targets all live on loopback (explicit targets
are trusted, so they are crawled): redirects and images that lead to *other* hosts on special
addresses must be refused before any connection (the servers behind them see no request) and
recorded as ``private_address`` skips naming the address. The last tests drive the real
:class:`~auditor.crawl.fetcher.Fetcher` over real sockets with an injected resolver and a
classification that treats 127.0.0.2 as a public address, to show that a host is resolved once
and the connection goes to the checked address even when DNS later answers differently.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from auditor.crawl.fetcher import Fetcher, FetchLimits
from auditor.crawl.netsafety import IPAddress, special_use
from auditor.testing import SiteServer

from .harness import HostileRun, Record, verdict

PRIVATE_IMAGES = {
    "http://10.0.0.1/a.jpg": "10.0.0.1 is a private address",
    "http://192.168.1.1/b.jpg": "192.168.1.1 is a private address",
    "http://172.16.0.1/c.jpg": "172.16.0.1 is a private address",
    "http://100.64.0.1/d.jpg": "100.64.0.1 is a non-global address",
    "http://0.0.0.0:{port}/good.jpg": "0.0.0.0 is an unspecified address",
    "http://[::1]:{port}/good.jpg": "::1 is a loopback address",
    "http://[::ffff:127.0.0.1]:{port}/good.jpg": "::ffff:127.0.0.1 is a loopback address",
    "http://[fd00::1]/e.jpg": "fd00::1 is a private address",
    "http://[fe80::1]/f.jpg": "fe80::1 is a link-local address",
    "http://224.0.0.1/g.jpg": "224.0.0.1 is a multicast address",
}


@pytest.fixture
def run(hostile_run: HostileRun) -> HostileRun:
    return hostile_run


def refusal(run: HostileRun, url: str) -> str | None:
    """The detail of the single ``private_address`` skip recorded for ``url``, if that is all."""
    skips = run.skips(url)
    image = run.image(url)
    if [s["reason"] for s in skips] != ["private_address"]:
        return None
    if image is not None and (image["fetched"], image["skip_reason"]) != (0, "private_address"):
        return None
    return str(skips[0]["detail"])


def test_redirects_to_loopback_under_another_name(run: HostileRun, record_property: Record) -> None:
    case = "network_safety/redirect_to_loopback"
    server = run.servers[case]
    expected = "localhost resolves to 127.0.0.1, which is a loopback address"
    page = refusal(run, run.url(case, "/to-localhost.html"))
    image = refusal(run, run.url(case, "/img-to-localhost.jpg"))
    hosts = {headers.get("host", "").split(":")[0] for _, _, headers in server.requests}
    verdict(
        record_property, run, case,
        survived=bool(page and image and page.startswith(expected) and image.startswith(expected))
        and hosts == {"127.0.0.1"},  # nothing was asked of this server as "localhost"
        why=f"page: {page}, image: {image}, hosts asked for: {hosts}",
    )  # fmt: skip


def test_the_metadata_service_is_never_reached(run: HostileRun, record_property: Record) -> None:
    case = "network_safety/metadata"
    expected = "169.254.169.254 is a link-local address"
    image_url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    page, image = refusal(run, run.url(case, "/cloud.html")), refusal(run, image_url)
    verdict(
        record_property, run, case,
        survived=bool(page and image and page.startswith(expected) and image.startswith(expected)),
        why=f"redirect: {page}, image: {image}",
    )  # fmt: skip


def test_images_on_special_use_addresses(run: HostileRun, record_property: Record) -> None:
    case = "network_safety/private_ranges"
    port = str(run.servers[case].port)
    found = {url: refusal(run, url.replace("{port}", port)) for url in PRIVATE_IMAGES}
    wrong = {
        url: detail
        for url, detail in found.items()
        if detail is None or not detail.startswith(PRIVATE_IMAGES[url])
    }
    verdict(record_property, run, case, survived=not wrong, why=f"not refused as expected: {wrong}")


def test_explicit_targets_may_be_private_and_others_may_not(
    run: HostileRun, record_property: Record
) -> None:
    case = "network_safety/other_hosts"
    internal, staging = (
        run.servers["network_safety/internal"],
        run.servers["network_safety/staging"],
    )
    refused = refusal(run, internal.url("/good.jpg"))
    allowed = run.image(staging.url("/good.jpg")) or {}
    verdict(
        record_property, run, case,
        survived=refused is not None
        and refused.startswith("127.0.0.2 is a loopback address")
        and internal.requests == []  # not even robots.txt was asked for
        and allowed.get("fetched") == 1,
        why=f"internal: {refused}, staging: {allowed.get('skip_reason')}",
        lost=run.lost(case) + run.lost("network_safety/staging"),
    )  # fmt: skip


# --- DNS: resolved once, connections pinned (the real fetcher, an injected resolver) ----------


class ScriptedResolver:
    """Answers each name from a script of answers, one per lookup, and counts lookups."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        script = self.answers[host]
        return script.pop(0) if len(script) > 1 else script[0]


def public_127_0_0_2(address: IPAddress) -> str | None:
    """The strict classification, except that 127.0.0.2 plays a public web server."""
    return None if address == ipaddress.ip_address("127.0.0.2") else special_use(address)


@pytest.fixture
def twin_servers(tmp_path: Path) -> Iterator[tuple[SiteServer, SiteServer]]:
    """One server on 127.0.0.2 ("public") and one on 127.0.0.3 (internal), on the same port."""
    for name, text in (("public", "the public site"), ("internal", "internal secrets")):
        root = tmp_path / name
        root.mkdir()
        (root / "index.html").write_text(text, encoding="utf-8")
        (root / "_site.yaml").write_text(
            "routes:\n  - {path: /away, redirect: 'http://internal.test:{port}/'}\n",
            encoding="utf-8",
        )
    public = SiteServer(tmp_path / "public", host="127.0.0.2").start()
    with public, SiteServer(tmp_path / "internal", host="127.0.0.3", port=public.port) as internal:
        yield public, internal


def fetch_all(
    resolver: ScriptedResolver, urls: list[str]
) -> list[tuple[str | None, bytes | None, str | None]]:
    async def go() -> list[tuple[str | None, bytes | None, str | None]]:
        async with Fetcher(
            user_agent="HostileSuite/1", limits=FetchLimits(), resolver=resolver,
            classify=public_127_0_0_2,
        ) as fetcher:  # fmt: skip
            results = [await fetcher.fetch(url, max_bytes=10_000) for url in urls]
        return [(r.error, r.body, r.error_detail) for r in results]

    return asyncio.run(go())


def test_a_host_is_resolved_once_and_the_connection_pinned(
    twin_servers: tuple[SiteServer, SiteServer],
) -> None:
    public, internal = twin_servers
    # DNS rebinding: the first answer is public, every later one internal.
    resolver = ScriptedResolver({"rebind.test": [["127.0.0.2"], ["127.0.0.3"]]})
    url = f"http://rebind.test:{public.port}/"
    results = fetch_all(resolver, [url, url, url])
    assert [body for _, body, _ in results] == [b"the public site"] * 3
    assert resolver.lookups == ["rebind.test"]
    assert internal.requests == []
    assert {headers["host"] for _, _, headers in public.requests} == {f"rebind.test:{public.port}"}


def test_one_private_answer_refuses_the_host(twin_servers: tuple[SiteServer, SiteServer]) -> None:
    public, internal = twin_servers
    resolver = ScriptedResolver({"mixed.test": [["127.0.0.2", "127.0.0.3"]]})
    [(error, body, detail)] = fetch_all(resolver, [f"http://mixed.test:{public.port}/"])
    assert (error, body) == ("private_address", None)
    assert detail is not None
    assert detail.startswith("mixed.test resolves to 127.0.0.3, which is a loopback address")
    assert public.requests == internal.requests == []


def test_a_public_site_cannot_redirect_to_an_internal_name(
    twin_servers: tuple[SiteServer, SiteServer],
) -> None:
    public, internal = twin_servers
    resolver = ScriptedResolver({"public.test": [["127.0.0.2"]], "internal.test": [["127.0.0.3"]]})
    [(error, _, detail)] = fetch_all(resolver, [f"http://public.test:{public.port}/away"])
    assert error == "private_address"
    assert detail is not None
    assert detail.startswith("internal.test resolves to 127.0.0.3")
    assert [path for _, path, _ in public.requests] == ["/away"]
    assert internal.requests == []
