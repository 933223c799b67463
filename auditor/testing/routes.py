"""The ``_site.yaml`` route model and loader for :mod:`auditor.testing.siteserver`.

Split out of the server module so each stays readable in one sitting: this module turns a
scenario's ``_site.yaml`` into validated :class:`Route` objects (and names the Content-Type a
served file gets), with no networking; :mod:`auditor.testing.siteserver` does the serving and
re-exports every public name here, so ``from auditor.testing.siteserver import Route`` keeps
working. The format is documented in ``fixtures/sites/README.md``.
"""

from __future__ import annotations

import math
import mimetypes
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

__all__ = ["BEHAVIOURS", "Route", "SiteConfigError", "content_type_for", "load_routes"]

BEHAVIOURS = frozenset(
    {"trickle", "endless", "reset", "short_body", "long_body", "no_content_type", "close"}
)
"""Hostile server behaviours a route can ask for (``behaviour:``), for crash-safety tests:

- ``trickle``: the headers at once, then a chunked body of one byte every ``TRICKLE_INTERVAL``
  seconds, the last byte repeated forever (slowloris: each byte arrives inside any read timeout);
- ``endless``: a chunked body that never ends (the body repeated);
- ``reset``: half the declared body, then a TCP reset;
- ``short_body``: ``Content-Length`` claims more than is sent, then the connection closes;
- ``long_body``: ``Content-Length`` claims half of what is sent;
- ``no_content_type``: the response has no ``Content-Type`` header at all;
- ``close``: the connection is closed without any response.
"""

_TOP_LEVEL_KEYS = frozenset({"routes", "description"})
_ROUTE_KEYS = frozenset(
    {"path", "status", "headers", "redirect", "body", "delay", "content_type", "behaviour"}
)
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_GLOB_CHARS = frozenset("*[")

# A private table built from Python's defaults only, so content types do not depend on the host's
# /etc/mime.types; plus the image formats that older tables lack.
_MIME_TYPES = mimetypes.MimeTypes()
_EXTRA_TYPES = {
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".heic": "image/heic",
    ".jxl": "image/jxl",
    ".jsonld": "application/ld+json",
    ".webmanifest": "application/manifest+json",
}


class SiteConfigError(ValueError):
    """A scenario folder or its ``_site.yaml`` is missing, malformed or invalid."""


def content_type_for(name: str) -> str | None:
    """Return the Content-Type served for a file called *name*, or None if the type is unknown.

    Text types get ``; charset=utf-8`` (``.html`` -> ``text/html; charset=utf-8``).
    """
    suffix = PurePosixPath(name).suffix.lower()
    ctype = _EXTRA_TYPES.get(suffix)
    if ctype is None:
        guessed, encoding = _MIME_TYPES.guess_type(PurePosixPath(name).name, strict=False)
        if guessed is None or encoding is not None:
            return None
        ctype = guessed
    if ctype.startswith("text/"):
        ctype += "; charset=utf-8"
    return ctype


def _check_text(what: str, value: str) -> None:
    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError(f"{what} must not contain CR, LF or NUL characters")


@dataclass(frozen=True)
class Route:
    """One entry of ``_site.yaml`` ``routes:``; the first route matching a request wins.

    *path* is an exact path (``/page.html``), an exact path with query (``/search?q=1``, compared
    with the full request target) or a glob (``/img/*.jpg``, :func:`fnmatch.fnmatchcase` on the
    path only; ``*`` also matches ``/``, and ``?`` is never a wildcard). Paths are compared
    percent-decoded. *headers* may repeat names; their order is preserved on the wire.
    """

    path: str
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    redirect: str | None = None
    body: str | None = None
    delay: float = 0.0
    content_type: str | None = None
    behaviour: str | None = None

    def __post_init__(self) -> None:
        """Validate the route; raise ValueError with a one-line reason if it is unusable."""
        if not self.path.startswith("/"):
            raise ValueError(f"path {self.path!r} must start with '/'")
        if self.status is not None and (
            isinstance(self.status, bool) or not 200 <= self.status <= 599  # noqa: PLR2004
        ):
            raise ValueError(f"status {self.status!r} must be an integer from 200 to 599")
        if isinstance(self.delay, bool) or not (math.isfinite(self.delay) and self.delay >= 0):
            raise ValueError(f"delay {self.delay!r} must be a number of seconds >= 0")
        if self.behaviour is not None and self.behaviour not in BEHAVIOURS:
            raise ValueError(
                f"behaviour {self.behaviour!r} is not one of {', '.join(sorted(BEHAVIOURS))}"
            )
        headers = tuple((str(name), str(value)) for name, value in self.headers)
        object.__setattr__(self, "headers", headers)
        for name, value in headers:
            if not name or not set(name) <= _TOKEN_CHARS:
                raise ValueError(f"header name {name!r} is not a valid HTTP token")
            if name.lower() in _FRAMING_HEADERS:
                raise ValueError(f"header {name!r} is computed by the server and cannot be set")
            _check_text(f"header {name!r} value", value)
        for what, text in (("redirect", self.redirect), ("content_type", self.content_type)):
            if text is not None:
                _check_text(what, text)

    @property
    def is_glob(self) -> bool:
        """Whether *path* is matched as a glob rather than exactly."""
        return "?" not in self.path and bool(_GLOB_CHARS & set(self.path))

    def matches(self, path: str, query: str = "") -> bool:
        """Whether this route applies to a request for decoded *path* with raw *query*."""
        if "?" in self.path:
            return self.path == (f"{path}?{query}" if query else path)
        if self.is_glob:
            return fnmatchcase(path, self.path)
        return self.path == path


