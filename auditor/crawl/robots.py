"""robots.txt (RFC 9309): parsing, group selection, decisions and the fetch-status table.

Pure functions and frozen values only; the fetcher does the I/O and feeds the outcome to
:func:`policy_from_fetch`. Semantics are those of ``reference/optout-signals.md`` section 1;
where RFC 9309 leaves a choice open this module follows Google's parser, and where Google's
parser departs from the RFC or the reference the RFC wins. Decisions worth knowing:

- Field names are compared exactly (case-insensitively), never by prefix. Google's prefix test
  reads ``DisallowAITraining: /`` as ``Disallow: /``; here it is an extension record.
- Extension records that their drafts define as group *rules* (``Content-Usage`` extends the
  RFC ``rule`` production in draft-ietf-aipref-attach; ``Content-Signal``,
  ``DisallowAITraining`` and ``AllowAITraining`` are written the same way) end the run of
  ``User-agent`` lines like Allow/Disallow do. ``Sitemap``, ``Crawl-delay``, ``Host`` and
  unknown records do not (RFC 9309 2.2.4: other records must not interfere with grouping).
- URL matching lives in :mod:`auditor.crawl.robots_paths` (re-exported here).
  Percent-encoding is normalised on both sides (RFC 9309 2.2.2, reference 1.4); in the URL a
  literal ``*`` or ``$`` is compared as ``%2A``/``%24``, so a pattern's ``%2A`` matches the
  literal character as RFC 9309 2.2.3 asks.
- Wildcard matching is greedy-leftmost search over the literal pieces between ``*``: linear,
  no regular expressions built from file content, so hostile patterns cannot blow up.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from http import HTTPStatus

from auditor.crawl.netsafety import PRIVATE_ADDRESS
from auditor.crawl.robots_paths import (
    CompiledPattern,
    compile_pattern,
    is_robots_txt,
    match_target,
    matches,
    normalise_path,
    path_and_query,
    pattern_matches,
)

__all__ = [
    "MAX_LINE_BYTES",
    "MAX_ROBOTS_BYTES",
    "REFUSED_NOTE",
    "ExtensionRecord",
    "RobotsAvailability",
    "RobotsDecision",
    "RobotsFile",
    "RobotsGroup",
    "RobotsPolicy",
    "RobotsRule",
    "normalise_path",
    "parse_robots",
    "path_and_query",
    "pattern_matches",
    "policy_from_fetch",
]

MAX_ROBOTS_BYTES = 512 * 1024  # parse at least 500 KiB (RFC 9309 2.5); the rest may be ignored
MAX_LINE_BYTES = 16 * 1024  # Google-style truncation of very long lines
_RFC_MIN_BYTES = 500 * 1024  # a line starting before this offset is never dropped

_BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(r"\r\n|\r|\n")
_WS = " \t\v\f"
_WS_RUN = re.compile(r"[ \t\v\f]+")

_USER_AGENT_KEYS = frozenset({"user-agent", "useragent", "user agent"})
_DISALLOW_TYPOS = frozenset({"dissallow", "dissalow", "disalow", "diasllow", "disallaw"})
_SITEMAP_KEYS = frozenset({"sitemap", "site-map"})
_RULE_LIKE_EXTENSIONS = frozenset(
    {"content-usage", "content-signal", "disallowaitraining", "allowaitraining"}
)


@dataclass(frozen=True)
class RobotsRule:
    """One Allow/Disallow line; ``normalised`` is what matching and precedence use."""

    allow: bool
    pattern: str
    normalised: str
    line: int


@dataclass(frozen=True)
class ExtensionRecord:
    """A non-core record inside a group (Content-Usage, Content-Signal, Crawl-delay, ...)."""

    field: str
    value: str
    line: int


@dataclass(frozen=True)
class RobotsGroup:
    """User-agent values as written (trimmed) and the records that follow them."""

    user_agents: tuple[str, ...]
    rules: tuple[RobotsRule, ...]
    extensions: tuple[ExtensionRecord, ...]


@dataclass(frozen=True)
class RobotsDecision:
    """The crawl verdict for one URL, with the deciding rule kept as evidence."""

    allowed: bool
    rule: RobotsRule | None
    group_tokens: tuple[str, ...]
    reason: str


_NO_GROUP = RobotsDecision(True, None, (), "no_group")  # frozen: one shared answer


def _agent_keys(value: str) -> set[str]:
    """Keys under which a User-agent value matches: whole value and value up to first space."""
    whole = value.strip(_WS).casefold()
    return {whole, _WS_RUN.split(whole, maxsplit=1)[0]} - {""}


_Plan = tuple[tuple[int, ...], dict[str, list[tuple[int, RobotsRule, CompiledPattern]]]]


@dataclass(frozen=True)
class RobotsFile:
    """A parsed robots.txt: groups in file order, global sitemaps and parse notes."""

    groups: tuple[RobotsGroup, ...]
    sitemaps: tuple[str, ...]
    notes: tuple[str, ...]

    @cached_property
    def _index(self) -> dict[str, tuple[int, ...]]:
        """Group positions by User-agent key; a cached property, so never part of the value."""
        index: dict[str, list[int]] = {}
        for position, group in enumerate(self.groups):
            for key in {key for agent in group.user_agents for key in _agent_keys(agent)}:
                index.setdefault(key, []).append(position)
        return {key: tuple(positions) for key, positions in index.items()}

    @cached_property
    def _plans(self) -> dict[tuple[int, ...], _Plan]:
        """Memo of :meth:`_plan`, filled on first use of each selection."""
        return {}

    def _selected(self, token: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """Return the applicable groups (indices) and the User-agent values that chose them."""
        key = token.strip(_WS).casefold()
        named = self._index.get(key, ()) if key else ()
        if named:
            agents = (a for i in named for a in self.groups[i].user_agents if key in _agent_keys(a))
            return named, tuple(dict.fromkeys(agents))
        fallback = self._index.get("*", ())
        return fallback, ("*",) if fallback else ()

    def _plan(self, selected: tuple[int, ...]) -> _Plan:
        """Rules of a selection ranked by precedence and bucketed by their literal prefix.

        Rank 0 is the most specific rule (longest pattern, Allow first on ties). Buckets keyed
        by the text before the first ``*`` let :meth:`decide` look only at rules whose prefix
        the URL starts with, so a 500 KiB file costs one lookup per distinct prefix length.
        """
        plan = self._plans.get(selected)
        if plan is None:
            rules = [rule for i in selected for rule in self.groups[i].rules if rule.normalised]
            rules.sort(key=lambda rule: (-len(rule.normalised), not rule.allow))
            buckets: dict[str, list[tuple[int, RobotsRule, CompiledPattern]]] = {}
            for rank, rule in enumerate(rules):
                compiled = compile_pattern(rule.normalised)
                buckets.setdefault(compiled[0][0], []).append((rank, rule, compiled))
            plan = (tuple(sorted({len(prefix) for prefix in buckets})), buckets)
            self._plans[selected] = plan
        return plan

    def select(self, token: str) -> tuple[RobotsGroup, ...]:
        """Return the groups for ``token``: every named group merged, else every ``*`` group.

        A group names the token when one of its User-agent values, compared case-insensitively,
        equals the token either as a whole (trimmed) or up to its first space. The first form
        matches published tokens that contain spaces (reference 1.5); the second is Google's
        leniency (``User-agent: Foo Bar`` applies to ``foo``). Nothing else matches: no prefix or
        substring matching. So ``User-agent: googlebot/2.1`` does not name ``googlebot``:
        RFC 9309 2.2.1 compares product tokens for equality and ``googlebot/2.1`` is another
        (invalid) token. Google's parser, which cuts the value at the first character outside
        ``[A-Za-z_-]``, would match; reference 1.3 forbids prefix matching, so we do not.
        """
        return tuple(self.groups[i] for i in self._selected(token)[0])

    def extensions_for(self, token: str) -> tuple[ExtensionRecord, ...]:
        """Extension records of the selected groups; ``*`` records are shadowed like its rules."""
        return tuple(ext for group in self.select(token) for ext in group.extensions)

    def decide(self, token: str, path_and_query: str) -> RobotsDecision:
        """Apply the longest matching pattern of the selected groups (ties go to Allow)."""
        selected, tokens = self._selected(token)
        return self._decide_among(selected, tokens, path_and_query)

    @cached_property
    def _whole_named(self) -> dict[str, tuple[int, ...]]:
        """Memo of :meth:`decide_whole_named`'s selections, by case-folded token."""
        return {}

    def decide_whole_named(self, token: str, path_and_query: str) -> RobotsDecision:
        """Like :meth:`decide`, over only the groups with a User-agent value equal to ``token``.

        Equal as a whole (trimmed, any case): groups :meth:`select` takes by a value's first word
        only, and the ``*`` fallback, are left out. Heuristic evidence about another crawler's
        token (:mod:`auditor.signals.robots_ai`) must come from groups written for that token.
        The selection is memoised per token, so asking for every image of a site is cheap.
        """
        key = token.strip(_WS).casefold()
        selected = self._whole_named.get(key)
        if selected is None:
            selected = tuple(
                position
                for position in self._index.get(key, ())
                if any(
                    agent.strip(_WS).casefold() == key
                    for agent in self.groups[position].user_agents
                )
            )
            self._whole_named[key] = selected
        if not selected:  # most tokens, for most files: no need to look at the path at all
            return _NO_GROUP
        return self._decide_among(selected, (token,), path_and_query)

    def _decide_among(
        self, selected: tuple[int, ...], tokens: tuple[str, ...], path_and_query: str
    ) -> RobotsDecision:
        target = match_target(path_and_query)
        if is_robots_txt(target):
            return RobotsDecision(True, None, tokens, "robots_txt_always_allowed")
        if not selected:
            return RobotsDecision(True, None, (), "no_group")
        lengths, buckets = self._plan(selected)
        best: tuple[int, RobotsRule] | None = None
        for length in lengths:
            if length > len(target):
                break
            for rank, rule, compiled in buckets.get(target[:length], ()):
                if best is not None and rank > best[0]:
                    break
                if matches(compiled, target):
                    best = (rank, rule)
                    break
        if best is not None:
            return RobotsDecision(best[1].allow, best[1], tokens, "matched")
        return RobotsDecision(True, None, tokens, "no_matching_rule")


