"""Property tests for robots.txt parsing and matching (hypothesis).

Invariants: hostile bytes never crash the parser; ``/robots.txt`` is always allowed; a
``Disallow: /`` for ``*`` disallows everything else; line-ending style never changes the parse;
the linear wildcard matcher agrees with a regular-expression oracle; the indexed precedence of
``decide`` agrees with a brute-force longest-match; normalisation is idempotent.
"""

from __future__ import annotations

import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from auditor.crawl.robots import MAX_ROBOTS_BYTES, normalise_path, parse_robots, pattern_matches

TOKENS = st.text(alphabet="abcXYZ-_*/ 2.", max_size=12)
PATHS = st.text(max_size=60).map(lambda text: "/" + text)
SMALL_PATTERNS = st.text(alphabet="/ab*$", max_size=8)
SMALL_PATHS = st.text(alphabet="/ab", max_size=10).map(lambda text: "/" + text)

LINES = st.one_of(
    st.sampled_from(
        [
            "",
            "# comment",
            "User-agent: *",
            "User-agent: mybot",
            "user-agent: MyBot  # me",
            "User-agent Foo Bar",
            "Disallow:",
            "Sitemap: https://example.com/s.xml",
            "Crawl-delay: 2",
            "Content-Usage: train-ai=n",
            "DisallowAITraining: /",
        ]
    ),
    st.builds("{}: {}".format, st.sampled_from(["Allow", "Disallow", "disalow"]), SMALL_PATTERNS),
)


@settings(deadline=None)
@given(body=st.binary(max_size=2000), token=st.text(max_size=20), path=st.text(max_size=80))
def test_arbitrary_bytes_never_raise(body: bytes, token: str, path: str) -> None:
    file = parse_robots(body)
    decision = file.decide(token, path)
    assert isinstance(decision.allowed, bool)
    assert decision.reason in {
        "matched",
        "no_matching_rule",
        "no_group",
        "robots_txt_always_allowed",
    }
    assert all(isinstance(record.field, str) for record in file.extensions_for(token))


# Bytes that cannot form a record of their own (no colon, no word separator), but may split a
# UTF-8 character or a CR LF pair at the limit.
TAILS = st.binary(max_size=48).map(lambda data: data.translate(None, b": \t\x0b\x0c"))


@settings(deadline=None, max_examples=40)
@given(offset=st.integers(min_value=-24, max_value=24), tail=TAILS)
def test_bodies_around_the_size_limit(offset: int, tail: bytes) -> None:
    # Whatever straddles the limit, nothing raises and the rules near the start keep applying.
    head = b"User-agent: *\nDisallow: /x\n"
    line = b"#" * 1023 + b"\n"
    filler = line * ((MAX_ROBOTS_BYTES + offset - len(head)) // len(line))
    file = parse_robots(head + filler + b"Allow: /x/" + tail)
    assert not file.decide("anybot", "/xa").allowed
    decision = file.decide("anybot", "/x/y")
    assert decision.rule is not None
    assert decision.rule.pattern == "/x" or decision.rule.pattern.startswith("/x/")


@given(lines=st.lists(LINES, max_size=15), token=TOKENS)
def test_robots_txt_is_always_allowed(lines: list[str], token: str) -> None:
    file = parse_robots("\n".join([*lines, "User-agent: *", "Disallow: /"]).encode())
    decision = file.decide(token, "/robots.txt")
    assert decision.allowed
    assert decision.reason == "robots_txt_always_allowed"


@given(token=TOKENS, path=PATHS)
def test_disallow_all_disallows_every_other_path(token: str, path: str) -> None:
    assume(path.split("?", 1)[0] != "/robots.txt")
    file = parse_robots(b"User-agent: *\nDisallow: /\n")
    decision = file.decide(token, path)
    assert not decision.allowed
    assert decision.rule is not None
    assert decision.rule.pattern == "/"


@given(lines=st.lists(LINES, max_size=20))
def test_line_endings_do_not_change_the_parse(lines: list[str]) -> None:
    parsed = [parse_robots(end.join(lines).encode()) for end in ("\n", "\r\n", "\r")]
    assert parsed[0] == parsed[1] == parsed[2]


def _oracle(pattern: str, path: str) -> bool:
    """RFC 9309 matching written as a regular expression; safe here because inputs are tiny."""
    if not pattern:
        return False
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    pieces = [re.escape(piece.replace("$", "%24")) for piece in body.split("*")]
    return re.match(".*".join(pieces) + (r"\Z" if anchored else ""), path, re.DOTALL) is not None


@given(pattern=SMALL_PATTERNS, path=SMALL_PATHS)
def test_matcher_agrees_with_regex_oracle(pattern: str, path: str) -> None:
    assert pattern_matches(pattern, path) is _oracle(pattern, path)


@given(
    rules=st.lists(st.tuples(st.booleans(), SMALL_PATTERNS), max_size=12),
    paths=st.lists(SMALL_PATHS, min_size=1, max_size=5),
)
def test_decide_picks_longest_match_and_allow_on_ties(
    rules: list[tuple[bool, str]], paths: list[str]
) -> None:
    lines = ["User-agent: *"] + [f"{'Allow' if a else 'Disallow'}: {p}" for a, p in rules]
    file = parse_robots("\n".join(lines).encode())
    for path in paths:
        assume(path != "/robots.txt")
        matching = [(len(p), a) for a, p in rules if p and pattern_matches(p, path)]
        expected = max(matching)[1] if matching else True
        decision = file.decide("anybot", path)
        assert decision.allowed is expected
        assert (decision.reason == "matched") is bool(matching)


@given(text=st.text(max_size=60))
def test_normalise_path_is_idempotent_and_ascii(text: str) -> None:
    once = normalise_path(text)
    assert once.isascii()
    assert normalise_path(once) == once
