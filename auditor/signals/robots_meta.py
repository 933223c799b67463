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

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from auditor.model import Evaluation, Purpose, Scope, SignalRecord, Verdict, frozen_map
from auditor.signals.evidence import ImageEvidence, PageEvidence

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
#: Directives written ``name: value``; their name is never read as a bot name (2.2 step 4).
VALUE_DIRECTIVES = frozenset(
    {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}
)
#: Every directive this module recognises (Google, Bing, the AI conventions of 2.4).
KNOWN_DIRECTIVES = VALUE_DIRECTIVES | {
    "all",
    "index",
    "follow",
    "noindex",
    "nofollow",
    "none",
    "noarchive",
    "nocache",
    "nosnippet",
    "notranslate",
    "noimageindex",
    "indexifembedded",
    "noodp",
    "noydir",
    "nositelinkssearchbox",
    "noai",
    "noimageai",
    "noml",
    "disallowaitraining",
}
#: Response header names read, lower-cased: the historical name and the repext one.
HEADER_NAMES = ("x-robots-tag", "robots-tag")

_AI_TRAIN = frozenset({"noai", "noimageai", "noml", "disallowaitraining"})
_SEARCH = frozenset({"noindex", "noimageindex", "none"})
_BING_AI = frozenset({"nocache", "noarchive"})  # Bing (Sept 2023): AI meaning for its models
_GENERIC = "*"
_BOT_NAME = re.compile(r"[A-Za-z0-9_.\-]*[A-Za-z][A-Za-z0-9_.\-]*")
_DIGIT = re.compile(r"[0-9]")
_MAX_DATE_FRAGMENTS = 2  # "Friday, 25-Jun-10 …" has one comma; never absorb a whole line
_X_ROBOTS = "x_robots_tag"
_META_ROBOTS = "meta_robots"


@dataclass(frozen=True)
class RobotsDirectives:
    """Directives parsed from header lines or meta tags, before choosing what applies to us.

    ``values`` maps a value-carrying directive to its value as written; a value scoped to a bot
    is keyed ``"<bot>:<directive>"`` so nothing is lost. The first value written wins.
    """

    generic: frozenset[str] = frozenset()
    scoped: Mapping[str, frozenset[str]] = field(default_factory=frozen_map)
    values: Mapping[str, str] = field(default_factory=frozen_map)
    unknown: tuple[str, ...] = ()


# --- parsing ------------------------------------------------------------------------------------


@dataclass
class _Rule:
    scope: str  # "*" or a lower-cased bot name
    name: str  # lower-cased directive
    value: str | None


@dataclass
class _Parse:
    """The result of reading one header line or one meta tag."""

    rules: list[_Rule] = field(default_factory=list)
    named: dict[str, None] = field(default_factory=dict)  # bot names, lower-cased, in order
    unknown: list[str] = field(default_factory=list)
    repext: bool = False

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.named)

    def name_scope(self, scope: str) -> None:
        if scope != _GENERIC:
            self.named[scope] = None


def _bot_scope(name: str) -> str | None:
    """Return the scope ``name`` switches to, or None when it cannot be a bot name."""
    key = name.strip()
    if key == _GENERIC:
        return _GENERIC
    lowered = key.lower()
    if _BOT_NAME.fullmatch(key) and lowered not in KNOWN_DIRECTIVES:
        return lowered
    return None


def _is_directive_or_scope(item: str) -> bool:
    name, sep, _ = item.partition(":")
    key = name.strip().lower()
    if key in KNOWN_DIRECTIVES:
        return True
    return bool(sep) and _bot_scope(name) is not None


def _read_items(text: str, scope: str, out: _Parse) -> None:
    """Run the comma-list algorithm of 2.2 on one line (or repext segment), from ``scope``.

    Positions are scanned with ``str.find`` so a hostile value (``a:a:a:…``) stays linear.
    """
    pending_date: _Rule | None = None  # an unavailable_after whose date may continue
    joined = 0
    for piece in text.split(","):
        item = piece.strip()
        if not item:
            continue
        if (
            pending_date is not None
            and joined < _MAX_DATE_FRAGMENTS
            and not _is_directive_or_scope(item)
        ):
            pending_date.value = f"{pending_date.value},{piece.rstrip()}"
            joined += 1
            if _DIGIT.search(piece):
                pending_date = None
            continue
        pending_date = None
        pos = 0
        while pos < len(item):
            colon = item.find(":", pos)
            if colon < 0:
                word = item[pos:].strip()
                if word.lower() in KNOWN_DIRECTIVES:
                    out.rules.append(_Rule(scope, word.lower(), None))
                elif word:
                    out.unknown.append(word)
                break
            name = item[pos:colon]
            key = name.strip().lower()
            if key in VALUE_DIRECTIVES:
                value = item[colon + 1 :].strip()
                rule = _Rule(scope, key, value)
                out.rules.append(rule)
                if key == "unavailable_after" and not _DIGIT.search(value):
                    pending_date, joined = rule, 0
                break
            switched = _bot_scope(name)
            if switched is None:
                out.unknown.append(item[pos:].strip())
                break
            scope = switched
            out.name_scope(scope)
            pos = colon + 1


def _read_repext(text: str, out: _Parse) -> None:
    """Read the repext-00 grammar: ``;``-separated ``token=rules`` (or generic) segments."""
    out.repext = True
    for segment in text.split(";"):
        if not segment.strip():
            continue
        token, sep, rules = segment.partition("=")
        if sep:
            scope = _GENERIC if not token.strip() else _bot_scope(token)
            if scope is not None:
                out.name_scope(scope)
                _read_items(rules, scope, out)
                continue
        _read_items(segment, _GENERIC, out)


