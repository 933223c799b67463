"""W3C TDM Reservation Protocol (mechanisms ``tdmrep.file``, ``tdmrep.header``, ``tdmrep.html``).

Semantics are those of optout-signals.md section 3. The layers of a resource are evaluated in
order, each later layer overriding the earlier one only when it *states* a valid value (3.6):

1. ``/.well-known/tdmrep.json`` of the resource's own origin: a JSON array of
   ``{location, tdm-reservation, tdm-policy?}`` objects; the **first** entry in array order whose
   ``location`` (a robots.txt-style pattern, matched with :func:`auditor.crawl.robots
   .pattern_matches`) matches the path and query decides. This is not longest-match.
2. the resource's ``tdm-reservation`` / ``tdm-policy`` response headers;
3. for HTML pages only, ``<meta name="tdm-reservation">``; it never propagates to images.

``tdm-reservation`` must be exactly ``1`` (reserved: ``tdm`` disallowed) or ``0`` (not reserved:
``tdm`` allowed); anything else is a protocol error, which the agent must treat as unset, so it
never overrides an earlier layer. Several header lines (or comma-separated members, which HTTP
treats the same) count only when every member is the same valid value; otherwise the layer is a
protocol error (``conflicting_values`` when both ``1`` and ``0`` appear).

Only the effective layer carries a purpose; an overridden layer is still recorded, with no
purposes and the note ``superseded``. ``tdm-policy`` is recorded and never fetched; with ``0``
it is not processed at all (note ``policy_ignored``). Implications (tdm => ai-train) and
combination with other mechanisms happen in :mod:`auditor.signals.usage`, not here.

The file parser never raises: the body is capped (:data:`MAX_TDMREP_BYTES`), its nesting depth is
checked before ``json.loads`` (which recurses) and at most :data:`MAX_TDMREP_ENTRIES` array items
are examined.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import NoReturn

from auditor.crawl.robots import path_and_query, pattern_matches
from auditor.model import Evaluation, Scope, SignalRecord, Verdict, frozen_map
from auditor.signals.evidence import FetchMeta, ImageEvidence, OriginEvidence, PageEvidence

__all__ = [
    "MAX_TDMREP_BYTES",
    "MAX_TDMREP_DEPTH",
    "MAX_TDMREP_ENTRIES",
    "TdmrepEntry",
    "TdmrepFile",
    "page_tdmrep_signals",
    "parse_tdm_reservation",
    "parse_tdmrep_file",
    "tdmrep_signals",
]

MAX_TDMREP_BYTES = 256 * 1024
#: JSON nesting allowed in tdmrep.json; a valid file needs 2 (array, object).
MAX_TDMREP_DEPTH = 32
#: Array items examined; at least 35 bytes per valid entry means the byte cap already keeps valid
#: files far below this, so only files padded with junk items ever reach it.
MAX_TDMREP_ENTRIES = 10_000
_MAX_PARSED_PROBLEMS = 5  # problems spelt out in a record's ``parsed``; the rest are counted
_MAX_SHOWN = 80  # characters of a location quoted in a problem

_RESERVATION = "tdm-reservation"
_POLICY = "tdm-policy"
_LOCATION = "location"
_HTTP_WS = " \t"
_BOM = b"\xef\xbb\xbf"
_JSON_TOKENS = re.compile(r'[\[\]{}"\\]')

# Problem codes (the first word of TdmrepFile.problems entries).
_SKIPPED = "skipped_entry"
_CAPPED = "entries_capped"

# Reason codes of a file that could not be used (the first word of TdmrepFile.reason).
_UNAVAILABLE = "unavailable"  # 4xx except 429: the origin does not implement the protocol
_NOT_FETCHED = frozenset({"fetch_error", "robots_disallowed", "robots_unreachable", "unreachable"})
_INVALID = frozenset({"invalid_json", "not_an_array", "too_large", "too_deep", "not_utf8"})


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
            f'"{_RESERVATION}":{self.raw_reservation}',
        ]
        if self.policy is not None:
            parts.append(f'"{_POLICY}":{_dump(self.policy)}')
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
    missing = [name for name in (_LOCATION, _RESERVATION) if name not in item]
    if missing:
        problems.append(f"{_SKIPPED}: entry {index} lacks {' and '.join(missing)}")
        return None
    location = item[_LOCATION]
    if not isinstance(location, str):
        problems.append(
            f"{_SKIPPED}: entry {index} location is not a string ({_json_type(location)})"
        )
        return None
    if not location.strip(_HTTP_WS).startswith(("/", "*")):
        shown = _dump(location[:_MAX_SHOWN]) + ("..." if len(location) > _MAX_SHOWN else "")
        problems.append(f"location: entry {index} location {shown} matches no path")
    value = item[_RESERVATION]
    # Only the JSON integers 1 and 0: true, 1.0, "1" and 2 are protocol errors (unset).
    reservation = value if type(value) is int and value in (0, 1) else None
    policy = item.get(_POLICY)
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


def parse_tdm_reservation(value: str | None) -> int | None:
    """Return 1 or 0 for a valid ``tdm-reservation`` value once trimmed, else None (unset)."""
    if value is None:
        return None
    trimmed = value.strip(_HTTP_WS)
    return int(trimmed) if trimmed in ("0", "1") else None


# --- records -----------------------------------------------------------------------------------


def _tdm(value: int) -> dict[str, Verdict]:
    return {"tdm": Verdict.DISALLOWED if value == 1 else Verdict.ALLOWED}


def _meaning(value: int | None, policies: list[str]) -> tuple[str, list[str]]:
    """Return the ``parsed`` text and notes for a reservation value and its policy URLs."""
    if value == 1:
        return "; ".join(["reserved", *(f"policy {url}" for url in policies)]), []
    notes = ["policy_ignored"] if policies else []  # processed only with a reservation of 1
    if value == 0:
        return "not reserved", notes
    return "protocol error: tdm-reservation is not 1 or 0; unset", ["protocol_error", *notes]


@dataclass(frozen=True)
class _Layer:
    """One precedence layer's record (purposes still empty) and the value it states, if any."""

    record: SignalRecord
    value: int | None


