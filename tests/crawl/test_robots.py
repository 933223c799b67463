"""robots.txt parsing and matching: reference cases E1-E17, E34, E44 and the edge cases of 1.1-1.5.

Expected values come from ``reference/optout-signals.md`` (sections 1, 6.3, 6.4, 10), RFC 9309
and google/robotstxt ``robots_test.cc`` where Google agrees with the RFC. Where Google differs,
the test says so.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import pytest

from auditor.crawl.robots import (
    MAX_LINE_BYTES,
    MAX_ROBOTS_BYTES,
    ExtensionRecord,
    RobotsAvailability,
    RobotsDecision,
    RobotsFile,
    RobotsGroup,
    RobotsRule,
    normalise_path,
    parse_robots,
    path_and_query,
    pattern_matches,
    policy_from_fetch,
)

TOKEN = "mybot"


def robots(text: str) -> RobotsFile:
    return parse_robots(text.encode("utf-8"))


def decide(text: str, path: str, token: str = TOKEN) -> RobotsDecision:
    return robots(text).decide(token, path)


# --- Section 10, E1-E13 ------------------------------------------------------------------------

EXAMPLES = [
    pytest.param(
        "User-agent: *\nDisallow: /\nAllow: /public", "/public/a", True, id="E1-longer-allow"
    ),
    pytest.param("User-agent: *\nDisallow: /\nAllow: /public", "/private", False, id="E1-not"),
    pytest.param(
        "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php",
        "/wp-admin/admin-ajax.php",
        True,
        id="E2-longest-pattern",
    ),
    pytest.param(
        "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php",
        "/wp-admin/options.php",
        False,
        id="E2-not",
    ),
    pytest.param(
        "User-agent: *\nDisallow: /x/page.html\nAllow: /x/page.html",
        "/x/page.html",
        True,
        id="E3-tie-goes-to-allow",
    ),
    pytest.param(
        "User-agent: *\nAllow: /x/page.html\nDisallow: /x/page.html",
        "/x/page.html",
        True,
        id="E3-tie-order-irrelevant",
    ),
    pytest.param(
        "User-agent: *\nAllow: /page\nDisallow: /*.html", "/page.html", False, id="E4-html"
    ),
    pytest.param("User-agent: *\nAllow: /page\nDisallow: /*.html", "/page", True, id="E4-page"),
    pytest.param("User-agent: *\nDisallow: /foo/bar$", "/foo/bar", False, id="E5-anchored"),
    pytest.param("User-agent: *\nDisallow: /foo/bar$", "/foo/bar/", True, id="E5-not"),
    pytest.param(
        "User-agent: *\nDisallow: /x/\nUser-agent: mybot\nDisallow: /y/",
        "/x/page",
        True,
        id="E6-named-shadows-star",
    ),
    pytest.param(
        "User-agent: *\nDisallow: /x/\nUser-agent: mybot\nDisallow: /y/",
        "/y/page",
        False,
        id="E6-named-group-applies",
    ),
    pytest.param("User-agent: *\nDisallow: /X/", "/x/y", True, id="E8-case-sensitive"),
    pytest.param("User-agent: *\nDisallow: /X/", "/X/y", False, id="E8-exact-case"),
    pytest.param("User-agent: *\nDisallow:", "/anything", True, id="E9-empty-pattern"),
    pytest.param("User-agent: *\nAllow:\nDisallow: /", "/a", False, id="E9-empty-allow-no-op"),
    pytest.param("Disallow: /\n", "/x", True, id="E10-rules-before-group"),
    pytest.param(
        "User-agent: mybot\nSitemap: https://example.com/s.xml\nDisallow: /p",
        "/p",
        False,
        id="E11-sitemap-keeps-group",
    ),
    pytest.param("User-agent: *\nDisallow: /", "/robots.txt", True, id="E12-robots-txt"),
    pytest.param("User-agent: *\nDisallow: /", "/robots.txtx", False, id="E12-only-robots-txt"),
    pytest.param("User-agent: *\nDisallow /", "/any", False, id="E13-missing-colon"),
]


@pytest.mark.parametrize(("text", "path", "allowed"), EXAMPLES)
def test_reference_examples(text: str, path: str, allowed: bool) -> None:
    assert decide(text, path).allowed is allowed


def test_e7_token_matches_case_insensitively() -> None:
    file = robots("User-agent: GPTBot\nDisallow: /")
    assert file.select("gptbot") == file.groups
    assert file.decide("gptbot", "/x").group_tokens == ("GPTBot",)
    assert file.select("gptbot-extra") == ()


def test_e10_note_records_ignored_rules() -> None:
    file = robots("Disallow: /\nUser-agent: other\nDisallow: /")
    assert "ignored_before_first_group" in file.notes
    assert decide("Disallow: /\n", "/x").reason == "no_group"
    assert "ignored_before_first_group" not in robots("User-agent: *\nDisallow: /").notes


def test_e11_sitemaps_are_global() -> None:
    file = robots(
        "Sitemap: https://e.com/a.xml\nUser-agent: mybot\nSitemap: https://e.com/s.xml\n"
        "Disallow: /p\nSite-map: https://e.com/c.xml\nSitemap:\n"
    )
    assert file.sitemaps == ("https://e.com/a.xml", "https://e.com/s.xml", "https://e.com/c.xml")
    assert file.groups[0].extensions == ()


def test_e12_reason_and_rule() -> None:
    decision = decide("User-agent: *\nDisallow: /", "/robots.txt")
    assert decision == RobotsDecision(True, None, ("*",), "robots_txt_always_allowed")


def test_e13_lenient_parse_note() -> None:
    file = robots("User-agent: *\nDisallow /")
    assert file.notes == ("lenient_parse",)
    assert file.groups[0].rules == (RobotsRule(False, "/", "/", 2),)
    assert robots("User-agent: *\nDisallow: /").notes == ()


# --- Status table of 1.1 (E14-E17 and the rest) ----------------------------------------------

UNAVAILABLE, UNREACHABLE = RobotsAvailability.UNAVAILABLE, RobotsAvailability.UNREACHABLE

STATUS_CASES = [
    # (status, keyword arguments of policy_from_fetch, availability, notes)
    pytest.param(404, {}, UNAVAILABLE, (), id="E14-404"),
    pytest.param(403, {}, UNAVAILABLE, ("robots_access_denied",), id="E15-403"),
    pytest.param(401, {}, UNAVAILABLE, ("robots_access_denied",), id="401"),
    pytest.param(410, {}, UNAVAILABLE, (), id="410"),
    pytest.param(429, {}, UNREACHABLE, ("robots_rate_limited",), id="E16-429"),
    pytest.param(None, {"error": "timeout"}, UNREACHABLE, ("robots_fetch_error",), id="E17"),
    pytest.param(200, {"error": "tls"}, UNREACHABLE, ("robots_fetch_error",), id="error-wins"),
    pytest.param(500, {}, UNREACHABLE, ("robots_server_error",), id="500"),
    pytest.param(503, {}, UNREACHABLE, ("robots_server_error",), id="503"),
    pytest.param(
        301, {"redirect_limit_hit": True}, UNREACHABLE, ("robots_redirect_limit",), id="redirects"
    ),
    pytest.param(302, {}, UNREACHABLE, ("robots_unfollowed_redirect",), id="3xx-not-followed"),
    pytest.param(None, {}, UNREACHABLE, ("robots_no_status",), id="no-status"),
    pytest.param(600, {}, UNREACHABLE, ("robots_unexpected_status",), id="600"),
]


@pytest.mark.parametrize(("status", "kwargs", "availability", "notes"), STATUS_CASES)
def test_status_table(
    status: int | None,
    kwargs: dict[str, Any],
    availability: RobotsAvailability,
    notes: tuple[str, ...],
) -> None:
    # A body that would allow everything and one that would disallow everything: neither may be
    # parsed for a non-2xx outcome.
    for body in (b"User-agent: *\nAllow: /", b"User-agent: *\nDisallow: /"):
        policy = policy_from_fetch(status, body, **kwargs)
        assert policy.availability is availability
        assert policy.file is None
        assert policy.notes == notes
        assert policy.http_status == status
        assert policy.transient is (availability is UNREACHABLE)
        decision = policy.decide(TOKEN, "/page")
        assert decision.allowed is (availability is UNAVAILABLE)
        assert decision.reason == f"robots_{availability.value}"
        assert policy.decide(TOKEN, "/robots.txt").allowed


@pytest.mark.parametrize("status", [200, 203, 299])
def test_2xx_parses_body(status: int) -> None:
    policy = policy_from_fetch(status, b"\xef\xbb\xbfUser-agent: *\nDisallow: /private")
    assert policy.availability is RobotsAvailability.PARSED
    assert policy.file is not None
    assert policy.notes == ("bom_stripped",) == policy.file.notes
    assert not policy.transient
    assert not policy.decide(TOKEN, "/private/x").allowed
    assert policy.decide(TOKEN, "/public").allowed


def test_2xx_without_body_allows_everything() -> None:
    policy = policy_from_fetch(200, None)
    assert policy.availability is RobotsAvailability.PARSED
    assert policy.decide(TOKEN, "/x") == RobotsDecision(True, None, (), "no_group")


# --- Group selection (1.2, 1.3, 1.5) ---------------------------------------------------------

SELECTION_CASES = [
    pytest.param("User-agent: mybotextra\nDisallow: /", "/x", True, id="no-prefix-match"),
    pytest.param("User-agent: bot\nDisallow: /", "/x", True, id="no-substring-match"),
    pytest.param("User-agent: MYBOT\nDisallow: /", "/x", False, id="case-insensitive-value"),
    pytest.param(
        "uSeR-aGeNt: mybot\nDiSaLlOw: /x\nALLOW: /x/y", "/x/y", True, id="field-names-any-case"
    ),
    pytest.param("User-agent: mybot\n\n\nDisallow: /x", "/x", False, id="blank-lines-keep-group"),
    pytest.param(
        "User-agent: other\nUser-agent: mybot\nDisallow: /x",
        "/x",
        False,
        id="consecutive-user-agents-share-rules",
    ),
    pytest.param(
        "User-agent: mybot\nCrawl-delay: 5\nHost: e.com\nFoo: bar\nDisallow: /x",
        "/x",
        False,
        id="other-records-keep-group",
    ),
    pytest.param(
        "User-agent: other\nCrawl-delay: 5\nUser-agent: mybot\nDisallow: /x",
        "/x",
        False,
        id="crawl-delay-does-not-split-user-agents",
    ),
    pytest.param(
        "User-agent: mybot\nDisallow: /x\nUser-agent: other\nDisallow: /y",
        "/y",
        True,
        id="user-agent-after-rules-starts-group",
    ),
    pytest.param(
        "User-agent: mybot\nContent-Usage: train-ai=n\nUser-agent: other\nDisallow: /x",
        "/x",
        True,
        id="content-usage-is-a-rule-and-ends-user-agents",
    ),
    pytest.param(
        "User-agent: other\nDisallow: /\nUser-agent: *\nDisallow: /x",
        "/y",
        True,
        id="star-fallback",
    ),
    pytest.param("User-agent: * extra\nDisallow: /x", "/x", False, id="star-with-trailing-words"),
]


@pytest.mark.parametrize(("text", "path", "allowed"), SELECTION_CASES)
def test_group_selection(text: str, path: str, allowed: bool) -> None:
    assert decide(text, path).allowed is allowed


def test_named_groups_are_merged() -> None:
    text = (
        "User-agent: mybot\nDisallow: /a\n\nUser-agent: *\nDisallow: /star\n\n"
        "User-agent: MyBot\nDisallow: /b\nAllow: /a/ok"
    )
    file = robots(text)
    assert len(file.select(TOKEN)) == 2
    assert not file.decide(TOKEN, "/a/x").allowed
    assert not file.decide(TOKEN, "/b").allowed
    assert file.decide(TOKEN, "/a/ok").allowed  # Allow from the second group beats the first
    assert file.decide(TOKEN, "/star").allowed
    assert file.decide(TOKEN, "/a/x").group_tokens == ("mybot", "MyBot")


def test_star_groups_are_merged() -> None:
    file = robots(
        "User-agent: *\nDisallow: /a\nUser-agent: x\nAllow: /\nUser-agent: *\nDisallow: /b"
    )
    assert len(file.select(TOKEN)) == 2
    assert not file.decide(TOKEN, "/a").allowed
    assert not file.decide(TOKEN, "/b").allowed
    assert file.decide(TOKEN, "/c").reason == "no_matching_rule"
    assert file.decide(TOKEN, "/c").group_tokens == ("*",)


def test_star_shadowed_including_extension_records() -> None:
    file = robots(
        "User-agent: *\nDisallow: /\nContent-Usage: train-ai=n\nContent-Signal: ai-train=no\n"
        "DisallowAITraining: /\n\nUser-agent: mybot\nCrawl-delay: 3"
    )
    assert file.decide(TOKEN, "/x") == RobotsDecision(True, None, ("mybot",), "no_matching_rule")
    assert file.extensions_for(TOKEN) == (ExtensionRecord("crawl-delay", "3", 8),)
    other = [record.field for record in file.extensions_for("otherbot")]
    assert other == ["content-usage", "content-signal", "disallowaitraining"]
    assert not file.decide("otherbot", "/x").allowed


def test_no_group_and_no_star() -> None:
    decision = decide("User-agent: otherbot\nDisallow: /", "/x")
    assert decision == RobotsDecision(True, None, (), "no_group")
    assert robots("User-agent: otherbot\nDisallow: /").extensions_for(TOKEN) == ()
    assert decide("", "/x").reason == "no_group"


def test_named_group_without_rules_still_shadows_star() -> None:
    # RFC 9309 2.1: "The last group may have no rules, which means it implicitly allows
    # everything".
    decision = decide("User-agent: *\nDisallow: /\nUser-agent: mybot", "/x")
    assert decision == RobotsDecision(True, None, ("mybot",), "no_matching_rule")


def test_user_agent_with_version_is_not_the_bare_token() -> None:
    # RFC 9309 2.2.1: crawlers match their *product token* case-insensitively, and a product
    # token is only letters, "_" and "-". "googlebot/2.1" read up to its first space is the value
    # "googlebot/2.1", which is not equal to "googlebot"; reference 1.3 forbids prefix matching.
    # (Google's parser cuts the value at "/" and would match; we deliberately do not.)
    file = robots("User-agent: *\nAllow: /\nUser-agent: googlebot/2.1\nDisallow: /")
    assert file.decide("googlebot", "/x").allowed
    assert file.decide("googlebot", "/x").group_tokens == ("*",)
    # Reference 1.5: a published token outside the RFC grammar matches as a whole value.
    assert not file.decide("Googlebot/2.1", "/x").allowed


def test_user_agent_value_with_spaces() -> None:
    # Google reads the value up to its first space (robots_test.cc
    # GoogleOnly_AcceptUserAgentUpToFirstSpace); reference 1.5 also compares the whole value.
    file = robots("User-Agent: *\nDisallow: /\nUser-Agent: Foo Bar\nAllow: /x/\nDisallow: /")
    assert "lenient_parse" in file.notes
    assert file.decide("Foo", "/x/y").allowed
    assert file.decide("foo bar", "/x/y").allowed
    assert not file.decide("Bar", "/x/y").allowed  # only the first word, never any word
    assert file.decide("foo", "/x/y").group_tokens == ("Foo Bar",)


def test_e34_content_usage_group_selection() -> None:
    file = robots(
        "User-Agent: *\nAllow: /\nDisallow: /never/\nContent-Usage: train-ai=n\n"
        "Content-Usage: /ai-ok/ train-ai=y\n\nUser-Agent: ExampleBot\nAllow: /\n"
        "Content-Usage: train-ai=y"
    )
    assert file.extensions_for(TOKEN) == (
        ExtensionRecord("content-usage", "train-ai=n", 4),
        ExtensionRecord("content-usage", "/ai-ok/ train-ai=y", 5),
    )
    assert file.extensions_for("ExampleBot") == (ExtensionRecord("content-usage", "train-ai=y", 9),)
    assert file.decide(TOKEN, "/test").allowed
    assert file.decide(TOKEN, "/ai-ok/x").allowed
    assert not file.decide(TOKEN, "/never/x").allowed
    assert file.decide("examplebot", "/never/x").allowed
    assert pattern_matches("/ai-ok/", "/ai-ok/x")
    assert not pattern_matches("/ai-ok/", "/test")


def test_e44_disallow_ai_training_is_an_extension_not_a_disallow() -> None:
    # Google's parser compares field names by prefix and would read this as "Disallow: /".
    file = robots("User-agent: *\nDisallowAITraining: /")
    assert file.extensions_for(TOKEN) == (ExtensionRecord("disallowaitraining", "/", 2),)
    assert file.decide(TOKEN, "/x").allowed
    assert file.groups[0].rules == ()


def test_extension_records_keep_field_value_and_line() -> None:
    file = robots(
        "User-agent: *\nCONTENT-SIGNAL: search=yes, ai-train=no # managed\nAllow: /\n"
        "AllowAITraining: /ok/"
    )
    assert file.extensions_for("x") == (
        ExtensionRecord("content-signal", "search=yes, ai-train=no", 2),
        ExtensionRecord("allowaitraining", "/ok/", 4),
    )


# --- Leniencies (1.2) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["Disallow", "dissallow", "Dissalow", "disalow", "diasllow", "DISALLAW"]
)
def test_disallow_spellings(field: str) -> None:
    file = robots(f"User-agent: *\n{field}: /x")
    assert not file.decide(TOKEN, "/x").allowed
    assert file.decide(TOKEN, "/y").allowed
    assert ("lenient_parse" in file.notes) is (field.lower() != "disallow")


@pytest.mark.parametrize("field", ["useragent", "User agent"])
def test_user_agent_spellings(field: str) -> None:
    file = robots(f"{field}: mybot\nDisallow: /x")
    assert not file.decide(TOKEN, "/x").allowed
    assert file.notes == ("lenient_parse",)


@pytest.mark.parametrize(
    ("text", "note"),
    [
        pytest.param("User-agent mybot\nDisallow /x", "lenient_parse", id="two-words-accepted"),
        pytest.param("User-agent: mybot\nDisallow /x y", "unparseable_line", id="three-words"),
        pytest.param("User-agent: mybot\n: /x", "unparseable_line", id="empty-field-name"),
    ],
)
def test_missing_colon(text: str, note: str) -> None:
    file = robots(text)
    assert note in file.notes
    allowed = note == "unparseable_line"
    assert file.decide(TOKEN, "/x").allowed is allowed


def test_disallowed_prefix_is_not_a_disallow() -> None:
    # Exact field names: "Disallowed" (Google would accept it by prefix) is an unknown record.
    file = robots("User-agent: *\nDisallowed: /x")
    assert file.decide(TOKEN, "/x").allowed
    assert file.groups[0].extensions == (ExtensionRecord("disallowed", "/x", 2),)


# --- Encoding, BOM, line ends, limits (1.1, 1.2) ---------------------------------------------


@pytest.mark.parametrize(
    "bom", [b"\xef\xbb\xbf", b"\xef\xbb", b"\xef"], ids=["full", "partial-2", "partial-1"]
)
def test_bom_is_stripped(bom: bytes) -> None:
    file = parse_robots(bom + b"User-Agent: mybot\nDisallow: /x\n")
    assert file.notes == ("bom_stripped",)
    assert file.groups[0].user_agents == ("mybot",)
    assert not file.decide(TOKEN, "/x").allowed


def test_broken_bom_makes_first_line_garbage() -> None:
    # robots_test.cc ID_UTF8ByteOrderMarkIsSkipped: only the matching prefix "\xEF" is a BOM
    # fragment; the line is then "\x11\xBFUser-Agent: mybot", which is no User-agent line.
    file = parse_robots(b"\xef\x11\xbfUser-Agent: mybot\nDisallow: /x\n")
    assert file.groups == ()
    assert "invalid_utf8" in file.notes
    assert file.decide(TOKEN, "/x").allowed


def test_bom_in_the_middle_is_not_stripped() -> None:
    file = parse_robots(b"User-Agent: mybot\n\xef\xbb\xbfDisallow: /x\n")
    assert file.groups[0].rules == ()
    assert file.decide(TOKEN, "/x").allowed


def test_invalid_utf8_mid_file_keeps_later_rules() -> None:
    file = parse_robots(b"User-agent: *\nDisallow: /a\xff\xfe\nDisallow: /b\nAllow: /b/ok\n")
    assert "invalid_utf8" in file.notes
    assert not file.decide(TOKEN, "/b/x").allowed
    assert file.decide(TOKEN, "/b/ok").allowed
    assert file.decide(TOKEN, "/a").allowed
    assert file.groups[0].rules[0].normalised == "/a%EF%BF%BD%EF%BF%BD"


@pytest.mark.parametrize(
    "eol", ["\n", "\r\n", "\r", "mixed"], ids=["LF", "CRLF", "CR-only", "mixed"]
)
def test_line_endings_and_line_numbers(eol: str) -> None:
    # robots_test.cc ID_LinesNumbersAreCountedCorrectly.
    lines = ["User-Agent: foo", "Allow: /some/path", "User-Agent: bar", "", "", "Disallow: /"]
    if eol == "mixed":
        text = "".join(
            line + end
            for line, end in zip(lines, ["\n", "\r\n", "\n", "\r\n", "\n", ""], strict=True)
        )
    else:
        text = eol.join(lines)
    file = robots(text)
    assert [group.user_agents for group in file.groups] == [("foo",), ("bar",)]
    assert file.groups[1].rules == (RobotsRule(False, "/", "/", 6),)
    assert not file.decide("bar", "/x").allowed
    assert file.decide("foo", "/x").allowed


def test_comments() -> None:
    text = "User-agent: mybot # me\n# Disallow: /\nDisallow: /foo/quz#qux\nAllow: / # all"
    file = robots(text)
    assert file.decide(TOKEN, "/foo/bar").allowed
    assert not file.decide(TOKEN, "/foo/quz").allowed
    assert file.groups[0].user_agents == ("mybot",)


def test_long_lines_are_truncated() -> None:
    # robots_test.cc GoogleOnly_LineTooLong, with this module's 16 KiB limit.
    prefix = "disallow: "
    long_path = "/x/" + "a" * (MAX_LINE_BYTES - len(prefix) - 3)
    file = robots(f"user-agent: mybot\n{prefix}{long_path}/qux\n")
    assert "line_truncated" in file.notes
    assert len(file.groups[0].rules[0].pattern) == len(long_path)
    assert file.decide(TOKEN, "/fux").allowed
    assert not file.decide(TOKEN, long_path + "/fux").allowed


def test_long_line_truncation_keeps_whole_characters() -> None:
    line = "Disallow: /" + "é" * MAX_LINE_BYTES
    file = robots("User-agent: *\n" + line)
    assert "invalid_utf8" not in file.notes
    assert file.groups[0].rules[0].pattern.endswith("é")
    assert len(file.groups[0].rules[0].pattern.encode()) <= MAX_LINE_BYTES


def _padded(head: bytes, tail: bytes, tail_at: int) -> bytes:
    """``head``, comment lines of filler, then ``tail`` starting at byte offset ``tail_at``."""
    filler = tail_at - len(head)
    chunk = b"#" + b"." * 98 + b"\n"
    body = head + chunk * (filler // len(chunk))
    rest = tail_at - len(body)
    body += (b"#" + b"." * (rest - 2) + b"\n") if rest else b""
    assert len(body) == tail_at
    return body + tail


def test_size_limit_keeps_first_500_kib() -> None:
    head = b"User-agent: *\nDisallow: /in\n"
    filler = (b"#" * 1000 + b"\n") * 20
    body = _padded(head, b"Disallow: /edge\n" + filler + b"Disallow: /beyond\n", 500 * 1024)
    file = parse_robots(body)
    assert "truncated" in file.notes
    assert not file.decide(TOKEN, "/in").allowed
    assert not file.decide(TOKEN, "/edge").allowed
    assert file.decide(TOKEN, "/beyond").allowed
    assert "invalid_utf8" not in file.notes


@pytest.mark.parametrize(
    "pre_cut", [False, True], ids=["parser-cuts", "fetcher-already-cut-at-limit"]
)
def test_line_cut_by_size_limit_after_500_kib_is_dropped(pre_cut: bool) -> None:
    # A cut-off "Allow: /public-area" must not become "Allow: /pub", which would allow more.
    head = b"User-agent: *\nDisallow: /\n"
    body = _padded(head, b"Allow: /public-area\n", MAX_ROBOTS_BYTES - 10)
    file = parse_robots(body[:MAX_ROBOTS_BYTES] if pre_cut else body)
    assert "truncated" in file.notes
    assert file.groups[0].rules == (RobotsRule(False, "/", "/", 2),)
    assert not file.decide(TOKEN, "/pub").allowed


def test_file_of_exactly_the_limit_ending_in_newline_is_complete() -> None:
    head = b"User-agent: *\nDisallow: /\n"
    body = _padded(head, b"Allow: /pub\n", MAX_ROBOTS_BYTES - 12)
    assert len(body) == MAX_ROBOTS_BYTES
    file = parse_robots(body)
    assert "truncated" not in file.notes
    assert file.decide(TOKEN, "/pub").allowed


@pytest.mark.parametrize(
    "pre_cut", [False, True], ids=["parser-cuts", "fetcher-already-cut-at-limit"]
)
def test_long_line_crossing_the_limit_from_inside_500_kib_is_kept(pre_cut: bool) -> None:
    head = b"User-agent: *\nDisallow: /\n"
    tail = b"Allow: /" + "é".encode() * 8000 + b"\n"
    body = _padded(head, tail, MAX_ROBOTS_BYTES - 15001)  # the limit falls inside an "é"
    file = parse_robots(body[:MAX_ROBOTS_BYTES] if pre_cut else body)
    assert "truncated" in file.notes
    assert "invalid_utf8" not in file.notes
    rule = file.groups[0].rules[-1]
    assert rule.allow
    assert rule.pattern == "/" + "é" * 7496
    assert file.decide(TOKEN, "/" + "é" * 7496).allowed


# --- Matching and percent-encoding (1.4) -----------------------------------------------------

MATCHING_CASES = [
    # RFC 9309 2.2.3: "%2A" and "%24" in a pattern stand for literal "*" and "$".
    pytest.param("/path/file-with-a-%2A.html", "/path/file-with-a-*.html", True, id="pct2A-star"),
    pytest.param("/path/file-with-a-%2A.html", "/path/file-with-a-%2A.html", True, id="pct2A-enc"),
    pytest.param("/path/file-with-a-%2A.html", "/path/file-with-a-x.html", False, id="pct2A-not"),
    pytest.param("/path/foo-%24", "/path/foo-$", True, id="pct24-dollar"),
    pytest.param("/path/foo-%24", "/path/foo-", False, id="pct24-not-anchor"),
    pytest.param("/a$b", "/a$b", True, id="inner-dollar-literal"),
    pytest.param("/a$b", "/a", False, id="inner-dollar-not-anchor"),
    # Query patterns: "=" and "&" are never encoded (Protego <= 0.6.1, CPython 3.14.5 bugs).
    pytest.param("/search?q=*&page=", "/search?q=cats&page=2", True, id="query-eq-amp"),
    pytest.param("/*?sessionid=", "/a/b?x=1&sessionid=9", False, id="query-param-not-first"),
    pytest.param("/*sessionid=", "/a/b?x=1&sessionid=9", True, id="query-param-anywhere"),
    pytest.param(
        "/foo/bar?qux=taz&baz=http://foo.bar?tar&par",
        "/foo/bar?qux=taz&baz=http://foo.bar?tar&par",
        True,
        id="google-reserved-stay-literal",
    ),
    pytest.param("/a=b", "/a%3Db", False, id="reserved-encoded-differs"),
    # Unreserved escapes are decoded on both sides (RFC 9309 2.2.2 table; Google differs).
    pytest.param("/%7Efoo", "/~foo", True, id="pct7E-pattern"),
    pytest.param("/~foo", "/%7efoo", True, id="pct7E-url-lowercase"),
    pytest.param("/foo/bar/%62%61%7A", "/foo/bar/baz", True, id="rfc-unreserved-table"),
    pytest.param("/a%2Fb", "/a/b", False, id="encoded-slash-stays-encoded"),
    pytest.param("/a%2fb", "/a%2Fb", True, id="hex-case-insensitive"),
    pytest.param("/a%2Fb", "/a%2fb", True, id="hex-case-insensitive-url"),
    # Non-ASCII: UTF-8 percent-encoded on both sides.
    pytest.param("/foo/bar/ツ", "/foo/bar/%E3%83%84", True, id="non-ascii-pattern"),
    pytest.param("/foo/bar/%e3%83%84", "/foo/bar/ツ", True, id="non-ascii-url"),
    pytest.param("/foo/bar/ツ", "/foo/bar/%E3%83", False, id="non-ascii-partial"),
    pytest.param("/café", "/caf%C3%A9/menu", True, id="non-ascii-latin"),
    # Wildcards.
    pytest.param("*.gif$", "/img/a.gif", True, id="leading-star"),
    pytest.param("/fish*", "/fishheads", True, id="trailing-star"),
    pytest.param("/*.php$", "/filename.php?parameters", False, id="anchor-vs-query"),
    pytest.param("/fish*.php", "/fishheads/catfish.php?parameters", True, id="star-middle"),
    pytest.param("/*a*b*c$", "/xaybzc", True, id="several-stars"),
    pytest.param("/*a*b*c$", "/xaybzcd", False, id="several-stars-anchor"),
    pytest.param("/**/x", "/a/b/x", True, id="star-run"),
    pytest.param("/$", "/", True, id="root-only"),
    pytest.param("/$", "/page", False, id="root-only-not"),
    pytest.param("/ab*ab$", "/ab", False, id="anchored-pieces-do-not-overlap"),
    pytest.param("/ab*b$", "/abb", True, id="anchored-piece-adjacent"),
    pytest.param("", "/", False, id="empty-pattern"),
    pytest.param("fish", "/fish", False, id="no-leading-slash"),
]


@pytest.mark.parametrize(("pattern", "path", "matches"), MATCHING_CASES)
def test_pattern_matching(pattern: str, path: str, matches: bool) -> None:
    assert pattern_matches(pattern, path) is matches
    verdict = decide(f"User-agent: *\nDisallow: {pattern}", path)
    assert verdict.allowed is not matches


GOOGLE_DOCUMENTATION = [
    # robots_test.cc GoogleOnly_DocumentationChecks: (allow pattern, url path, allowed)
    ("/fish", "/bar", False),
    ("/fish", "/fish", True),
    ("/fish", "/fish.html?id=anything", True),
    ("/fish", "/fishheads/yummy.html", True),
    ("/fish", "/Fish.asp", False),
    ("/fish", "/catfish", False),
    ("/fish", "/?id=fish", False),
    ("/fish*", "/fish/salmon.html", True),
    ("/fish*", "/Fish.bar", False),
    ("/fish/", "/fish/?salmon", True),
    ("/fish/", "/fish", False),
    ("/fish/", "/fish.html", False),
    ("/*.php", "/folder/filename.php?parameters", True),
    ("/*.php", "//folder/any.php.file.html", True),
    ("/*.php", "/index?f=filename.php/", True),
    ("/*.php", "/php/", False),
    ("/*.php", "/index?php", False),
    ("/*.php", "/windows.PHP", False),
    ("/*.php$", "/folder/filename.php", True),
    ("/*.php$", "/filename.php/", False),
    ("/*.php$", "/filename.php5", False),
    ("/*.php$", "/filename?php", False),
    ("/*.php$", "/aaaphpaaa", False),
    ("/fish*.php", "/fish.php", True),
    ("/fish*.php", "/Fish.PHP", False),
]


@pytest.mark.parametrize(
    ("allow", "path", "allowed"),
    GOOGLE_DOCUMENTATION,
    ids=[f"allow[{a}]-{p}" for a, p, _ in GOOGLE_DOCUMENTATION],
)
def test_google_documentation_checks(allow: str, path: str, allowed: bool) -> None:
    assert decide(f"user-agent: mybot\ndisallow: /\nallow: {allow}", path).allowed is allowed


GOOGLE_PRECEDENCE = [
    # robots_test.cc ID_LongestMatch and "Order of precedence for group-member records".
    ("disallow: /x/page.html\nallow: /x/", "/x/page.html", False),
    ("allow: /x/page.html\ndisallow: /x/", "/x/page.html", True),
    ("allow: /x/page.html\ndisallow: /x/", "/x/", False),
    ("disallow: \nallow: ", "/x/page.html", True),
    ("disallow: /\nallow: /", "/x/page.html", True),
    ("disallow: /x\nallow: /x/", "/x", False),
    ("disallow: /x\nallow: /x/", "/x/", True),
    ("allow: /x/page.\ndisallow: /*.html", "/x/page.html", True),
    ("allow: /x/page.\ndisallow: /*.html", "/x/y.html", False),
    ("allow: /p\ndisallow: /", "/page", True),
    ("allow: /folder\ndisallow: /folder", "/folder/page", True),
    ("allow: /page\ndisallow: /*.htm", "/page.htm", False),
    ("allow: /$\ndisallow: /", "/", True),
    ("allow: /$\ndisallow: /", "/page.html", False),
    ("disallow: /foo/bar/quz\nallow: /foo/*/qux", "/foo/bar/quz", False),
    ("disallow: /foo/bar/quz\nallow: /foo/*/qux", "/foo//quz", True),
    ("disallow: /foo/bar$\nallow: /foo/bar/qux", "/foo/bar", False),
    ("disallow: /foo/bar$\nallow: /foo/bar/qux", "/foo/bar/baz", True),
]


@pytest.mark.parametrize(
    ("rules", "path", "allowed"),
    GOOGLE_PRECEDENCE,
    ids=[f"{r.replace(chr(10), ' + ')}-{p}" for r, p, _ in GOOGLE_PRECEDENCE],
)
def test_google_precedence(rules: str, path: str, allowed: bool) -> None:
    assert decide(f"user-agent: mybot\n{rules}", path).allowed is allowed


def test_google_groups_example() -> None:
    # robots_test.cc ID_LineSyntax_Groups.
    file = robots(
        "allow: /foo/bar/\n\nuser-agent: FooBot\ndisallow: /\nallow: /x/\nuser-agent: BarBot\n"
        "disallow: /\nallow: /y/\n\n\nallow: /w/\nuser-agent: BazBot\n\nuser-agent: FooBot\n"
        "allow: /z/\ndisallow: /\n"
    )
    expectations = [
        ("FooBot", "/x/b", True),
        ("FooBot", "/z/d", True),
        ("FooBot", "/y/c", False),
        ("BarBot", "/y/c", True),
        ("BarBot", "/w/a", True),
        ("BarBot", "/z/d", False),
        ("BazBot", "/z/d", True),
        ("FooBot", "/foo/bar/", False),
        ("BazBot", "/foo/bar/", False),
    ]
    for token, path, allowed in expectations:
        assert file.decide(token, path).allowed is allowed, (token, path)


def test_longest_pattern_counts_wildcards_and_normalised_octets() -> None:
    # "/*/*/*" (6 octets) beats "/a/b" (4) although it matches fewer specific characters.
    assert decide("User-agent: *\nAllow: /a/b\nDisallow: /*/*/*", "/a/b/c").allowed is False
    # "/%7E" normalises to "/~" (2 octets), so "/~x" (3) wins.
    assert decide("User-agent: *\nDisallow: /%7E\nAllow: /~x", "/~x").allowed
    decision = decide("User-agent: *\nDisallow: /\nAllow: /%7ea", "/~a")
    assert decision.rule == RobotsRule(True, "/%7ea", "/~a", 3)


def test_decision_reasons() -> None:
    file = robots("User-agent: *\nDisallow: /x")
    assert file.decide(TOKEN, "/x").reason == "matched"
    assert file.decide(TOKEN, "/y") == RobotsDecision(True, None, ("*",), "no_matching_rule")
    assert file.decide(TOKEN, "").reason == "no_matching_rule"  # empty path means "/"


NORMALISE_CASES = [
    ("/a/b?c=d&e=f", "/a/b?c=d&e=f"),
    ("/%7efoo", "/~foo"),
    ("/%41%2d%5F", "/A-_"),
    ("/%2f%3d%26", "/%2F%3D%26"),
    ("/é", "/%C3%A9"),
    ("/ツ", "/%E3%83%84"),
    ("/%e3%83%84", "/%E3%83%84"),
    ("/a b", "/a%20b"),
    ("/100%", "/100%25"),
    ("/%zz", "/%25zz"),
    ("/a*b$", "/a*b$"),
    ('/"<>\\^`{|}', "/%22%3C%3E%5C%5E%60%7B%7C%7D"),
]


@pytest.mark.parametrize(("raw", "expected"), NORMALISE_CASES, ids=[c[0] for c in NORMALISE_CASES])
def test_normalise_path(raw: str, expected: str) -> None:
    assert normalise_path(raw) == expected
    assert normalise_path(expected) == expected


PATH_CASES = [
    # robots_test.cc TestGetPathParamsQuery, absolute URLs only.
    ("http://www.example.com", "/"),
    ("http://www.example.com/", "/"),
    ("http://www.example.com/a", "/a"),
    ("http://www.example.com/a/", "/a/"),
    ("http://www.example.com/a/b?c=http://d.e/", "/a/b?c=http://d.e/"),
    ("http://www.example.com/a/b?c=d&e=f#fragment", "/a/b?c=d&e=f"),
    ("http://example.com?a", "/?a"),
    ("http://example.com/a;b#c", "/a;b"),
    ("https://user@h.example:8443/x/y?z", "/x/y?z"),
    ("https://[::1]:8080/v6", "/v6"),
    ("/already/a/path?q", "/already/a/path?q"),
]


@pytest.mark.parametrize(("url", "expected"), PATH_CASES, ids=[c[0] for c in PATH_CASES])
def test_path_and_query(url: str, expected: str) -> None:
    assert path_and_query(url) == expected


def test_robots_file_is_a_plain_value() -> None:
    file = robots("User-agent: a\nAllow: /x\nSitemap: s")
    assert file.decide("a", "/x").allowed  # fills the private caches
    expected = RobotsFile(
        (RobotsGroup(("a",), (RobotsRule(True, "/x", "/x", 2),), ()),), ("s",), ()
    )
    assert file == expected
    assert hash(file) == hash(expected)
    assert file.decide("a", "/x") == expected.decide("a", "/x")
    # Caches never leak into the value: asdict() is what evidence storage will serialise.
    assert json.loads(json.dumps(dataclasses.asdict(file))) == {
        "groups": [
            {
                "user_agents": ["a"],
                "rules": [{"allow": True, "pattern": "/x", "normalised": "/x", "line": 2}],
                "extensions": [],
            }
        ],
        "sitemaps": ["s"],
        "notes": [],
    }


# --- Hostile input ---------------------------------------------------------------------------


def test_pathological_wildcards_are_fast() -> None:
    path = "/" + "a" * 10_000
    patterns = ["/" + "*" * 1000 + "b", "/" + "*a" * 1000 + "b", "/" + "*a" * 1000 + "b$"]
    file = robots("User-agent: *\n" + "\n".join(f"Disallow: {p}" for p in patterns))
    start = time.perf_counter()
    for pattern in patterns:
        assert not pattern_matches(pattern, path)
        assert pattern_matches(pattern, path + "b")
    assert file.decide(TOKEN, path).allowed
    assert not file.decide(TOKEN, path + "b").allowed
    # A backtracking matcher takes minutes here; the bound only has to catch that, not time it.
    assert time.perf_counter() - start < 2.0


def test_parsing_500_kib_stays_bounded() -> None:
    lines = ["User-agent: *"]
    size = 0
    number = 0
    while size < 500 * 1024:
        line = (
            f"Disallow: /private/{number}/*.html?q=é&x=$" if number % 2 else f"Allow: /p/{number}/"
        )
        lines.append(line)
        size += len(line.encode()) + 1
        number += 1
    body = "\n".join(lines).encode()
    start = time.perf_counter()
    file = parse_robots(body)
    parse_seconds = time.perf_counter() - start
    assert len(file.groups[0].rules) == len(lines) - 1
    start = time.perf_counter()
    assert file.decide(TOKEN, "/p/8/x").allowed  # the first decision ranks the rules once
    first_seconds = time.perf_counter() - start
    assert file.decide(TOKEN, "/private/7/x.html?q=%C3%A9&x=").allowed is False
    assert file.decide(TOKEN, "/nowhere").reason == "no_matching_rule"
    # Generous bounds that only a quadratic parser or ranking would break (the benchmark times it).
    assert parse_seconds < 10.0
    assert first_seconds < 10.0


WHOLE_AND_FIRST_WORD = """\
User-agent: CCBot extra
Disallow: /a

User-agent: ccbot
Disallow: /b

User-agent: *
Disallow: /
"""


def test_decide_whole_named_ignores_first_word_groups_and_the_fallback() -> None:
    file = robots(WHOLE_AND_FIRST_WORD)
    assert not file.decide("CCBot", "/a").allowed  # select() merges the first-word group
    assert file.decide_whole_named("CCBot", "/a").allowed
    blocked = file.decide_whole_named("CCBot", "/b")
    assert (blocked.allowed, blocked.rule and blocked.rule.pattern) == (False, "/b")
    unnamed = file.decide_whole_named("GPTBot", "/anything")
    assert (unnamed.allowed, unnamed.rule, unnamed.reason) == (True, None, "no_group")
    assert file.decide_whole_named("CCBot", "/b") == blocked  # memoised selection, same answer