def _prepare(body: bytes, notes: dict[str, None]) -> str:
    """Strip a (partial) BOM, apply the size limit at a line boundary, decode leniently."""
    for size in (3, 2, 1):
        if body.startswith(_BOM[:size]):
            body = body[size:]
            notes["bom_stripped"] = None
            break
    complete = True  # False: the body ends inside a line that the limit cut
    if len(body) >= MAX_ROBOTS_BYTES:  # a fetcher may already have cut it at exactly the limit
        cut = MAX_ROBOTS_BYTES
        if body[cut : cut + 1] not in (b"\r", b"\n"):
            line_start = max(body.rfind(b"\n", 0, cut), body.rfind(b"\r", 0, cut)) + 1
            if line_start >= _RFC_MIN_BYTES:
                cut = line_start  # drop the cut-off last line: it starts past the RFC minimum
            else:
                complete = False  # keep it, cut like an over-long line
        if cut < len(body) or not complete:
            notes["truncated"] = None
        body = body[:cut]
    # An incremental decoder with final=False holds back a character split by the cut.
    decoder = codecs.getincrementaldecoder("utf-8")
    try:
        return decoder("strict").decode(body, final=complete)
    except UnicodeDecodeError:
        notes["invalid_utf8"] = None
        return decoder("replace").decode(body, final=complete)


