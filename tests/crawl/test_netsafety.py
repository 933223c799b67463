"""Which addresses count as special-use (``auditor.crawl.netsafety``), and the guard's rules.

The classification is the standard library's, plus the IPv4 address that IPv4-mapped, 6to4
and NAT64 addresses carry; the guard trusts explicit targets' hosts by name only.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence

import pytest

from auditor.crawl.netsafety import PRIVATE_ADDRESS, AddressGuard, special_use


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.1.2.3", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "non-global"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to classify, not to bind
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),
        ("255.255.255.255", "private"),
        ("192.0.2.1", "private"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd12:3456::1", "private"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 wrapping 169.254.169.254
        ("2001:db8::1", "private"),
        ("8.8.8.8", None),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
        ("::ffff:8.8.8.8", None),  # mapped public: judged by the IPv4 address
        ("64:ff9b::808:808", None),  # NAT64 public: an IPv6-only network reaching the web
    ],
)
def test_special_use(address: str, kind: str | None) -> None:
    assert special_use(ipaddress.ip_address(address)) == kind


def resolve(guard: AddressGuard, url: str) -> tuple[str | None, tuple[str, ...], str | None]:
    resolution = asyncio.run(guard.resolve(url))
    return resolution.refusal, resolution.addresses, resolution.detail


async def answers(host: str, port: int) -> Sequence[str]:
    return {"public.test": ["93.184.215.14"], "mixed.test": ["93.184.215.14", "10.0.0.5"]}[host]


def test_ip_literals_need_no_resolver_and_are_checked() -> None:
    guard = AddressGuard(resolver=answers)
    refusal, addresses, detail = resolve(guard, "http://[::ffff:10.0.0.1]:8080/x")
    assert (refusal, addresses) == (PRIVATE_ADDRESS, ())
    assert detail == (
        "::ffff:10.0.0.1 is a private address; only the hosts of explicit targets may be private"
    )
    assert resolve(guard, "https://8.8.8.8/")[:2] == (None, ("8.8.8.8",))


def test_every_answer_is_checked() -> None:
    guard = AddressGuard(resolver=answers)
    assert resolve(guard, "http://public.test/")[:2] == (None, ("93.184.215.14",))
    refusal, _, detail = resolve(guard, "http://mixed.test/")
    assert refusal == PRIVATE_ADDRESS
    assert detail is not None
    assert detail.startswith("mixed.test resolves to 10.0.0.5, which is a private address")


def test_explicit_targets_are_trusted_by_host_name_on_any_port() -> None:
    guard = AddressGuard(resolver=answers)
    guard.trust(["http://127.0.0.1:8000/", "https://MIXED.test/start"])
    assert resolve(guard, "http://127.0.0.1:9999/img.jpg")[:2] == (None, ("127.0.0.1",))
    assert resolve(guard, "http://mixed.test/")[0] is None
    assert resolve(guard, "http://127.0.0.2/")[0] == PRIVATE_ADDRESS


def test_allow_private_allows_every_address() -> None:
    guard = AddressGuard(resolver=answers, allow_private=True)
    assert resolve(guard, "http://169.254.169.254/latest/")[:2] == (None, ("169.254.169.254",))


def test_a_failed_lookup_is_a_connect_error_and_is_retried() -> None:
    calls: list[str] = []

    async def failing(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        raise OSError(-2, "Name or service not known")

    guard = AddressGuard(resolver=failing)
    refusal, _, detail = resolve(guard, "http://nowhere.test/")
    assert refusal == "connect_error"
    assert detail == "cannot resolve nowhere.test: [Errno -2] Name or service not known"
    resolve(guard, "http://nowhere.test/")
    assert calls == ["nowhere.test", "nowhere.test"]