def _parse_line(value: str) -> _Parse:
    out = _Parse()
    if ";" in value or "=" in value:
        _read_repext(value, out)
    else:
        _read_items(value, _GENERIC, out)
    return out


def _meta_scope(name: str, tokens: Sequence[str]) -> str | None:
    """Return the scope a meta name gives (``*`` for robots), or None when not for us."""
    key = name.strip().lower()
    if key == "robots":
        return _GENERIC
    if key in _lowered(tokens):
        return key
    return None


def _parse_meta(name: str, content: str) -> _Parse:
    out = _Parse()
    key = name.strip().lower()
    scope = _GENERIC if key == "robots" else key
    out.name_scope(scope)
    _read_items(content, scope, out)
    return out


def _as_tokens(tokens: Sequence[str]) -> tuple[str, ...]:
    """Tokens as a tuple; a lone string is one token, never a sequence of characters."""
    return (tokens,) if isinstance(tokens, str) else tuple(tokens)


def _lowered(tokens: Sequence[str]) -> frozenset[str]:
    return frozenset(token.strip().lower() for token in _as_tokens(tokens) if token.strip())


def _combine(parses: Iterable[_Parse]) -> RobotsDirectives:
    generic: set[str] = set()
    scoped: dict[str, set[str]] = {}
    values: dict[str, str] = {}
    unknown: list[str] = []
    for parse in parses:
        for scope in parse.scopes:
            scoped.setdefault(scope, set())
        for rule in parse.rules:
            if rule.scope == _GENERIC:
                generic.add(rule.name)
                key = rule.name
            else:
                scoped.setdefault(rule.scope, set()).add(rule.name)
                key = f"{rule.scope}:{rule.name}"
            if rule.value is not None:
                values.setdefault(key, rule.value)
        unknown.extend(parse.unknown)
    return RobotsDirectives(
        generic=frozenset(generic),
        scoped=frozen_map({scope: frozenset(names) for scope, names in scoped.items()}),
        values=frozen_map(values),
        unknown=tuple(unknown),
    )


def parse_robots_header(values: Sequence[str]) -> RobotsDirectives:
    """Parse ``X-Robots-Tag`` (or ``Robots-Tag``) header values, each line on its own (2.2)."""
    if isinstance(values, str):
        values = (values,)
    return _combine(_parse_line(value) for value in values)


def parse_meta_robots(metas: Sequence[tuple[str, str]], tokens: Sequence[str]) -> RobotsDirectives:
    """Parse ``(meta name, content)`` pairs: ``robots`` is generic, a declared token scoped.

    Meta tags naming any other bot are ignored here (their records say so, with no effect).
    """
    return _combine(
        _parse_meta(name, content)
        for name, content in metas
        if _meta_scope(name, tokens) is not None
    )


def effective(directives: RobotsDirectives, tokens: Sequence[str]) -> frozenset[str]:
    """Return the generic directives plus those scoped to one of ``tokens``.

    Tokens match bot names by exact, case-insensitive equality; with no tokens only the
    generic directives apply.
    """
    result = set(directives.generic)
    for token in _lowered(tokens):
        result |= directives.scoped.get(token, frozenset())
    return frozenset(result)


def purposes_for(directives: Iterable[str]) -> dict[str, Verdict]:
    """Return the per-purpose contribution of directives (2.4, 9.2); unnamed = unknown."""
    names = {directive.strip().lower() for directive in directives}
    purposes: dict[str, Verdict] = {}
    if names & _AI_TRAIN:
        purposes[Purpose.AI_TRAIN.value] = Verdict.DISALLOWED
    if names & _SEARCH:
        purposes[Purpose.SEARCH.value] = Verdict.DISALLOWED
    return purposes


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


def _render(rule: _Rule, fetched_at: str | None, notes: list[str]) -> str:
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


def _token(parse: _Parse, tokens: tuple[str, ...]) -> str | None:
    """Return the scope that applied: a declared token, ``*``, or None (only other bots)."""
    for token in tokens:
        if token.strip().lower() in parse.named:
            return token
    generic_named = any(rule.scope == _GENERIC for rule in parse.rules)
    if generic_named or parse.unknown or not parse.named:
        return _GENERIC
    return None


def _read(parse: _Parse, tokens: Sequence[str], fetched_at: str | None) -> _Reading:
    tokens = _as_tokens(tokens)
    ours = _lowered(tokens)
    names: dict[str, None] = {}
    text: dict[str, None] = {}
    notes: list[str] = []
    for rule in parse.rules:
        if rule.scope == _GENERIC or rule.scope in ours:
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
    source: _Source, raw: str, parse: _Parse, tokens: Sequence[str], *, page: bool
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
    source: _Source, raw: str, parse: _Parse, tokens: Sequence[str]
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


def _meta_parses(page: PageEvidence, tokens: Sequence[str]) -> list[tuple[str, _Parse, bool]]:
    """(content, parse, applies to us) for each meta tag worth recording, in order."""
    found = []
    for name, content in page.meta_robots:
        parse = _parse_meta(name, content)
        if _meta_scope(name, tokens) is not None:
            found.append((content, parse, True))
        elif _bot_scope(name) not in (None, _GENERIC) and parse.rules:
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
            record = _resource_record(response, value, _parse_line(value), tokens, page=False)
            if name == "robots-tag":
                record = _with_note(record, "robots_tag_header")
            records.append(record)
    for page in _unique_pages(evidence.pages):
        source = _page_source(_X_ROBOTS, page, evidence.url)
        for _, value in _headers(page.headers):
            propagated = _propagated_record(source, value, _parse_line(value), tokens)
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
        record = _resource_record(source, value, _parse_line(value), tokens, page=True)
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
