"""Spawning ai.txt (``auditor.signals.aitxt``, optout-signals.md section 4).

Robots-style files are read with the robots.txt group selection and longest-match rules, for
each declared token (``*`` when none); Disallow gives ai-train disallowed, Allow gives ai-train
allowed, no match gives nothing. Upper-case extensions escaping lower-case patterns are applied as
written but flagged. Other formats are recorded as unrecognised; a missing file records nothing;
a fetch the auditor could not make is recorded as not evaluated.
"""

from __future__ import annotations

import hashlib

import pytest

from auditor.crawl.origins import RobotsEntry
from auditor.crawl.robots import policy_from_fetch
from auditor.model import Evaluation, Scope, Verdict
from auditor.signals.aitxt import (
    FORMAT_ROBOTS,
    FORMAT_UNAVAILABLE,
    FORMAT_UNRECOGNISED,
    MAX_AI_TXT_BYTES,
    SNIFF_CHARS,
    AiTxtFile,
    ai_txt_signals,
    parse_ai_txt,
    sniff_ai_txt,
)
from auditor.signals.evidence import FetchMeta, ImageEvidence, OriginEvidence
from auditor.signals.tdmrep import parse_tdmrep_file
from auditor.signals.usage import combine

ORIGIN = "https://img.example.org"
AI_TXT_URL = f"{ORIGIN}/ai.txt"
FETCHED_AT = "2026-10-01T12:00:00+00:00"
D, A = Verdict.DISALLOWED, Verdict.ALLOWED

# The shape of files produced by Spawning's generator: a * group, one Disallow per extension.
SPAWNING = """\
# Spawning AI
# Prevent datasets from using the following file types

User-Agent: *
Disallow: *.jpg
Disallow: *.jpeg
Disallow: *.png
Disallow: *.gif
Disallow: *.txt
"""

MARKDOWN = """\
# AI usage policy

We do **not** allow training on our images.

- Contact: [legal](https://example.org/legal)
"""

MARKDOWN_FENCED_ROBOTS = """\
# ai.txt

```
User-agent: *
Disallow: /
```
"""

YAML = """\
version: 1
policies:
  training: disallowed
  inference: allowed
"""

YAML_WITH_ROBOTS_KEYS = """\
---
User-agent: "*"
Disallow: "/"
"""

HTML = """\
<!DOCTYPE html>
<html><head><title>Page not found</title></head>
<body><p>Sorry.</p></body></html>
"""


def origin(
    body: str | bytes | None = SPAWNING,
    status: int | None = 200,
    error: str | None = None,
) -> OriginEvidence:
    raw = body.encode() if isinstance(body, str) else body
    kept = raw if error is None else None
    robots = RobotsEntry(
        origin=ORIGIN,
        source_url=f"{ORIGIN}/robots.txt",
        final_url=f"{ORIGIN}/robots.txt",
        policy=policy_from_fetch(404, None),
        fetched_at=FETCHED_AT,
        sha256=None,
        expires_at=0.0,
    )
    tdmrep_url = f"{ORIGIN}/.well-known/tdmrep.json"
    meta = FetchMeta(
        source_url=AI_TXT_URL,
        final_url=AI_TXT_URL,
        status=status,
        fetched_at=FETCHED_AT,
        sha256=hashlib.sha256(kept).hexdigest() if kept is not None else None,
        error=error,
    )
    return OriginEvidence(
        origin=ORIGIN,
        robots=robots,
        tdmrep_meta=FetchMeta(tdmrep_url, tdmrep_url, 404, FETCHED_AT, None, None),
        tdmrep=parse_tdmrep_file(404, None, None),
        ai_txt_meta=meta,
        ai_txt=parse_ai_txt(status, kept, error),
    )


def image(
    path: str = "/photos/a.jpg",
    where: OriginEvidence | None = None,
    tokens: tuple[str, ...] = ("AcmeBot",),
) -> ImageEvidence:
    return ImageEvidence(
        url=f"{ORIGIN}{path}",
        tokens=tokens,
        origin=where if where is not None else origin(),
        response_headers=(),
        status=200,
        fetched_at=FETCHED_AT,
        facts=None,
        pages=(),
    )


# --- parse_ai_txt and sniffing ------------------------------------------------------------------


