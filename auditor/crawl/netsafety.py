"""Network safety: a public target never leads the auditor to a private address.

A page or a redirect on a site the auditor is pointed at can name any URL, including
``http://169.254.169.254/`` (the cloud metadata service), ``http://127.0.0.1:6379/`` or a host
name that resolves to an office network. The auditor runs inside the auditing team's network, so
following such a URL would turn a hostile site into a probe of that network (server-side request
forgery). The rules:

- **Every host is resolved once, and every address it resolves to is checked.** One special-use
  address among public ones refuses the host (a resolver may rotate answers).
- **Special-use means what the standard library's ``ipaddress`` says**: loopback, private
  (RFC 1918, IPv6 ULA ...), link-local (169.254/16 with the metadata service, fe80::/10),
  unspecified, multicast, reserved, site-local, and anything else that is not globally
  reachable ("non-global", such as the shared address space 100.64/10 of carrier-grade NAT).
  IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, NAT64) are judged by that IPv4
  address too, so ``[::ffff:127.0.0.1]`` is loopback.
- **Explicit targets are trusted.** A host the user named as a target may be on any address: a
  team audits its own staging site on 10.x or on loopback. Trust goes by host name, so pages
  and images on that host (any port) are allowed, and nothing else is.
- **The connection is pinned to the checked address** by the fetcher, so a second DNS answer
  (DNS rebinding) can never move the connection somewhere unchecked.

Refusals carry the reason :data:`PRIVATE_ADDRESS` and a detail naming the host and the address.
The resolver and the classification are injectable so tests can model a "public" host on a
loopback address; the defaults are the system resolver and the strict classification.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: host name, port -> every address it resolves to (as strings, in resolver order).
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
#: address -> the name of its special-use class, or None for a globally reachable address.
Classifier = Callable[[IPAddress], str | None]

PRIVATE_ADDRESS = "private_address"
"""Skip reason of a request refused because its host resolves to a special-use address."""

#: RFC 6052 well-known NAT64 prefix: the last 32 bits are the IPv4 address actually reached.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443}


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the operating system's resolver, off the event loop thread."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _own_class(address: IPAddress) -> str | None:
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
    )
    for name, flagged in checks:
        if flagged:
            return name
    return None if address.is_global else "non-global"


def special_use(address: IPAddress) -> str | None:
    """Name the special-use class of ``address``; None when it is globally reachable.

    IPv4-mapped and NAT64 addresses are judged by the IPv4 address they carry (the IPv6 wrapper
    itself is "reserved" to ``ipaddress``, which would refuse every public site reached over
    NAT64); 6to4 addresses by both.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = _own_class(embedded)
            if inner is not None or address.sixtofour is None:
                return inner
    return _own_class(address)


@dataclass(frozen=True)
class Resolution:
    """The checked addresses of one host, in the order to try them; or why it is refused."""

    host: str
    addresses: tuple[str, ...] = ()
    refusal: str | None = None  # PRIVATE_ADDRESS or "connect_error" (no usable address)
    detail: str | None = None


def url_host(url: str) -> str:
    """Return the host name as the trust rules compare it: lower case, IPv6 unbracketed."""
    return (urlsplit(url).hostname or "").lower()


class AddressGuard:
    """Resolves each host once, checks every address, and remembers the answer for the run.

    ``allow_private`` turns the check off (every address allowed, still resolved once and
    pinned); hosts passed to :meth:`trust` are allowed whatever their addresses.
    """

    def __init__(
        self,
        *,
        resolver: Resolver = system_resolver,
        classify: Classifier = special_use,
        allow_private: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self._resolver = resolver
        self._classify = classify
        self._allow_private = allow_private
        self._timeout = timeout
        self._trusted: set[str] = set()
        self._resolved: dict[str, Resolution] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def trust(self, urls: Iterable[str]) -> None:
        """Allow the hosts of these explicit targets on any address, private ones included."""
        self._trusted.update(host for host in map(url_host, urls) if host)

    async def resolve(self, url: str) -> Resolution:
        """Return the checked addresses for ``url``'s host, resolving it on first use only.

        A failed lookup is not remembered (the next URL on the host tries again); a refusal
        and a success are, so the host's address cannot change during the run.
        """
        host = url_host(url)
        known = self._resolved.get(host)
        if known is not None:
            return known
        async with self._locks.setdefault(host, asyncio.Lock()):
            known = self._resolved.get(host)
            if known is None:
                parts = urlsplit(url)
                port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 80)
                known = await self._lookup(host, port)
                if known.refusal != "connect_error":
                    self._resolved[host] = known
            return known

    async def _lookup(self, host: str, port: int) -> Resolution:
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            names: Sequence[str] = (host,)
        else:
            try:
                async with asyncio.timeout(self._timeout):
                    names = await self._resolver(host, port)
            except (OSError, TimeoutError, UnicodeError) as exc:
                detail = f"cannot resolve {host}: {exc or type(exc).__name__}"
                return Resolution(host, refusal="connect_error", detail=detail)
        addresses = []
        for name in names:
            try:
                addresses.append(ipaddress.ip_address(name.split("%", 1)[0]))
            except ValueError:
                continue
        if not addresses:
            return Resolution(host, refusal="connect_error", detail=f"no address for {host}")
        if not self._allow_private and host not in self._trusted:
            for address in addresses:
                kind = self._classify(address)
                if kind is not None:
                    what = host if literal is not None else f"{host} resolves to {address}, which"
                    article = "an" if kind[0] in "aeiou" else "a"
                    detail = (
                        f"{what} is {article} {kind} address; "
                        "only the hosts of explicit targets may be private"
                    )
                    return Resolution(host, refusal=PRIVATE_ADDRESS, detail=detail)
        return Resolution(host, tuple(str(address) for address in addresses))
