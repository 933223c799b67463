"""URL normalisation, origins and crawl scope.

The frontier de-duplicates on the normalised form, so two spellings of one resource are fetched
once: scheme and host lower-cased, IDNA hosts in ASCII, default ports dropped, dot segments
resolved, percent-escapes of unreserved characters decoded and hex digits upper-cased, the
fragment removed. The query string keeps its order: reordering parameters can change what a
server returns.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, quote, urljoin, urlsplit, urlunsplit

import idna

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
# Characters left as written when re-quoting: RFC 3986 reserved and '%' (existing escapes).
_SAFE = "/:@!$&'()*+,;=%?"
# DNS labels as browsers accept them in ASCII hosts (underscores occur in real host names).
_ASCII_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?")


class InvalidURLError(ValueError):
    """A string that cannot be crawled as an http(s) URL."""


def _normalise_escapes(text: str) -> str:
    """Decode escapes of unreserved characters, upper-case the rest, quote raw non-ASCII."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _PERCENT.sub(fix, quote(text, safe=_SAFE))


def _ascii_host(host: str) -> str:
    """Validate a host name and return its ASCII form (UTS 46, as httpx and browsers do)."""
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidURLError(f"host {host!r} is not a valid domain name: {exc}") from exc
    if not _ASCII_HOST.fullmatch(host):
        raise InvalidURLError(f"host {host!r} is not a valid host name")
    return host


def _host_key(parts: SplitResult) -> str:
    host = parts.hostname
    if not host:
        raise InvalidURLError(f"no host in URL {parts.geturl()!r}")
    host = f"[{host}]" if ":" in host else _ascii_host(host)  # IPv6 literals stay bracketed
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidURLError(f"bad port in URL {parts.geturl()!r}") from exc
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{port}"
    return host


def normalise_url(url: str) -> str:
    """Return the canonical form of an absolute http(s) URL, or raise InvalidURLError."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:  # an unbalanced IPv6 bracket: "http://[::1"
        raise InvalidURLError(f"malformed URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURLError(f"only http and https URLs can be audited, not {url!r}")
    netloc = _host_key(parts)
    # Escapes first, so that %2E%2E is a dot segment too; then RFC 3986 5.2.4 dot-segment
    # removal as urljoin implements it (empty segments such as "//" are kept, as the RFC says).
    path = _normalise_escapes(parts.path or "/")
    if "/." in path:
        # The "/." prefix is removed by the algorithm itself, and stops a path that starts with
        # "//" from being read as a network-path reference (an authority) by urljoin.
        path = urlsplit(urljoin("http://host/", "/." + path)).path
    return urlunsplit((scheme, netloc, path, _normalise_escapes(parts.query), ""))


def origin_of(url: str) -> str:
    """``scheme://host[:port]``: the authority robots.txt and other origin files belong to."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{_host_key(parts)}"


def host_key(url: str) -> str:
    """Host and non-default port, without scheme: the unit of politeness and of site scope."""
    return _host_key(urlsplit(url))


def in_scope(url: str, seed: str, mode: str) -> bool:
    """Whether a page URL belongs to the site a seed names.

    ``host`` keeps pages on the seed's host and port whatever the scheme, so an http seed that
    redirects to https stays in scope; ``prefix`` also requires the path to lie under the seed's
    directory.
    """
    if host_key(url) != host_key(seed):
        return False
    if mode == "prefix":
        seed_path = urlsplit(normalise_url(seed)).path
        directory = seed_path if seed_path.endswith("/") else seed_path.rsplit("/", 1)[0] + "/"
        return (urlsplit(url).path or "/").startswith(directory)
    return True