def test_spawning_file_is_robots_style() -> None:
    parsed = parse_ai_txt(200, SPAWNING.encode(), None)
    assert parsed.format == FORMAT_ROBOTS
    assert parsed.reason is None
    assert parsed.robots is not None
    (group,) = parsed.robots.groups
    assert group.user_agents == ("*",)
    assert [rule.pattern for rule in group.rules] == ["*.jpg", "*.jpeg", "*.png", "*.gif", "*.txt"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(MARKDOWN, "markdown", id="markdown"),
        pytest.param(MARKDOWN_FENCED_ROBOTS, "markdown", id="markdown-fenced-robots"),
        pytest.param("User-agent: *\n- Disallow: /\n", "markdown", id="markdown-bullet"),
        pytest.param(YAML, "yaml", id="yaml"),
        pytest.param(YAML_WITH_ROBOTS_KEYS, "yaml", id="yaml-document-marker"),
        pytest.param(HTML, "html", id="html-page"),
        pytest.param("User-agent: *\n<p>Disallow: /</p>\n", "html", id="html-fragment"),
        pytest.param("", "empty", id="empty"),
        pytest.param(" \n\n# only comments\n", "no_robots_records", id="comments-only"),
        pytest.param("We do not consent to AI training.\n", "no_robots_records", id="prose"),
        pytest.param("Disallow: /\n", "no_robots_records", id="no-user-agent"),
        pytest.param("User-agent: *\n", "no_robots_records", id="no-rules"),
    ],
)
def test_unrecognised_formats(body: str, reason: str) -> None:
    parsed = parse_ai_txt(200, body.encode(), None)
    assert parsed == AiTxtFile(FORMAT_UNRECOGNISED, None, reason)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("User-agent: *\nDisallow: /**/raw/\n", id="double-star-pattern"),
        pytest.param("  User-agent: *\n  Disallow: /x\n", id="indented"),
        pytest.param("User-agent: *\nDisallow /x\n", id="missing-colon"),
        pytest.param("\ufeffUser-agent: *\nAllow: /\n", id="bom"),
        pytest.param(
            "User-agent: *\nCrawl-delay: 5\nRequest-rate: 1/5\nDisallow: /x\n", id="extensions"
        ),
        pytest.param("User-agent: *\nDisallow: /x # see [notes](/n)\n", id="comment-after-rule"),
        pytest.param("## Section heading\nUser-agent: *\nDisallow: /x\n", id="hash-comments"),
    ],
)
def test_robots_style_variants(body: str) -> None:
    assert sniff_ai_txt(body) is None
    assert parse_ai_txt(200, body.encode(), None).format == FORMAT_ROBOTS


@pytest.mark.parametrize("status", [404, 410, 403, 500, 503, 429, 301, 0, None])
def test_non_2xx_bodies_are_never_parsed(status: int | None) -> None:
    parsed = parse_ai_txt(status, SPAWNING.encode(), None)
    assert parsed == AiTxtFile(FORMAT_UNAVAILABLE, None, f"HTTP {status}")


@pytest.mark.parametrize("error", ["robots_disallowed", "connect_error", "too_large"])
def test_fetch_errors_are_unavailable(error: str) -> None:
    assert parse_ai_txt(200, SPAWNING.encode(), error) == AiTxtFile(FORMAT_UNAVAILABLE, None, error)


def test_large_file_is_parsed_up_to_the_limit() -> None:
    head = "User-agent: *\nDisallow: *.jpg\n"
    body = (head + "#" * (MAX_AI_TXT_BYTES + 100) + "\nDisallow: *.png\n").encode()
    parsed = parse_ai_txt(200, body, None)
    assert parsed.robots is not None
    assert [rule.pattern for rule in parsed.robots.groups[0].rules] == ["*.jpg"]
    assert "truncated" in parsed.robots.notes


def test_markers_are_sniffed_at_the_start_only() -> None:
    rules = "User-agent: *\nDisallow: *.jpg\n"
    late_markdown = rules + "#" * SNIFF_CHARS + "\n- a bullet\n"
    assert sniff_ai_txt(late_markdown) is None
    assert sniff_ai_txt(rules + "- a bullet\n") == "markdown"