def _split_record(line: str) -> tuple[str, str, bool] | None:
    """``(lower-cased key, value, lenient)`` of one line, or None for blank/unparseable."""
    content = line.split("#", 1)[0].strip(_WS)
    if not content:
        return None
    key, colon, value = content.partition(":")
    if colon:
        key = key.strip(_WS).lower()
        return (key, value.strip(_WS), False) if key else None
    words = _WS_RUN.split(content)
    if len(words) == 2:  # noqa: PLR2004 -- Google: without a colon, exactly two words
        return words[0].lower(), words[1], True
    return None


def _truncate_line(line: str, notes: dict[str, None]) -> str:
    if len(line) * 4 <= MAX_LINE_BYTES:  # cheap check: UTF-8 needs at most 4 octets a char
        return line
    encoded = line.encode("utf-8", "surrogatepass")
    if len(encoded) <= MAX_LINE_BYTES:
        return line
    notes["line_truncated"] = None
    return encoded[:MAX_LINE_BYTES].decode("utf-8", errors="ignore")


_OpenGroup = tuple[list[str], list[RobotsRule], list[ExtensionRecord]]


def _add_member(groups: list[_OpenGroup], item: RobotsRule | ExtensionRecord) -> bool:
    """Add a rule or record to the last group; False when no User-agent line precedes it."""
    if not groups:
        return False
    if isinstance(item, RobotsRule):
        groups[-1][1].append(item)
    else:
        groups[-1][2].append(item)
    return True


