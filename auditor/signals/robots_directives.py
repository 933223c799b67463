"""Parsing of ``X-Robots-Tag`` header lines and robots meta tags into directives.

Split out of :mod:`auditor.signals.robots_meta` so each module can be read in one sitting: this
module turns header lines and meta tags into :class:`RobotsDirectives` (the comma-list algorithm
of optout-signals.md 2.2, the repext ``token=rules`` grammar, bot scopes and value-carrying
directives), and :mod:`auditor.signals.robots_meta` turns them into evidence records. The
semantics and the decisions beyond the reference are described in the docstring of
:mod:`auditor.signals.robots_meta`, which re-exports every public name of the original module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from auditor.model import Purpose, Verdict, frozen_map

__all__ = [
    "GENERIC",
    "KNOWN_DIRECTIVES",
    "VALUE_DIRECTIVES",
    "Parse",
    "RobotsDirectives",
    "Rule",
    "as_tokens",
    "bot_scope",
    "effective",
    "lowered",
    "meta_scope",
    "parse_line",
    "parse_meta",
    "parse_meta_robots",
    "parse_robots_header",
    "purposes_for",
]

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

_AI_TRAIN = frozenset({"noai", "noimageai", "noml", "disallowaitraining"})
_SEARCH = frozenset({"noindex", "noimageindex", "none"})
#: The generic scope: rules for every bot.
GENERIC = "*"
_BOT_NAME = re.compile(r"[A-Za-z0-9_.\-]*[A-Za-z][A-Za-z0-9_.\-]*")
_DIGIT = re.compile(r"[0-9]")
_MAX_DATE_FRAGMENTS = 2  # "Friday, 25-Jun-10 …" has one comma; never absorb a whole line


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
class Rule:
    scope: str  # "*" or a lower-cased bot name
    name: str  # lower-cased directive
    value: str | None


@dataclass
class Parse:
    """The result of reading one header line or one meta tag."""

    rules: list[Rule] = field(default_factory=list)
    named: dict[str, None] = field(default_factory=dict)  # bot names, lower-cased, in order
    unknown: list[str] = field(default_factory=list)
    repext: bool = False

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.named)

    def name_scope(self, scope: str) -> None:
        if scope != GENERIC:
            self.named[scope] = None


def bot_scope(name: str) -> str | None:
    """Return the scope ``name`` switches to, or None when it cannot be a bot name."""
    key = name.strip()
    if key == GENERIC:
        return GENERIC
    lowered = key.lower()
    if _BOT_NAME.fullmatch(key) and lowered not in KNOWN_DIRECTIVES:
        return lowered
    return None


def _is_directive_or_scope(item: str) -> bool:
    name, sep, _ = item.partition(":")
    key = name.strip().lower()
    if key in KNOWN_DIRECTIVES:
        return True
    return bool(sep) and bot_scope(name) is not None


def _read_items(text: str, scope: str, out: Parse) -> None:
    """Run the comma-list algorithm of 2.2 on one line (or repext segment), from ``scope``.

    Positions are scanned with ``str.find`` so a hostile value (``a:a:a:…``) stays linear.
    """
    pending_date: Rule | None = None  # an unavailable_after whose date may continue
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
                    out.rules.append(Rule(scope, word.lower(), None))
                elif word:
                    out.unknown.append(word)
                break
            name = item[pos:colon]
            key = name.strip().lower()
            if key in VALUE_DIRECTIVES:
                value = item[colon + 1 :].strip()
                rule = Rule(scope, key, value)
                out.rules.append(rule)
                if key == "unavailable_after" and not _DIGIT.search(value):
                    pending_date, joined = rule, 0
                break
            switched = bot_scope(name)
            if switched is None:
                out.unknown.append(item[pos:].strip())
                break
            scope = switched
            out.name_scope(scope)
            pos = colon + 1


def _read_repext(text: str, out: Parse) -> None:
    """Read the repext-00 grammar: ``;``-separated ``token=rules`` (or generic) segments."""
    out.repext = True
    for segment in text.split(";"):
        if not segment.strip():
            continue
        token, sep, rules = segment.partition("=")
        if sep:
            scope = GENERIC if not token.strip() else bot_scope(token)
            if scope is not None:
                out.name_scope(scope)
                _read_items(rules, scope, out)
                continue
        _read_items(segment, GENERIC, out)


def parse_line(value: str) -> Parse:
    out = Parse()
    if ";" in value or "=" in value:
        _read_repext(value, out)
    else:
        _read_items(value, GENERIC, out)
    return out


def meta_scope(name: str, tokens: Sequence[str]) -> str | None:
    """Return the scope a meta name gives (``*`` for robots), or None when not for us."""
    key = name.strip().lower()
    if key == "robots":
        return GENERIC
    if key in lowered(tokens):
        return key
    return None


def parse_meta(name: str, content: str) -> Parse:
    out = Parse()
    key = name.strip().lower()
    scope = GENERIC if key == "robots" else key
    out.name_scope(scope)
    _read_items(content, scope, out)
    return out


def as_tokens(tokens: Sequence[str]) -> tuple[str, ...]:
    """Tokens as a tuple; a lone string is one token, never a sequence of characters."""
    return (tokens,) if isinstance(tokens, str) else tuple(tokens)


def lowered(tokens: Sequence[str]) -> frozenset[str]:
    return frozenset(token.strip().lower() for token in as_tokens(tokens) if token.strip())


def _combine(parses: Iterable[Parse]) -> RobotsDirectives:
    generic: set[str] = set()
    scoped: dict[str, set[str]] = {}
    values: dict[str, str] = {}
    unknown: list[str] = []
    for parse in parses:
        for scope in parse.scopes:
            scoped.setdefault(scope, set())
        for rule in parse.rules:
            if rule.scope == GENERIC:
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
    return _combine(parse_line(value) for value in values)


def parse_meta_robots(metas: Sequence[tuple[str, str]], tokens: Sequence[str]) -> RobotsDirectives:
    """Parse ``(meta name, content)`` pairs: ``robots`` is generic, a declared token scoped.

    Meta tags naming any other bot are ignored here (their records say so, with no effect).
    """
    return _combine(
        parse_meta(name, content) for name, content in metas if meta_scope(name, tokens) is not None
    )


def effective(directives: RobotsDirectives, tokens: Sequence[str]) -> frozenset[str]:
    """Return the generic directives plus those scoped to one of ``tokens``.

    Tokens match bot names by exact, case-insensitive equality; with no tokens only the
    generic directives apply.
    """
    result = set(directives.generic)
    for token in lowered(tokens):
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