def test_records_count_beyond_the_sniffing_window() -> None:
    late_rule = "User-agent: *\n" + "#" * SNIFF_CHARS + "\nDisallow: *.jpg\n"
    assert sniff_ai_txt(late_rule) is None


def test_invalid_utf8_is_tolerated() -> None:
    parsed = parse_ai_txt(200, b"User-agent: *\nDisallow: /caf\xe9/\n", None)
    assert parsed.format == FORMAT_ROBOTS
    assert parsed.robots is not None
    assert "invalid_utf8" in parsed.robots.notes


# --- signals ------------------------------------------------------------------------------------


def test_spawning_disallow_gives_ai_train_disallowed() -> None:
    records = ai_txt_signals(image("/photos/a.jpg"))
    (record,) = records
    assert record.mechanism == "ai_txt"
    assert record.scope is Scope.ORIGIN
    assert record.source_url == AI_TXT_URL
    assert record.applies_to == f"{ORIGIN}/photos/a.jpg"
    assert record.raw_value == "Disallow: *.jpg (line 5)"
    assert record.parsed == "disallowed"
    assert dict(record.purposes) == {"ai-train": D}
    assert record.token == "AcmeBot"
    assert record.http_status == 200
    assert record.fetched_at == FETCHED_AT
    assert record.sha256 == hashlib.sha256(SPAWNING.encode()).hexdigest()
    assert record.evaluation is Evaluation.EVALUATED
    assert record.notes == ()
    usage = combine(records).usage  # implications are applied by usage, not by the mechanism
    assert (usage["ai-train"], usage["genai-train"], usage["tdm"]) == (D, D, Verdict.UNKNOWN)


def test_extension_patterns_match_anywhere_and_with_queries() -> None:
    (record,) = ai_txt_signals(image("/a/b/c/photo.png?w=300"))
    assert record.raw_value == "Disallow: *.png (line 7)"


def test_no_matching_rule_records_nothing() -> None:
    assert ai_txt_signals(image("/photos/a.webp")) == []


def test_allow_gives_ai_train_allowed() -> None:
    body = "User-agent: *\nDisallow: /\nAllow: /public/*.jpg$\n"
    (record,) = ai_txt_signals(image("/public/a.jpg", origin(body)))
    assert dict(record.purposes) == {"ai-train": A}
    assert record.parsed == "allowed"
    assert record.raw_value == "Allow: /public/*.jpg$ (line 3)"


def test_longest_pattern_wins() -> None:
    body = "User-agent: *\nAllow: /\nDisallow: /private/\n"
    (record,) = ai_txt_signals(image("/private/a.jpg", origin(body)))
    assert dict(record.purposes) == {"ai-train": D}


def test_declared_token_group_shadows_star() -> None:
    body = "User-agent: *\nDisallow: /\n\nUser-agent: acmebot\nDisallow: /private/\n"
    where = origin(body)
    assert ai_txt_signals(image("/public/a.jpg", where)) == []
    (record,) = ai_txt_signals(image("/private/a.jpg", where))
    assert record.raw_value == "Disallow: /private/ (line 5)"


def test_one_record_per_deciding_token() -> None:
    body = "User-agent: AcmeBot\nDisallow: /\n\nUser-agent: OtherBot\nAllow: /\n"
    records = ai_txt_signals(image("/a.jpg", origin(body), ("AcmeBot", "OtherBot", "ThirdBot")))
    assert [(r.token, dict(r.purposes)) for r in records] == [
        ("AcmeBot", {"ai-train": D}),
        ("OtherBot", {"ai-train": A}),
    ]
    assert combine(records).usage["ai-train"] is D
    assert combine(records).conflicts == ("ai-train",)


def test_no_declared_token_uses_star_and_says_so() -> None:
    (record,) = ai_txt_signals(image("/a.jpg", tokens=()))
    assert record.token == "*"
    assert record.notes == ("no_declared_token",)


def test_parse_notes_are_carried() -> None:
    (record,) = ai_txt_signals(image("/a.jpg", origin("User-agent: *\nDisallow *.jpg\n")))
    assert record.notes == ("lenient_parse",)


def test_other_groups_only_give_nothing() -> None:
    assert ai_txt_signals(image("/a.jpg", origin("User-agent: OtherBot\nDisallow: /\n"))) == []