def parse_robots(body: bytes) -> RobotsFile:
    """Parse a robots.txt body; never raises, every parseable line is used (RFC 9309 2.3.1.5).

    Notes record what a reviewer should know: ``bom_stripped``, ``truncated``,
    ``invalid_utf8``, ``line_truncated``, ``lenient_parse`` (missing colon, misspelt
    ``disallow`` or ``user-agent``, a User-agent value with spaces), ``unparseable_line`` and
    ``ignored_before_first_group`` (records before any User-agent line).
    """
    notes: dict[str, None] = {}
    groups: list[_OpenGroup] = []
    sitemaps: list[str] = []
    in_body = False  # a rule has been seen since the last User-agent line
    for number, raw in enumerate(_LINE_END.split(_prepare(body, notes)), start=1):
        record = _split_record(_truncate_line(raw, notes))
        if record is None:
            if raw.split("#", 1)[0].strip(_WS):
                notes["unparseable_line"] = None
            continue
        key, value, lenient = record
        placed = True
        if key in _USER_AGENT_KEYS:
            lenient = lenient or key != "user-agent" or _WS_RUN.search(value) is not None
            if in_body or not groups:
                groups.append(([], [], []))
                in_body = False
            groups[-1][0].append(value)
        elif key in ("allow", "disallow") or key in _DISALLOW_TYPOS:
            lenient = lenient or key in _DISALLOW_TYPOS
            rule = RobotsRule(key == "allow", value, normalise_path(value), number)
            placed = in_body = _add_member(groups, rule)
        elif key in _SITEMAP_KEYS:
            sitemaps.extend([value] if value else [])
        else:
            placed = _add_member(groups, ExtensionRecord(key, value, number))
            in_body = in_body or (placed and key in _RULE_LIKE_EXTENSIONS)
        if lenient:
            notes["lenient_parse"] = None
        if not placed:
            notes["ignored_before_first_group"] = None
    built = (RobotsGroup(tuple(a), tuple(r), tuple(e)) for a, r, e in groups)
    return RobotsFile(tuple(built), tuple(sitemaps), tuple(notes))


