"""robots.txt path matching (RFC 9309 2.2.2-2.2.3): normalisation, targets and wildcard patterns.

Kept apart from :mod:`auditor.crawl.robots` (parsing, group selection, fetch statuses) because
other records written in robots.txt path syntax (Content-Usage, TDMRep locations, ai.txt) match
with it too. Both sides are percent-normalised (reference 1.4); in the URL a literal ``*`` or
``$`` is compared as ``%2A``/``%24``. Wildcards are matched by a greedy leftmost search over the
literal pieces between ``*``: linear, no regular expressions built from file content.
"""

from __future__ import annotations

import re

__all__ = [
    "CompiledPattern",
    "compile_pattern",
    "is_robots_txt",
    "match_target",
    "matches",
    "normalise_path",
    "path_and_query",
    "pattern_matches",
]

CompiledPattern = tuple[tuple[str, ...], bool]
"""A pattern's literal pieces between ``*``, and whether it is anchored at the end (``$``)."""

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# RFC 3986 unreserved + reserved characters: the only ones that stay as written.
_URI_CHARS = r"A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;="
_CLEAN = re.compile(f"[{_URI_CHARS}]*")
_ESCAPE = re.compile(f"%([0-9A-Fa-f]{{2}})|[^{_URI_CHARS}]")
_SCHEME_AND_AUTHORITY = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:)?(?://[^/?]*)?")
_WS = " \t\v\f"


def _escape(match: re.Match[str]) -> str:
    hex_pair = match.group(1)
    if hex_pair is not None:
        char = chr(int(hex_pair, 16))
        return char if char in _UNRESERVED else "%" + hex_pair.upper()
    # A character that may not appear raw in a URI (non-ASCII, space, '"', a lone '%', ...).
    return "".join(f"%{octet:02X}" for octet in match.group(0).encode("utf-8", "surrogatepass"))


def normalise_path(path_and_query: str) -> str:
    """Percent-encoding normalisation of reference 1.4, for URLs and patterns alike.

    Non-ASCII and other characters that cannot appear raw in a URI become upper-case ``%XX``
    of their UTF-8 octets; escapes of unreserved characters are decoded (``%7E`` -> ``~``);
    other escapes keep their meaning with upper-case hex; reserved characters such as ``=``,
    ``&``, ``?``, ``*`` and ``$`` stay as written, so query-parameter rules keep matching.
    """
    if _CLEAN.fullmatch(path_and_query):
        return path_and_query
    return _ESCAPE.sub(_escape, path_and_query)


def path_and_query(url: str) -> str:
    """``/a/b?x=1`` from ``https://host/a/b?x=1#f``: where matching starts (RFC 9309 2.2.2)."""
    rest = _SCHEME_AND_AUTHORITY.sub("", url.split("#", 1)[0], count=1)
    return rest if rest.startswith("/") else "/" + rest


def match_target(path_and_query: str) -> str:
    """Normalise the URL side, writing literal ``*``/``$`` as escapes (RFC 9309 2.2.3)."""
    return normalise_path(path_and_query or "/").replace("*", "%2A").replace("$", "%24")


def is_robots_txt(target: str) -> bool:
    """Whether a match target is ``/robots.txt`` itself, implicitly allowed (RFC 9309 2.2.2)."""
    return target.split("?", 1)[0] == "/robots.txt"


def compile_pattern(normalised: str) -> CompiledPattern:
    """Literal pieces between ``*`` (a ``$`` inside a piece is literal) and the end anchor."""
    anchored = normalised.endswith("$")
    body = normalised[:-1] if anchored else normalised
    pieces = [piece.replace("$", "%24") for piece in body.split("*")]
    # Runs of '*' leave empty middle pieces, which match trivially: drop them.
    pieces[1:-1] = [piece for piece in pieces[1:-1] if piece]
    return tuple(pieces), anchored


def matches(compiled: CompiledPattern, target: str) -> bool:
    """Glob match with greedy leftmost placement, which is exact for ``*``-only patterns."""
    pieces, anchored = compiled
    first = pieces[0]
    if len(pieces) == 1:
        return target == first if anchored else target.startswith(first)
    if not target.startswith(first):
        return False
    position = len(first)
    for piece in pieces[1:-1]:
        found = target.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    last = pieces[-1]
    if anchored:
        return len(target) - len(last) >= position and target.endswith(last)
    return target.find(last, position) >= 0


def pattern_matches(pattern: str, path_and_query: str) -> bool:
    """Whether one robots.txt path pattern matches; for Content-Usage and similar records."""
    normalised = normalise_path(pattern.strip(_WS))
    return bool(normalised) and matches(compile_pattern(normalised), match_target(path_and_query))