# --- case-sensitive matching and the upper-case extension escape --------------------------------


def test_upper_case_extension_escapes_and_is_flagged() -> None:
    records = ai_txt_signals(image("/photos/A.JPG"))
    (record,) = records
    assert dict(record.purposes) == {}
    assert record.notes == ("case_mismatch_suspected",)
    assert record.raw_value is None
    assert (
        record.parsed
        == "no matching rule; with the extension lower-cased: Disallow: *.jpg (line 5)"
    )
    assert combine(records).usage["ai-train"] is Verdict.UNKNOWN  # applied as written


def test_mixed_case_extension_with_query_is_flagged() -> None:
    (record,) = ai_txt_signals(image("/photos/a.Png?size=l"))
    assert record.notes == ("case_mismatch_suspected",)


def test_escape_that_changes_an_allow_into_disallow_is_flagged() -> None:
    body = "User-agent: *\nAllow: /\nDisallow: /photos/*.jpg\n"
    (record,) = ai_txt_signals(image("/photos/a.JPG", origin(body)))
    assert dict(record.purposes) == {"ai-train": A}
    assert record.notes == ("case_mismatch_suspected",)
    assert record.parsed == (
        "allowed; with the extension lower-cased: Disallow: /photos/*.jpg (line 3)"
    )


def test_upper_case_extension_already_covered_is_not_flagged() -> None:
    body = SPAWNING + "Disallow: /\n"
    (record,) = ai_txt_signals(image("/photos/A.JPG", origin(body)))
    assert dict(record.purposes) == {"ai-train": D}
    assert record.notes == ()


@pytest.mark.parametrize(
    "path", ["/photos/a.jpg", "/PHOTOS/a.webp", "/photos.JPG/a", "/photos/README", "/.JPG"]
)
def test_no_flag_without_an_upper_case_extension_escape(path: str) -> None:
    for record in ai_txt_signals(image(path)):
        assert "case_mismatch_suspected" not in record.notes


def test_upper_case_pattern_is_case_sensitive_too() -> None:
    body = "User-agent: *\nDisallow: *.JPG\n"
    assert ai_txt_signals(image("/a.jpg", origin(body))) == []


# --- unrecognised and unavailable files ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"), [(MARKDOWN, "markdown"), (YAML, "yaml"), (HTML, "html")]
)
def test_unrecognised_format_is_one_record_without_verdict(body: str, reason: str) -> None:
    records = ai_txt_signals(image("/a.jpg", origin(body), ("AcmeBot", "OtherBot")))
    (record,) = records
    assert record.evaluation is Evaluation.EVALUATED
    assert dict(record.purposes) == {}
    assert record.notes == ("unrecognised_format",)
    assert record.parsed == f"unrecognised format: {reason}"
    assert record.token is None
    assert record.sha256 == hashlib.sha256(body.encode()).hexdigest()
    assert combine(records).usage["ai-train"] is Verdict.UNKNOWN


@pytest.mark.parametrize("status", [404, 410, 401, 403])
def test_missing_file_records_nothing(status: int) -> None:
    assert ai_txt_signals(image("/a.jpg", origin("Not found", status))) == []


@pytest.mark.parametrize(
    ("error", "note"),
    [
        ("robots_disallowed", "robots_disallowed"),
        ("robots_unreachable", "robots_unreachable"),
        ("connect_error", "fetch_error"),
        ("timeout", "fetch_error"),
    ],
)
def test_fetch_not_made_is_not_evaluated(error: str, note: str) -> None:
    (record,) = ai_txt_signals(image("/a.jpg", origin(None, None, error)))
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.notes == ("not_evaluated", note)
    assert record.parsed == f"ai.txt not fetched: {error}"
    assert dict(record.purposes) == {}


@pytest.mark.parametrize("status", [500, 503, 429])
def test_transient_status_is_not_evaluated(status: int) -> None:
    (record,) = ai_txt_signals(image("/a.jpg", origin(SPAWNING, status)))
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.notes == ("not_evaluated", "unreachable")
    assert record.http_status == status


def test_too_large_fetch_is_an_error() -> None:
    (record,) = ai_txt_signals(image("/a.jpg", origin(None, 200, "too_large")))
    assert record.evaluation is Evaluation.ERROR
    assert record.notes == ("too_large",)
