"""``X-Robots-Tag`` headers and robots meta tags (mechanisms ``x_robots_tag`` and ``meta_robots``).

Semantics are those of optout-signals.md section 2 and the mapping rows of 9.2:

- Every header line is parsed on its own and starts in the generic scope; an item
  ``<name>: <rest>`` whose ``<name>`` is not a value-carrying directive switches the rest of that
  line to bot ``<name>`` (2.2). A line that contains ``;`` or ``=`` is read by the repext grammar
  (``Robots-Tag: *=noindex, nosnippet; ExampleBot=``): ``;``-separated ``token=rules`` segments,
  a segment without a token being generic. Header names, bot names and directives are compared
  case-insensitively.
- The effective set for the audited crawler is the union of the generic rules and the rules
  scoped to one of its declared tokens (exact, case-insensitive equality), over every line and
  every applicable meta tag. Rules for other bots are recorded and have no effect.
- ``noai``, ``noimageai``, ``noml`` and ``disallowaitraining`` disallow ai-train; ``noindex``,
  ``noimageindex`` and ``none`` disallow search; every other value is recorded only. A record
  names only the purposes its value states; the implications of 9.4 and the combination of 9.5
  are applied by :mod:`auditor.signals.usage`, never here.
- Page values reach embedded images only for ``noai``, ``noimageai`` and ``noimageindex``
  (2.3): those become ``propagated`` records with scope ``page`` that apply to the image. On the
  page resource itself the image-only values ``noimageai`` and ``noimageindex`` are recorded but
  give the page no verdict (note ``image_only_directive``): they speak about the page's images.

Decisions beyond the reference, so reviewers know where to look:

- A bot name must look like a product token (letters, digits, ``_``, ``-``, ``.``, at least one
  letter) and must not be a known directive name; ``*`` names the generic scope. Any other
  ``<name>: <rest>`` item (a split date, ``Some Bot: noindex``, ``noindex: yes``) is an unknown
  item and leaves the scope unchanged.
- ``unavailable_after`` dates may contain commas (``Friday, 25-Jun-10 15:00:00 PST``): while the
  date read so far holds no digit, following fragments that are neither directives nor bot
  scopes are joined back into it. The date is parsed best-effort (RFC 822/850, ISO 8601) only to
  annotate the record; it never gives a verdict and a bad date never raises.
- Every header line is recorded, even one that names nothing known (notes ``unknown_items`` or
  ``empty``): 9.7 keeps invalid signals as evidence. Meta tags are recorded when their name is
  ``robots`` or a declared token, and, with no effect, when another bot's name carries a known
  directive (E25).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from auditor.model import Evaluation, Scope, SignalRecord, frozen_map
from auditor.signals.evidence import ImageEvidence, PageEvidence

# Parsing lives in robots_directives; its public names are re-exported here.
from auditor.signals.robots_directives import (
    GENERIC,
    KNOWN_DIRECTIVES,
    VALUE_DIRECTIVES,
    Parse,
    RobotsDirectives,
    Rule,
    as_tokens,
    bot_scope,
    effective,
    lowered,
    meta_scope,
    parse_line,
    parse_meta,
    parse_meta_robots,
    parse_robots_header,
    purposes_for,
)

__all__ = [
    "HEADER_NAMES",
    "IMAGE_ONLY",
    "KNOWN_DIRECTIVES",
    "PROPAGATING",
    "VALUE_DIRECTIVES",
    "RobotsDirectives",
    "effective",
    "meta_robots_signals",
    "page_meta_robots_signals",
    "page_x_robots_tag_signals",
    "parse_meta_robots",
    "parse_robots_header",
    "purposes_for",
    "x_robots_tag_signals",
]

#: Page-level values that apply to every image embedded in the page (optout-signals.md 2.3).
PROPAGATING = frozenset({"noai", "noimageai", "noimageindex"})
#: Values about the images of a page: they give the page resource itself no verdict.
IMAGE_ONLY = frozenset({"noimageai", "noimageindex"})
#: Response header names read, lower-cased: the historical name and the repext one.
HEADER_NAMES = ("x-robots-tag", "robots-tag")

_BING_AI = frozenset({"nocache", "noarchive"})  # Bing (Sept 2023): AI meaning for its models
_X_ROBOTS = "x_robots_tag"
_META_ROBOTS = "meta_robots"

# --- records ------------------------------------------------------------------------------------


def _parse_date(value: str) -> datetime | None:
    """Best-effort reading of an ``unavailable_after`` date; None when it cannot be read."""
    text = value.strip()
    try:
        return parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for form in ("%d %b %Y", "%d %B %Y"):
        try:
            return datetime.strptime(text, form)  # naive: taken as UTC by _utc
        except ValueError:
            continue
    return None


def _utc(moment: datetime) -> datetime | None:
    try:
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _date_notes(value: str, fetched_at: str | None) -> tuple[str | None, list[str]]:
    """(normalised UTC date or None, notes) for an ``unavailable_after`` value."""
    parsed = _parse_date(value)
    moment = _utc(parsed) if parsed is not None else None
    if moment is None:
        return None, ["unavailable_after_unparsed"]
    notes: list[str] = []
    if fetched_at:
        try:
            fetched = _utc(datetime.fromisoformat(fetched_at))
        except ValueError:
            fetched = None
        if fetched is not None and moment <= fetched:
            notes.append("unavailable_after_passed")
    return moment.isoformat(), notes


@dataclass(frozen=True)
class _Reading:
    """What one header line or meta tag means for the declared tokens."""

    names: tuple[str, ...]  # effective directives, in order, without repeats
    text: tuple[str, ...]  # the same, rendered with their values
    token: str | None
    others: tuple[str, ...]  # bot scopes named that are not ours
    notes: tuple[str, ...]


def _render(rule: Rule, fetched_at: str | None, notes: list[str]) -> str:
    """Render one effective rule for ``parsed``, annotating ``unavailable_after`` dates."""
    if rule.value is None:
        return rule.name
    rendered = f"{rule.name}: {rule.value}"
    if rule.name == "unavailable_after":
        notes.append("unavailable_after")
        normalised, date_notes = _date_notes(rule.value, fetched_at)
        notes.extend(date_notes)
        if normalised is not None:
            rendered = f"{rendered} ({normalised})"
    return rendered


def _token(parse: Parse, tokens: tuple[str, ...]) -> str | None:
    """Return the scope that applied: a declared token, ``*``, or None (only other bots)."""
    for token in tokens:
        if token.strip().lower() in parse.named:
            return token
    generic_named = any(rule.scope == GENERIC for rule in parse.rules)
    if generic_named or parse.unknown or not parse.named:
        return GENERIC
    return None


def _read(parse: Parse, tokens: Sequence[str], fetched_at: str | None) -> _Reading:
    tokens = as_tokens(tokens)
    ours = lowered(tokens)
    names: dict[str, None] = {}
    text: dict[str, None] = {}
    notes: list[str] = []
    for rule in parse.rules:
        if rule.scope == GENERIC or rule.scope in ours:
            names[rule.name] = None
            text[_render(rule, fetched_at, notes)] = None
    others = tuple(scope for scope in parse.scopes if scope not in ours)
    flags = {
        "scoped_to_other_bot": bool(others),
        "unknown_items": bool(parse.unknown),
        "repext_grammar": parse.repext,
        "bing_ai_training_hint": bool(set(names) & _BING_AI),
        "no_declared_token": not tokens,
    }
    notes.extend(note for note, present in flags.items() if present)
    return _Reading(tuple(names), tuple(text), _token(parse, tokens), others, tuple(notes))


def _describe(reading: _Reading, raw: str) -> str:
    if reading.text:
        return ", ".join(reading.text)
    if reading.others:
        return f"scoped to {', '.join(reading.others)}: no effect"
    if not raw.strip():
        return "empty"
    return "no known directive"


def _headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(lower-cased name, value) of every X-Robots-Tag / Robots-Tag line, in order."""
    found = []
    for name, value in headers:
        key = name.strip().lower()
        if key in HEADER_NAMES:
            found.append((key, value))
    return found