def _resolve(layers: list[_Layer]) -> list[SignalRecord]:
    """Give the last layer that states a value its purpose; mark earlier stating layers."""
    stating = [position for position, layer in enumerate(layers) if layer.value is not None]
    effective = stating[-1] if stating else None
    records = []
    for position, layer in enumerate(layers):
        record = layer.record
        if position == effective and layer.value is not None:
            record = replace(record, purposes=frozen_map(_tdm(layer.value)))
        elif layer.value is not None:
            record = replace(record, notes=(*record.notes, "superseded"))
        records.append(record)
    return records


def _summary(problems: tuple[str, ...]) -> str:
    shown = list(problems[:_MAX_PARSED_PROBLEMS])
    if len(problems) > _MAX_PARSED_PROBLEMS:
        shown.append(f"and {len(problems) - _MAX_PARSED_PROBLEMS} more")
    return "; ".join(shown)


def _file_record(
    meta: FetchMeta,
    resource_url: str,
    evaluation: Evaluation,
    parsed: str,
    notes: list[str],
    *,
    raw: str | None = None,
) -> SignalRecord:
    if meta.final_url and meta.final_url != meta.source_url:
        notes = [*notes, "redirected"]
    return SignalRecord(
        mechanism="tdmrep.file",
        scope=Scope.ORIGIN,
        source_url=meta.source_url,
        applies_to=resource_url,
        raw_value=raw,
        purposes=frozen_map(),
        fetched_at=meta.fetched_at,
        http_status=meta.status,
        parsed=parsed,
        notes=tuple(dict.fromkeys(notes)),
        sha256=meta.sha256,
        evaluation=evaluation,
    )


def _unusable(meta: FetchMeta, file: TdmrepFile) -> tuple[Evaluation, str, list[str]] | None:
    """Return (evaluation, parsed, notes) for a file that was not fetched or is invalid.

    The fetch metadata wins over the parse: a fetch error is "not evaluated" whatever the
    parser was given. A 4xx (the origin does not implement TDMRep) returns None: nothing to say.
    """
    error, code = meta.error, file.reason_code
    if error is not None and error != "too_large":
        code = error if error.startswith("robots_") else "fetch_error"
        return (
            Evaluation.NOT_EVALUATED,
            f"tdmrep.json not fetched: {error}",
            ["not_evaluated", code],
        )
    if code in _NOT_FETCHED:
        parsed = f"tdmrep.json not fetched: {file.reason}"
        return Evaluation.NOT_EVALUATED, parsed, ["not_evaluated", code or "fetch_error"]
    if error == "too_large" or code in _INVALID:
        reason = file.reason if code in _INVALID else "too_large"
        note = code if code in _INVALID and code is not None else "too_large"
        return Evaluation.ERROR, f"invalid tdmrep.json: {reason}", [note]
    return None


