"""The ``/.well-known/tdmrep.json`` file parser of the W3C TDM Reservation Protocol.

Split out of :mod:`auditor.signals.tdmrep` so each module can be read in one sitting: this module
turns the outcome of fetching the file into a :class:`TdmrepFile` (and never raises), and
:mod:`auditor.signals.tdmrep` turns files, headers and meta tags into evidence records. The
protocol semantics are described in the docstring of :mod:`auditor.signals.tdmrep`, which
re-exports every public name of this module.

The parser never raises: the body is capped (:data:`MAX_TDMREP_BYTES`), its nesting depth is
checked before ``json.loads`` (which recurses) and at most :data:`MAX_TDMREP_ENTRIES` array items
are examined.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import NoReturn

from auditor.crawl.robots import pattern_matches

__all__ = [
    "HTTP_WS",
    "INVALID",
    "MAX_TDMREP_BYTES",
    "MAX_TDMREP_DEPTH",
    "MAX_TDMREP_ENTRIES",
    "NOT_FETCHED",
    "POLICY",
    "RESERVATION",
    "TdmrepEntry",
    "TdmrepFile",
    "parse_tdmrep_file",
]

MAX_TDMREP_BYTES = 256 * 1024
#: JSON nesting allowed in tdmrep.json; a valid file needs 2 (array, object).
MAX_TDMREP_DEPTH = 32
#: Array items examined; at least 35 bytes per valid entry means the byte cap already keeps valid
#: files far below this, so only files padded with junk items ever reach it.
MAX_TDMREP_ENTRIES = 10_000
_MAX_SHOWN = 80  # characters of a location quoted in a problem
#: Field names shared by tdmrep.json members, response headers and meta tags.
RESERVATION = "tdm-reservation"
POLICY = "tdm-policy"
_LOCATION = "location"
#: HTTP optional whitespace, trimmed around header and meta values.
HTTP_WS = " \t"
_BOM = b"\xef\xbb\xbf"
_JSON_TOKENS = re.compile(r'[\[\]{}"\\]')

# Problem codes (the first word of TdmrepFile.problems entries).
_SKIPPED = "skipped_entry"
_CAPPED = "entries_capped"

# Reason codes of a file that could not be used (the first word of TdmrepFile.reason).
_UNAVAILABLE = "unavailable"  # 4xx except 429: the origin does not implement the protocol
NOT_FETCHED = frozenset({"fetch_error", "robots_disallowed", "robots_unreachable", "unreachable"})
INVALID = frozenset({"invalid_json", "not_an_array", "too_large", "too_deep", "not_utf8"})


@dataclass(frozen=True)
class TdmrepEntry:
    """One rule of tdmrep.json with both mandatory members, at array position ``index`` (0-based).

    ``reservation`` is 1 or 0, or None when the value is not exactly the JSON integer 1 or 0
    (a protocol error: unset). ``raw_reservation`` is the value as written, JSON-dumped.
    """

    index: int
    location: str
    reservation: int | None
    raw_reservation: str
    policy: str | None

    @property
    def raw(self) -> str:
        """The entry as compact JSON (its known members, in protocol order)."""
        parts = [
            f'"{_LOCATION}":{_dump(self.location)}',
            f'"{RESERVATION}":{self.raw_reservation}',
        ]
        if self.policy is not None:
            parts.append(f'"{POLICY}":{_dump(self.policy)}')
        return "{" + ",".join(parts) + "}"


@dataclass(frozen=True)
class TdmrepFile:
    """A parsed tdmrep.json, or why the origin does not (usably) implement the protocol.

    ``implemented`` is False for a 404 or other error status, a network error or refused fetch,
    and for a body that is not a JSON array (``reason`` says which, as ``code: detail``).
    ``problems`` lists what was wrong inside a usable file: skipped entries (not an object,
    missing or non-string ``location``, missing ``tdm-reservation``), a non-string
    ``tdm-policy``, a location that cannot match a path, items beyond the entry cap.
    """

    entries: tuple[TdmrepEntry, ...]
    problems: tuple[str, ...]
    implemented: bool
    reason: str | None

    def match(self, path_and_query: str) -> TdmrepEntry | None:
        """Return the first entry in array order whose location matches (not the longest)."""
        for entry in self.entries:
            if pattern_matches(entry.location, path_and_query):
                return entry
        return None

    @property
    def reason_code(self) -> str | None:
        """The machine-readable part of ``reason`` (before the first colon)."""
        return None if self.reason is None else self.reason.split(":", 1)[0]

    @property
    def capped(self) -> bool:
        """True when array items past :data:`MAX_TDMREP_ENTRIES` were not examined."""
        return any(problem.startswith(_CAPPED) for problem in self.problems)


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _not_implemented(reason: str) -> TdmrepFile:
    return TdmrepFile((), (), implemented=False, reason=reason)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _too_deep(text: str) -> bool:
    """Whether brackets nest deeper than the limit; strings are skipped. Linear time."""
    depth = 0
    in_string = False
    escaped_until = -1
    for token in _JSON_TOKENS.finditer(text):
        position, char = token.start(), token.group()
        if position < escaped_until:
            continue
        if in_string:
            if char == "\\":
                escaped_until = position + 2
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_TDMREP_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "array"


def _entry(index: int, item: object, problems: list[str]) -> TdmrepEntry | None:
    """Validate one array item; record why it is skipped or what is odd about it."""
    if not isinstance(item, dict):
        problems.append(f"{_SKIPPED}: entry {index} is not an object ({_json_type(item)})")
        return None
    missing = [name for name in (_LOCATION, RESERVATION) if name not in item]
    if missing:
        problems.append(f"{_SKIPPED}: entry {index} lacks {' and '.join(missing)}")
        return None
    location = item[_LOCATION]
    if not isinstance(location, str):
        problems.append(
            f"{_SKIPPED}: entry {index} location is not a string ({_json_type(location)})"
        )
        return None
    if not location.strip(HTTP_WS).startswith(("/", "*")):
        shown = _dump(location[:_MAX_SHOWN]) + ("..." if len(location) > _MAX_SHOWN else "")
        problems.append(f"location: entry {index} location {shown} matches no path")
    value = item[RESERVATION]
    # Only the JSON integers 1 and 0: true, 1.0, "1" and 2 are protocol errors (unset).
    reservation = value if type(value) is int and value in (0, 1) else None
    policy = item.get(POLICY)
    if policy is not None and not isinstance(policy, str):
        problems.append(f"policy: entry {index} tdm-policy is not a string ({_json_type(policy)})")
        policy = None
    return TdmrepEntry(index, location, reservation, _dump(value), policy)


def _unanswered(status: int | None) -> bool:
    """No usable answer: no status, 1xx, an unfollowed 3xx, 429 or 5xx (all transient)."""
    if status is None or status == HTTPStatus.TOO_MANY_REQUESTS:
        return True
    return (
        status < HTTPStatus.OK
        or HTTPStatus.MULTIPLE_CHOICES <= status < HTTPStatus.BAD_REQUEST
        or status >= HTTPStatus.INTERNAL_SERVER_ERROR
    )


class _InvalidFileError(ValueError):
    """A 2xx body that is not a usable tdmrep.json; the message is the ``reason``."""


def _fetch_problem(status: int | None, error: str | None) -> str | None:
    """Return the ``reason`` of a fetch outcome that has no body to parse, else None."""
    if error == "too_large":
        return f"too_large: body exceeds {MAX_TDMREP_BYTES} bytes"
    if error in ("robots_disallowed", "robots_unreachable"):
        return error
    if error is not None:
        return f"fetch_error: {error}"
    if status is None or _unanswered(status):
        return f"unreachable: HTTP {status}"
    if status >= HTTPStatus.BAD_REQUEST:
        return f"{_UNAVAILABLE}: HTTP {status}"
    return None


def _load(raw: bytes) -> list[object]:
    """Decode a body into its top-level JSON array; :class:`_InvalidFileError` otherwise."""
    if len(raw) > MAX_TDMREP_BYTES:
        raise _InvalidFileError(f"too_large: {len(raw)} bytes > {MAX_TDMREP_BYTES}")
    try:
        text = raw.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _InvalidFileError(f"not_utf8: invalid byte at offset {exc.start}") from exc
    if _too_deep(text):
        raise _InvalidFileError(f"too_deep: JSON nests deeper than {MAX_TDMREP_DEPTH}")
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, integers too long to convert
        raise _InvalidFileError(f"invalid_json: {exc}") from exc
    if not isinstance(document, list):
        kind = _json_type(document)
        raise _InvalidFileError(f"not_an_array: the top-level value is not an array ({kind})")
    return document


def parse_tdmrep_file(status: int | None, body: bytes | None, error: str | None) -> TdmrepFile:
    """Parse the outcome of fetching ``/.well-known/tdmrep.json``; never raises.

    Only a 2xx body is parsed. ``reason`` codes: ``unavailable`` (4xx except 429),
    ``robots_disallowed``/``robots_unreachable`` (the auditor's own robots group refused the
    fetch), ``fetch_error`` (network error), ``unreachable`` (no status, 3xx, 429, 5xx),
    ``too_large``, ``not_utf8``, ``too_deep``, ``invalid_json``, ``not_an_array``.
    """
    problem = _fetch_problem(status, error)
    if problem is not None:
        return _not_implemented(problem)
    try:
        document = _load(body or b"")
    except _InvalidFileError as exc:
        return _not_implemented(str(exc))
    problems: list[str] = []
    entries = [
        entry
        for index, item in enumerate(document[:MAX_TDMREP_ENTRIES])
        if (entry := _entry(index, item, problems)) is not None
    ]
    if len(document) > MAX_TDMREP_ENTRIES:
        problems.append(f"{_CAPPED}: {len(document) - MAX_TDMREP_ENTRIES} items not examined")
    return TdmrepFile(tuple(entries), tuple(problems), implemented=True, reason=None)