def _parse_headers(raw: object, where: str) -> tuple[tuple[str, str], ...]:
    """Read ``headers:``: a mapping, or a list of one-key mappings, pairs or ``Name: value``."""
    if raw is None:
        return ()
    items: list[tuple[object, object]] = []
    if isinstance(raw, dict):
        items.extend(raw.items())
    elif isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, dict) and len(entry) == 1:
                items.extend(entry.items())
            elif isinstance(entry, list) and len(entry) == 2:  # noqa: PLR2004
                items.append((entry[0], entry[1]))
            elif isinstance(entry, str) and ":" in entry:
                head, _, tail = entry.partition(":")
                items.append((head.strip(), tail.strip()))
            else:
                raise SiteConfigError(
                    f"{where}: headers entry {entry!r} must be 'Name: value', a one-key mapping "
                    "or a [name, value] pair"
                )
    else:
        raise SiteConfigError(f"{where}: headers must be a mapping or a list")
    headers: list[tuple[str, str]] = []
    for name, value in items:
        if not isinstance(name, str):
            raise SiteConfigError(f"{where}: header name {name!r} must be a string")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise SiteConfigError(
                f"{where}: header {name!r} value {value!r} must be a string or a number "
                "(quote values such as 'true' or 'no')"
            )
        headers.append((name, str(value)))
    return tuple(headers)


def _optional(entry: dict[Any, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = entry.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
        raise SiteConfigError(f"{where}: {key} {value!r} has the wrong type")
    return value


def _parse_route(entry: object, where: str) -> Route:
    if not isinstance(entry, dict):
        raise SiteConfigError(f"{where}: a route must be a mapping with at least 'path'")
    unknown = sorted(str(key) for key in entry if key not in _ROUTE_KEYS)
    if unknown:
        raise SiteConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_ROUTE_KEYS))}"
        )
    path = entry.get("path")
    if not isinstance(path, str):
        raise SiteConfigError(f"{where}: 'path' is required and must be a string")
    delay = _optional(entry, "delay", (int, float), where)
    try:
        return Route(
            path=path,
            status=_optional(entry, "status", int, where),
            headers=_parse_headers(entry.get("headers"), where),
            redirect=_optional(entry, "redirect", str, where),
            body=_optional(entry, "body", str, where),
            delay=float(delay) if delay is not None else 0.0,
            content_type=_optional(entry, "content_type", str, where),
            behaviour=_optional(entry, "behaviour", str, where),
        )
    except ValueError as exc:
        raise SiteConfigError(f"{where}: {exc}") from exc


def load_routes(site_file: Path) -> tuple[Route, ...]:
    """Parse a ``_site.yaml`` file into routes, in file order; raise SiteConfigError if invalid."""
    try:
        data = yaml.safe_load(site_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SiteConfigError(f"{site_file}: cannot be read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SiteConfigError(f"{site_file}: not valid YAML: {exc}") from exc
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise SiteConfigError(f"{site_file}: the top level must be a mapping with 'routes:'")
    unknown = sorted(str(key) for key in data if key not in _TOP_LEVEL_KEYS)
    if unknown:
        raise SiteConfigError(
            f"{site_file}: unknown top-level key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_TOP_LEVEL_KEYS))}"
        )
    routes = data.get("routes")
    if routes is None:
        return ()
    if not isinstance(routes, list):
        raise SiteConfigError(f"{site_file}: 'routes' must be a list")
    return tuple(_parse_route(entry, f"{site_file}: routes[{i}]") for i, entry in enumerate(routes))
