"""Property tests for the robots.txt extension mechanisms and their value parsers.

Parsers and mechanisms never raise; a serialised preference dictionary parses back to itself;
the Content-Usage and DisallowAITraining precedence agree with a brute-force reading of the rules;
and an extra identical-pattern ``Content-Usage`` line can only make the result more restrictive.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.crawl.origins import RobotsEntry
from auditor.crawl.robots import ExtensionRecord, policy_from_fetch
from auditor.model import SignalRecord, Verdict
from auditor.signals.aitxt import parse_ai_txt
from auditor.signals.content_signal import content_signal_signals, parse_content_signal
from auditor.signals.content_usage import (
    content_usage_header_signals,
    content_usage_robots_signals,
    parse_preferences,
    purposes_for,
    select_rules,
)
from auditor.signals.evidence import FetchMeta, ImageEvidence, OriginEvidence
from auditor.signals.robots_ai import disallow_ai_training_signals, robots_ai_token_signals
from auditor.signals.tdmrep import parse_tdmrep_file
from auditor.signals.usage import combine

ORIGIN = "https://img.example.org"
FETCHED = "2026-10-01T12:00:00+00:00"
D = Verdict.DISALLOWED
FUZZ = settings(max_examples=200, deadline=None, database=None)
PROPERTY = settings(max_examples=100, deadline=None, database=None)


def _meta(name: str) -> FetchMeta:
    url = f"{ORIGIN}/{name}"
    return FetchMeta(url, url, 404, FETCHED, None, None)


def evidence(
    body: bytes | None,
    path: str,
    tokens: tuple[str, ...] = (),
    headers: tuple[tuple[str, str], ...] | None = (),
    status: int | None = 200,
) -> ImageEvidence:
    entry = RobotsEntry(
        origin=ORIGIN,
        source_url=f"{ORIGIN}/robots.txt",
        final_url=f"{ORIGIN}/robots.txt",
        policy=policy_from_fetch(status, body),
        fetched_at=FETCHED,
        sha256=None,
        expires_at=0.0,
    )
    origin = OriginEvidence(
        origin=ORIGIN,
        robots=entry,
        tdmrep_meta=_meta(".well-known/tdmrep.json"),
        tdmrep=parse_tdmrep_file(404, None, None),
        ai_txt_meta=_meta("ai.txt"),
        ai_txt=parse_ai_txt(404, None, None),
    )
    return ImageEvidence(
        url=f"{ORIGIN}{path}",
        tokens=tokens,
        origin=origin,
        response_headers=headers,
        status=200,
        fetched_at=FETCHED,
        facts=None,
        pages=(),
    )


# --- parsers never raise -----------------------------------------------------------------------

SF_CHARS = st.sampled_from(
    [*'abnyNY-_*.=,;?"():@%/ \t01239AZ\\#', "\u00e9", "\udcff", "train-ai", "search", "?0"]
)
SF_TEXT = st.lists(SF_CHARS, max_size=40).map("".join)


@FUZZ
@given(st.one_of(st.text(), SF_TEXT))
def test_parse_preferences_never_raises(value: str) -> None:
    prefs = parse_preferences(value)
    assert (prefs.error is None) or (not prefs.values and not prefs.other)
    assert set(prefs.values.values()) <= {"y", "n"}
    assert not set(prefs.values) & set(prefs.other)
    purposes_for(prefs)
    prefs.normalised()


@FUZZ
@given(st.one_of(st.text(), SF_TEXT))
def test_parse_content_signal_never_raises(value: str) -> None:
    signal = parse_content_signal(value)
    assert set(signal.values.values()) <= {"yes", "no"}
    signal.normalised()


# --- round trip --------------------------------------------------------------------------------

KEYS = st.from_regex(r"[a-z*][a-z0-9_\-.*]{0,12}", fullmatch=True)


@PROPERTY
@given(st.dictionaries(KEYS, st.sampled_from(["y", "n"]), max_size=8))
def test_serialised_dictionary_round_trips(values: dict[str, str]) -> None:
    text = ", ".join(f"{key}={value}" for key, value in values.items())
    prefs = parse_preferences(text)
    assert prefs.error is None
    assert dict(prefs.values) == values
    assert dict(prefs.other) == {}
    assert parse_preferences(prefs.normalised()) == prefs


@PROPERTY
@given(st.lists(st.tuples(KEYS, st.sampled_from(["y", "n"])), min_size=1, max_size=8))
def test_duplicates_last_wins(pairs: list[tuple[str, str]]) -> None:
    text = ",".join(f"{key}={value}" for key, value in pairs)
    assert dict(parse_preferences(text).values) == dict(pairs)


# --- precedence against brute force ------------------------------------------------------------

# Patterns and paths from a small alphabet on which percent-normalisation is the identity.
PATTERNS = st.one_of(st.none(), st.from_regex(r"/[ab/*]{0,5}\$?", fullmatch=True))
PATHS = st.from_regex(r"/[ab/]{0,6}", fullmatch=True)


def brute_match(pattern: str, path: str) -> bool:
    """RFC 9309 matching written independently: ``*`` any run, a final ``$`` anchors."""
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(piece) for piece in body.split("*"))
    return re.match(regex + (r"\Z" if anchored else ""), path) is not None


def _rule(pattern: str | None, line: int) -> ExtensionRecord:
    value = "train-ai=n" if pattern is None else f"{pattern} train-ai=n"
    return ExtensionRecord("content-usage", value, line)


@PROPERTY
@given(st.lists(PATTERNS, max_size=8), PATHS)
def test_content_usage_selection_agrees_with_brute_force(
    patterns: list[str | None], path: str
) -> None:
    rules = [_rule(pattern, line) for line, pattern in enumerate(patterns, start=1)]
    matching = [
        (-1 if p is None else len(p), line)
        for line, p in enumerate(patterns, start=1)
        if p is None or brute_match(p, path)
    ]
    best = max((length for length, _ in matching), default=None)
    expected = [line for length, line in matching if length == best]
    assert [rule.line for rule in select_rules(rules, path)] == expected


@PROPERTY
@given(st.lists(st.tuples(st.booleans(), PATTERNS.filter(bool)), max_size=8), PATHS)
def test_disallow_ai_training_agrees_with_brute_force(
    rules: list[tuple[bool, str | None]], path: str
) -> None:
    lines = [f"{'AllowAITraining' if allow else 'DisallowAITraining'}: {p}" for allow, p in rules]
    body = "\n".join(["User-agent: *", *lines]).encode()
    matching = [(len(p), allow) for allow, p in rules if p is not None and brute_match(p, path)]
    records = disallow_ai_training_signals(evidence(body, path))
    if not matching:
        assert records == []
        return
    best = max(length for length, _ in matching)
    allowed = any(allow for length, allow in matching if length == best)
    (record,) = records
    assert dict(record.purposes) == {"ai-train": Verdict.ALLOWED if allowed else D}


# --- monotonicity ------------------------------------------------------------------------------

VALUES = st.sampled_from(["train-ai=y", "train-ai=n", "train-ai=?0", "search=n", "ai=n", "X=n"])


def _body(lines: list[tuple[str | None, str]]) -> bytes:
    rendered = [
        f"Content-Usage: {value}" if p is None else f"Content-Usage: {p} {value}"
        for p, value in lines
    ]
    return "\n".join(["User-agent: *", "Allow: /", *rendered]).encode()


def _ai_train(records: list[SignalRecord]) -> Verdict:
    return combine(records).usage["ai-train"]


@PROPERTY
@given(st.lists(st.tuples(PATTERNS, VALUES), min_size=1, max_size=6), PATHS, st.data())
def test_identical_pattern_line_never_loosens(
    lines: list[tuple[str | None, str]], path: str, data: st.DataObject
) -> None:
    pattern = data.draw(st.sampled_from([p for p, _ in lines]))
    before = _ai_train(content_usage_robots_signals(evidence(_body(lines), path)))
    extra = data.draw(VALUES)
    after_any = _ai_train(
        content_usage_robots_signals(evidence(_body([*lines, (pattern, extra)]), path))
    )
    if before is D:
        assert after_any is D
    stricter = [*lines, (pattern, "train-ai=n")]
    after = _ai_train(content_usage_robots_signals(evidence(_body(stricter), path)))
    if before is D:
        assert after is D
    if before is Verdict.ALLOWED:
        assert after is not Verdict.UNKNOWN  # the added line can only tighten, never drop out


# --- mechanisms never raise --------------------------------------------------------------------

ROBOTS_LINES = st.sampled_from(
    [
        "User-agent: *",
        "User-agent: mybot",
        "User-agent: GPTBot",
        "User-agent: OAI-SearchBot",
        "User-agent: GPTBot extra",
        "Allow: /",
        "Disallow: /",
        "Disallow: /a",
        "Disallow /b",
        "Content-Usage: train-ai=n",
        "Content-Usage: /a train-ai=y",
        "Content-Usage: /a",
        "Content-Usage: Train-AI=n",
        "Content-Usage:",
        "Content-Signal: search=yes, ai-train=no",
        "Content-Signal: /a ai-train=no",
        "Content-Signal: ,,=",
        "DisallowAITraining: /",
        "AllowAITraining: /a*$",
        "DisallowAITraining:",
        "",
        "# comment",
    ]
)


@FUZZ
@given(
    st.one_of(
        st.lists(st.one_of(ROBOTS_LINES, st.text(max_size=30)), max_size=12).map(
            lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")
        ),
        st.binary(max_size=200),
    ),
    st.one_of(PATHS, st.text(max_size=20).map(lambda t: "/" + t)),
    st.sampled_from([(), ("mybot",), ("GPTBot", "mybot"), ("",)]),
    st.one_of(
        st.none(),
        st.lists(
            st.tuples(
                st.sampled_from(["content-usage", "Content-Signal", "x"]), st.text(max_size=20)
            ),
            max_size=3,
        ).map(tuple),
    ),
    st.sampled_from([200, 404, 503, None]),
)
def test_mechanisms_never_raise(
    body: bytes,
    path: str,
    tokens: tuple[str, ...],
    headers: tuple[tuple[str, str], ...] | None,
    status: int | None,
) -> None:
    ev = evidence(body, path, tokens, headers, status)
    for mechanism in (
        content_usage_header_signals,
        content_usage_robots_signals,
        content_signal_signals,
        disallow_ai_training_signals,
        robots_ai_token_signals,
    ):
        for record in mechanism(ev):
            assert set(record.purposes.values()) <= {Verdict.ALLOWED, Verdict.DISALLOWED}