def _file_layer(meta: FetchMeta, file: TdmrepFile, resource_url: str) -> _Layer | None:
    """Return the origin-file layer for one resource, or None when there is nothing to record."""
    unusable = _unusable(meta, file)
    if unusable is not None:
        return _Layer(_file_record(meta, resource_url, *unusable), None)
    if not file.implemented:  # unavailable (404 ...): the origin does not implement TDMRep
        return None
    entry = file.match(path_and_query(resource_url))
    if entry is None:
        if not file.problems:
            return None  # evaluated, no matching entry: unset
        notes = ["file_problems", *(["entries_capped"] if file.capped else [])]
        parsed = f"no valid entry matches; {_summary(file.problems)}"
        return _Layer(_file_record(meta, resource_url, Evaluation.ERROR, parsed, notes), None)
    meaning, notes = _meaning(entry.reservation, [entry.policy] if entry.policy else [])
    if file.problems:
        notes.append("file_problems")
    parsed = f"entry {entry.index}: {meaning}"
    record = _file_record(meta, resource_url, Evaluation.EVALUATED, parsed, notes, raw=entry.raw)
    return _Layer(record, entry.reservation)


def _declaration_layer(
    lines: list[tuple[str, str]],
    *,
    mechanism: str,
    scope: Scope,
    source_url: str,
    applies_to: str | None,
    fetched_at: str | None,
    http_status: int | None,
    split_members: bool,
) -> _Layer | None:
    """Return the header or meta layer of ``(name, value)`` lines; None when there are none."""
    reservations = [value for name, value in lines if name == _RESERVATION]
    policies = [v.strip(_HTTP_WS) for n, v in lines if n == _POLICY and v.strip(_HTTP_WS)]
    if not reservations and not policies:
        return None
    value: int | None = None
    if reservations:
        members = [
            member
            for raw in reservations
            for member in (raw.split(",") if split_members else [raw])
        ]
        values = {parse_tdm_reservation(member) for member in members}
        if len(values) == 1 and None not in values:
            value = values.pop()
        parsed, notes = _meaning(value, policies)
        if value is not None and len(members) > 1:
            notes.append("repeated")
        if values >= {0, 1}:
            notes.append("conflicting_values")
    else:
        parsed = "no tdm-reservation: unset; tdm-policy not processed"
        notes = ["policy_without_reservation", "policy_ignored"]
    record = SignalRecord(
        mechanism=mechanism,
        scope=scope,
        source_url=source_url,
        applies_to=applies_to,
        raw_value="\n".join(f"{name}: {raw}" for name, raw in lines),
        purposes=frozen_map(),
        fetched_at=fetched_at,
        http_status=http_status,
        parsed=parsed,
        notes=tuple(dict.fromkeys(notes)),
    )
    return _Layer(record, value)


def _tdm_lines(pairs: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in pairs if name in (_RESERVATION, _POLICY)]


def tdmrep_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """TDMRep records for an image: origin file, overridden by the image's response headers."""
    origin = evidence.origin
    layers: list[_Layer] = []
    file_layer = _file_layer(origin.tdmrep_meta, origin.tdmrep, evidence.url)
    if file_layer is not None:
        layers.append(file_layer)
    if evidence.response_headers is None:
        not_evaluated = SignalRecord(
            mechanism="tdmrep.header",
            scope=Scope.RESPONSE,
            source_url=evidence.url,
            raw_value=None,
            purposes=frozen_map(),
            fetched_at=evidence.fetched_at,
            http_status=evidence.status,
            parsed="no image response: headers not seen",
            notes=("not_evaluated",),
            evaluation=Evaluation.NOT_EVALUATED,
        )
        layers.append(_Layer(not_evaluated, None))
    else:
        header_layer = _declaration_layer(
            _tdm_lines(evidence.response_headers),
            mechanism="tdmrep.header",
            scope=Scope.RESPONSE,
            source_url=evidence.url,
            applies_to=None,
            fetched_at=evidence.fetched_at,
            http_status=evidence.status,
            split_members=True,
        )
        if header_layer is not None:
            layers.append(header_layer)
    return _resolve(layers)


def page_tdmrep_signals(page: PageEvidence, origin: OriginEvidence) -> list[SignalRecord]:
    """TDMRep records for a page itself: origin file, then its response headers, then meta.

    The page's headers and meta tags are recorded with scope ``page`` (optout-signals.md
    section 0). They govern the page only: :func:`tdmrep_signals` never reads them.
    """
    layers: list[_Layer] = []
    candidates = [
        _file_layer(origin.tdmrep_meta, origin.tdmrep, page.url),
        _declaration_layer(
            _tdm_lines(page.headers),
            mechanism="tdmrep.header",
            scope=Scope.PAGE,
            source_url=page.url,
            applies_to=None,
            fetched_at=page.fetched_at,
            http_status=page.status,
            split_members=True,
        ),
        _declaration_layer(
            _tdm_lines(page.tdm_meta),
            mechanism="tdmrep.html",
            scope=Scope.PAGE,
            source_url=page.url,
            applies_to=None,
            fetched_at=page.fetched_at,
            http_status=page.status,
            split_members=False,
        ),
    ]
    layers.extend(layer for layer in candidates if layer is not None)
    return _resolve(layers)