def _unique_pages(pages: Iterable[PageEvidence]) -> list[PageEvidence]:
    seen: dict[str, PageEvidence] = {}
    for page in pages:
        seen.setdefault(page.url, page)
    return list(seen.values())


@dataclass(frozen=True)
class _Source:
    """Where records come from and what they apply to."""

    mechanism: str
    scope: Scope
    source_url: str
    applies_to: str
    status: int | None
    fetched_at: str | None


def _record(
    source: _Source,
    raw: str,
    reading: _Reading,
    *,
    names: Iterable[str],
    parsed: str,
    extra_notes: Sequence[str] = (),
) -> SignalRecord:
    return SignalRecord(
        mechanism=source.mechanism,
        scope=source.scope,
        source_url=source.source_url,
        applies_to=source.applies_to,
        raw_value=raw,
        purposes=frozen_map(purposes_for(names)),
        fetched_at=source.fetched_at,
        http_status=source.status,
        parsed=parsed,
        notes=tuple(dict.fromkeys((*reading.notes, *extra_notes))),
        token=reading.token,
    )


def _resource_record(
    source: _Source, raw: str, parse: Parse, tokens: Sequence[str], *, page: bool
) -> SignalRecord:
    """Build the record for the resource carrying the value (image response or page)."""
    reading = _read(parse, tokens, source.fetched_at)
    names: Iterable[str] = reading.names
    extra: list[str] = []
    if page and set(reading.names) & IMAGE_ONLY:
        names = [name for name in reading.names if name not in IMAGE_ONLY]
        extra.append("image_only_directive")
    if not raw.strip():
        extra.append("empty")
    return _record(
        source, raw, reading, names=names, parsed=_describe(reading, raw), extra_notes=extra
    )