class RobotsAvailability(StrEnum):
    """Outcome classes of RFC 9309 2.3.1 as applied by reference 1.1."""

    PARSED = "parsed"  # 2xx: rules apply
    UNAVAILABLE = "unavailable"  # 4xx except 429: allow all
    UNREACHABLE = "unreachable"  # 429, 5xx, network error, timeout, redirect limit: disallow all


_EMPTY_FILE = RobotsFile((), (), ())


@dataclass(frozen=True)
class RobotsPolicy:
    """What one robots.txt fetch means for an origin; UNREACHABLE must not be cached as final."""

    availability: RobotsAvailability
    file: RobotsFile | None
    http_status: int | None
    notes: tuple[str, ...]
    transient: bool

    def decide(self, token: str, path_and_query: str) -> RobotsDecision:
        """Rules when parsed; allow all when unavailable; disallow all when unreachable."""
        if self.availability is RobotsAvailability.PARSED:
            return (self.file or _EMPTY_FILE).decide(token, path_and_query)
        if is_robots_txt(match_target(path_and_query)):
            return RobotsDecision(True, None, (), "robots_txt_always_allowed")
        if self.availability is RobotsAvailability.UNAVAILABLE:
            return RobotsDecision(True, None, (), "robots_unavailable")
        return RobotsDecision(False, None, (), "robots_unreachable")


#: Note of a robots.txt the auditor refused to fetch (network safety). RFC 9309 makes an
#: unreachable file disallow all, which still guides the auditor's own crawl, but the evidence
#: about the declared crawler is "not looked at", never a reservation.
REFUSED_NOTE = "robots_refused"

_BY_STATUS_CLASS = {
    2: (RobotsAvailability.PARSED, None),
    3: (RobotsAvailability.UNREACHABLE, "robots_unfollowed_redirect"),
    4: (RobotsAvailability.UNAVAILABLE, None),
    5: (RobotsAvailability.UNREACHABLE, "robots_server_error"),
}


def _classify(
    status: int | None, *, error: str | None, redirect_limit_hit: bool
) -> tuple[RobotsAvailability, str | None]:
    """Return the availability of a fetch outcome and the note that explains it, if any."""
    if error is not None:  # a refusal by the auditor's network safety: nothing was learnt
        return RobotsAvailability.UNREACHABLE, (
            REFUSED_NOTE if error == PRIVATE_ADDRESS else "robots_fetch_error"
        )
    if redirect_limit_hit:
        return RobotsAvailability.UNREACHABLE, "robots_redirect_limit"
    if status is None:
        return RobotsAvailability.UNREACHABLE, "robots_no_status"
    if status == HTTPStatus.TOO_MANY_REQUESTS:  # Google treats 429 like a server error
        return RobotsAvailability.UNREACHABLE, "robots_rate_limited"
    if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):  # some tools deny here
        return RobotsAvailability.UNAVAILABLE, "robots_access_denied"
    unexpected = (RobotsAvailability.UNREACHABLE, "robots_unexpected_status")
    return _BY_STATUS_CLASS.get(status // 100, unexpected)


def policy_from_fetch(
    status: int | None,
    body: bytes | None,
    *,
    error: str | None = None,
    redirect_limit_hit: bool = False,
) -> RobotsPolicy:
    """Map a fetch outcome to a policy (reference 1.1). Only a 2xx body is ever parsed.

    An error page parsed as robots.txt would contain no rules and silently mean "allow all",
    so non-2xx bodies are ignored. A 3xx here means the fetcher did not follow a redirect,
    which should not happen; it is treated as unreachable rather than guessed at.
    """
    availability, note = _classify(status, error=error, redirect_limit_hit=redirect_limit_hit)
    if availability is RobotsAvailability.PARSED:
        parsed = parse_robots(body or b"")
        return RobotsPolicy(availability, parsed, status, parsed.notes, False)
    transient = availability is RobotsAvailability.UNREACHABLE
    return RobotsPolicy(availability, None, status, (note,) if note else (), transient)