def _propagated_record(
    source: _Source, raw: str, parse: Parse, tokens: Sequence[str]
) -> SignalRecord | None:
    """Build the record of a page value flowing to an image; None when nothing propagates."""
    reading = _read(parse, tokens, source.fetched_at)
    flowing = [name for name in reading.names if name in PROPAGATING]
    if not flowing:
        return None
    return _record(
        source,
        raw,
        reading,
        names=flowing,
        parsed=", ".join(flowing),
        extra_notes=("propagated",),
    )


def _page_source(mechanism: str, page: PageEvidence, applies_to: str) -> _Source:
    return _Source(mechanism, Scope.PAGE, page.url, applies_to, page.status, page.fetched_at)


def _meta_parses(page: PageEvidence, tokens: Sequence[str]) -> list[tuple[str, Parse, bool]]:
    """(content, parse, applies to us) for each meta tag worth recording, in order."""
    found = []
    for name, content in page.meta_robots:
        parse = parse_meta(name, content)
        if meta_scope(name, tokens) is not None:
            found.append((content, parse, True))
        elif bot_scope(name) not in (None, GENERIC) and parse.rules:
            found.append((content, parse, False))
    return found


def x_robots_tag_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """Record the image response's ``X-Robots-Tag`` lines and propagated page values.

    With no response there is one ``not_evaluated`` record (note ``no_response``); propagated
    page records need no image response and are returned either way.
    """
    tokens = evidence.tokens
    records: list[SignalRecord] = []
    response = _Source(
        _X_ROBOTS,
        Scope.RESPONSE,
        evidence.url,
        evidence.url,
        evidence.status,
        evidence.fetched_at,
    )
    if evidence.response_headers is None:
        records.append(
            SignalRecord(
                mechanism=_X_ROBOTS,
                scope=Scope.RESPONSE,
                source_url=evidence.url,
                applies_to=evidence.url,
                raw_value=None,
                purposes=frozen_map(),
                fetched_at=evidence.fetched_at,
                http_status=evidence.status,
                parsed="no response",
                notes=("no_response",),
                evaluation=Evaluation.NOT_EVALUATED,
            )
        )
    else:
        for name, value in _headers(evidence.response_headers):
            record = _resource_record(response, value, parse_line(value), tokens, page=False)
            if name == "robots-tag":
                record = _with_note(record, "robots_tag_header")
            records.append(record)
    for page in _unique_pages(evidence.pages):
        source = _page_source(_X_ROBOTS, page, evidence.url)
        for _, value in _headers(page.headers):
            propagated = _propagated_record(source, value, parse_line(value), tokens)
            if propagated is not None:
                records.append(propagated)
    return records


def meta_robots_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """Record the robots meta values of embedding pages that flow down to the image (2.3)."""
    records: list[SignalRecord] = []
    for page in _unique_pages(evidence.pages):
        source = _page_source(_META_ROBOTS, page, evidence.url)
        for content, parse, ours in _meta_parses(page, evidence.tokens):
            if not ours:
                continue
            propagated = _propagated_record(source, content, parse, evidence.tokens)
            if propagated is not None:
                records.append(propagated)
    return records


def page_x_robots_tag_signals(page: PageEvidence, tokens: Sequence[str]) -> list[SignalRecord]:
    """Record the page response's own ``X-Robots-Tag`` lines, about the page resource."""
    source = _page_source(_X_ROBOTS, page, page.url)
    records = []
    for name, value in _headers(page.headers):
        record = _resource_record(source, value, parse_line(value), tokens, page=True)
        if name == "robots-tag":
            record = _with_note(record, "robots_tag_header")
        records.append(record)
    return records


def page_meta_robots_signals(page: PageEvidence, tokens: Sequence[str]) -> list[SignalRecord]:
    """Record the page's robots meta tags, about the page resource (2.3, E24-E26)."""
    source = _page_source(_META_ROBOTS, page, page.url)
    return [
        _resource_record(source, content, parse, tokens, page=True)
        for content, parse, _ours in _meta_parses(page, tokens)
    ]


def _with_note(record: SignalRecord, note: str) -> SignalRecord:
    return replace(record, notes=tuple(dict.fromkeys((*record.notes, note))))
