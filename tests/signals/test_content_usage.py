"""aipref ``Content-Usage`` (``auditor.signals.content_usage``, optout-signals.md 6.1-6.3).

Only the tokens ``y``/``n`` state a preference; an upper-case key makes the whole field
unparseable; the last duplicate wins; older labels are legacy evidence without a verdict. In
robots.txt the selected group's records apply to crawlable paths only, the longest pattern
decides, ties are all recorded (and combined most restrictively by ``usage``), and a record
without a path is the least specific.
"""

from __future__ import annotations

import hashlib

import pytest

from auditor.crawl.origins import RobotsEntry
from auditor.crawl.robots import ExtensionRecord, policy_from_fetch
from auditor.model import Evaluation, Purpose, Scope, SignalRecord, Verdict
from auditor.signals.aitxt import parse_ai_txt
from auditor.signals.content_usage import (
    LEGACY_LABELS,
    Preferences,
    content_usage_header_signals,
    content_usage_robots_signals,
    parse_preferences,
    purposes_for,
    select_rules,
    split_rule,
)
from auditor.signals.evidence import FetchMeta, ImageEvidence, OriginEvidence
from auditor.signals.tdmrep import parse_tdmrep_file
from auditor.signals.usage import combine

ORIGIN = "https://img.example.org"
ROBOTS_URL = f"{ORIGIN}/robots.txt"
FETCHED = "2026-10-01T12:00:00+00:00"
IMAGE_FETCHED = "2026-10-01T12:00:05+00:00"
A, D, U = Verdict.ALLOWED, Verdict.DISALLOWED, Verdict.UNKNOWN

# optout-signals.md E34 (the reference's form: the first record has no path).
E34 = """\
User-Agent: *
Allow: /
Disallow: /never/
Content-Usage: train-ai=n
Content-Usage: /ai-ok/ train-ai=y

User-Agent: ExampleBot
Allow: /
Content-Usage: train-ai=y
"""


def robots_entry(
    body: str | None, status: int | None = 200, error: str | None = None
) -> RobotsEntry:
    raw = body.encode() if body is not None else None
    return RobotsEntry(
        origin=ORIGIN,
        source_url=ROBOTS_URL,
        final_url=ROBOTS_URL,
        policy=policy_from_fetch(status, raw, error=error),
        fetched_at=FETCHED,
        sha256=hashlib.sha256(raw).hexdigest() if raw is not None else None,
        expires_at=0.0,
    )


def _meta(name: str) -> FetchMeta:
    url = f"{ORIGIN}/{name}"
    return FetchMeta(url, url, 404, FETCHED, None, None)


def evidence(
    path: str = "/photos/a.jpg",
    *,
    robots: str | None = None,
    status: int | None = 200,
    error: str | None = None,
    tokens: tuple[str, ...] = (),
    headers: tuple[tuple[str, str], ...] | None = (),
) -> ImageEvidence:
    origin = OriginEvidence(
        origin=ORIGIN,
        robots=robots_entry(robots, status, error),
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
        status=None if headers is None else 200,
        fetched_at=None if headers is None else IMAGE_FETCHED,
        facts=None,
        pages=(),
    )


def header(*values: str) -> ImageEvidence:
    return evidence(
        headers=(("content-type", "image/jpeg"), *(("content-usage", v) for v in values))
    )


def verdicts(records: list[SignalRecord]) -> dict[str, Verdict]:
    """The combined usage, without the purposes nothing spoke about."""
    return {k: v for k, v in combine(records).usage.items() if v is not U}


def one(records: list[SignalRecord]) -> SignalRecord:
    assert len(records) == 1, records
    return records[0]


# --- the vocabulary ----------------------------------------------------------------------------


def test_e30_train_ai_n_is_a_disallow() -> None:
    prefs = parse_preferences("train-ai=n")
    assert prefs == Preferences({"train-ai": "n"}, {}, None)
    assert purposes_for(prefs) == {"ai-train": D}


def test_train_ai_y_allows_training_and_generative_training() -> None:
    assert purposes_for(parse_preferences("train-ai=y")) == {"ai-train": A, "genai-train": A}


def test_search_preferences() -> None:
    assert purposes_for(parse_preferences("search=n")) == {"search": D}
    assert purposes_for(parse_preferences("search=y, train-ai=n")) == {"search": A, "ai-train": D}


@pytest.mark.parametrize(
    ("value", "kept_as"),
    [
        ("train-ai=N", "N"),  # an upper-case token is not the token n
        ('train-ai="n"', '"n"'),  # a string, not a token
        ("train-ai", "?1"),  # a bare key is boolean true
        ("train-ai=?0", "?0"),  # a boolean
        ("train-ai=no", "no"),
        ("train-ai=1", "1"),
        ("train-ai=(n)", "(n)"),  # an inner list
    ],
)
def test_e31_only_the_tokens_y_and_n_count(value: str, kept_as: str) -> None:
    prefs = parse_preferences(value)
    assert prefs.error is None
    assert dict(prefs.values) == {}
    assert dict(prefs.other) == {"train-ai": kept_as}
    assert purposes_for(prefs) == {}


def test_e32_upper_case_key_makes_the_whole_field_unparseable() -> None:
    prefs = parse_preferences("search=n, Train-AI=n")
    assert prefs.error is not None
    assert "uppercase" in prefs.error
    assert (dict(prefs.values), dict(prefs.other)) == ({}, {})
    assert purposes_for(prefs) == {}
    assert prefs.normalised().startswith("error: ")


def test_e33_old_label_is_legacy_evidence_only() -> None:
    prefs = parse_preferences("train-genai=n")
    assert dict(prefs.values) == {"train-genai": "n"}
    assert purposes_for(prefs) == {}
    assert LEGACY_LABELS["train-genai"] == ("genai-train",)


def test_legacy_label_table() -> None:
    assert dict(LEGACY_LABELS) == {
        "tdm": ("tdm",),
        "ai": ("ai-train",),
        "genai": ("genai-train",),
        "train-genai": ("genai-train",),
        "inference": ("ai-input",),
        "ai-use": ("ai-input",),
        "all": ("search", "tdm", "ai-train", "genai-train", "ai-input"),
    }
    assert Purpose.CRAWL.value not in LEGACY_LABELS["all"]


def test_last_duplicate_wins_even_when_it_is_not_a_token() -> None:
    assert purposes_for(parse_preferences("train-ai=y, train-ai=n")) == {"ai-train": D}
    assert purposes_for(parse_preferences("train-ai=n, train-ai=y")) == {
        "ai-train": A,
        "genai-train": A,
    }
    # vocabulary draft, "Multiple Preferences": everything ends up unknown
    prefs = parse_preferences('train-ai=y, train-ai, search=n, search="n"')
    assert purposes_for(prefs) == {}
    assert dict(prefs.other) == {"train-ai": "?1", "search": '"n"'}


def test_parameters_are_ignored() -> None:
    # vocabulary draft, "Preference Parameters"
    assert purposes_for(parse_preferences("train-ai;allow=n, train-ai=y")) == {
        "ai-train": A,
        "genai-train": A,
    }
    prefs = parse_preferences('train-ai;has;parameters="?"')
    assert dict(prefs.other) == {"train-ai": "?1"}


@pytest.mark.parametrize(
    ("value", "other"),
    [
        # RFC 9651 3.2 examples
        ('en="Applepie", da=:w4ZibGV0w6ZydGUK:', {"en": '"Applepie"', "da": ":w4ZibGV0w6ZydGUK:"}),
        ("a=?0, b, c;foo=bar", {"a": "?0", "b": "?1", "c": "?1"}),
        ("rating=1.5, feelings=(joy sadness)", {"rating": "1.5", "feelings": "(joy sadness)"}),
    ],
)
def test_rfc9651_dictionary_examples(value: str, other: dict[str, str]) -> None:
    prefs = parse_preferences(value)
    assert prefs.error is None
    assert dict(prefs.other) == other


@pytest.mark.parametrize(
    "value",
    [
        "train-ai=n,",  # trailing comma
        "train-ai = n",  # no whitespace around '='
        "train-ai=n search=y",  # missing comma
        "_a=n",  # key must start with lcalpha or '*'
        "1a=n",
        "train-ai=n, ,search=y",
        "tráin-ai=n",  # the field is bytes; non-ASCII is a syntax error
        "train-ai=\udcff",
        'a="unterminated',
    ],
)
def test_syntax_errors_make_everything_unknown(value: str) -> None:
    prefs = parse_preferences(value)
    assert prefs.error
    assert purposes_for(prefs) == {}


def test_whitespace_is_http_whitespace() -> None:
    assert purposes_for(parse_preferences(" \ttrain-ai=n ,\tsearch=y\t ")) == {
        "ai-train": D,
        "search": A,
    }
    assert parse_preferences("").error is None  # empty Dictionary: nothing stated
    assert parse_preferences("*star=n").values == {"*star": "n"}


# --- the header --------------------------------------------------------------------------------


def test_e30_header_record() -> None:
    ev = header("train-ai=n")
    record = one(content_usage_header_signals(ev))
    assert record.mechanism == "content_usage.header"
    assert record.scope is Scope.RESPONSE
    assert record.source_url == ev.url
    assert record.applies_to == ev.url
    assert record.raw_value == "train-ai=n"
    assert record.parsed == "train-ai=n"
    assert dict(record.purposes) == {"ai-train": D}
    assert record.fetched_at == IMAGE_FETCHED
    assert record.http_status == 200
    assert record.token is None
    assert record.evaluation is Evaluation.EVALUATED
    assert verdicts([record]) == {"ai-train": D, "genai-train": D}
    assert combine([record]).usage["search"] is U


@pytest.mark.parametrize("value", ["train-ai=N", 'train-ai="n"', "train-ai", "train-ai=?0"])
def test_e31_header_gives_unknown_but_is_recorded(value: str) -> None:
    record = one(content_usage_header_signals(header(value)))
    assert record.raw_value == value
    assert dict(record.purposes) == {}
    assert "not_a_preference_token" in record.notes
    assert verdicts([record]) == {}


def test_e32_header_records_the_parse_error() -> None:
    record = one(content_usage_header_signals(header("Train-AI=n")))
    assert record.raw_value == "Train-AI=n"
    assert record.parsed is not None
    assert record.parsed.startswith("error: ")
    assert "parse_error" in record.notes
    assert dict(record.purposes) == {}


def test_e33_header_legacy_label_points_at_genai_train() -> None:
    record = one(content_usage_header_signals(header("train-genai=n")))
    assert dict(record.purposes) == {}
    assert "legacy_label" in record.notes
    assert "legacy:genai-train=n" in record.notes
    assert verdicts([record]) == {}


def test_legacy_all_points_at_every_usage_purpose() -> None:
    record = one(content_usage_header_signals(header("all=n")))
    assert {n for n in record.notes if n.startswith("legacy:")} == {
        f"legacy:{p}=n" for p in ("search", "tdm", "ai-train", "genai-train", "ai-input")
    }


def test_unknown_label_is_recorded() -> None:
    record = one(content_usage_header_signals(header("bots=n, train-ai=n")))
    assert "unknown_label" in record.notes
    assert dict(record.purposes) == {"ai-train": D}


def test_repeated_header_lines_are_one_field_last_wins() -> None:
    record = one(content_usage_header_signals(header("train-ai=n", "", "search=y, train-ai=y")))
    assert record.raw_value == "train-ai=n, search=y, train-ai=y"
    assert "combined_field_lines" in record.notes
    assert dict(record.purposes) == {"ai-train": A, "genai-train": A, "search": A}


def test_a_bad_line_spoils_the_combined_field() -> None:
    record = one(content_usage_header_signals(header("train-ai=n", "Search=y")))
    assert dict(record.purposes) == {}
    assert "parse_error" in record.notes


def test_header_name_is_case_insensitive() -> None:
    ev = evidence(headers=(("Content-Usage", "train-ai=n"),))
    assert dict(one(content_usage_header_signals(ev)).purposes) == {"ai-train": D}


def test_no_header_no_record() -> None:
    assert content_usage_header_signals(header()) == []


def test_no_response_is_not_evaluated() -> None:
    record = one(content_usage_header_signals(evidence(headers=None)))
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.notes == ("no_response",)
    assert dict(record.purposes) == {}
    assert verdicts([record]) == {}


# --- robots.txt --------------------------------------------------------------------------------


def test_split_rule() -> None:
    assert split_rule("/ai-ok/ train-ai=y") == ("/ai-ok/", "train-ai=y")
    assert split_rule("/ai-ok/\t train-ai=y, search=n") == ("/ai-ok/", "train-ai=y, search=n")
    assert split_rule("train-ai=n") == (None, "train-ai=n")
    assert split_rule("*=n") == (None, "*=n")
    assert split_rule("/only-a-path") == ("/only-a-path", "")


@pytest.mark.parametrize(
    ("path", "tokens", "expected"),
    [
        ("/test", (), {"ai-train": D, "genai-train": D}),
        ("/test", ("mybot",), {"ai-train": D, "genai-train": D}),
        ("/ai-ok/x", (), {"ai-train": A, "genai-train": A}),
        ("/ai-ok/x", ("mybot",), {"ai-train": A, "genai-train": A}),
        ("/never/x", (), {}),
        ("/never/x", ("mybot",), {}),
        ("/test", ("ExampleBot",), {"ai-train": A, "genai-train": A}),
        ("/never/x", ("examplebot",), {"ai-train": A, "genai-train": A}),
        ("/ai-ok/x", ("ExampleBot",), {"ai-train": A, "genai-train": A}),
    ],
)
def test_e34(path: str, tokens: tuple[str, ...], expected: dict[str, Verdict]) -> None:
    records = content_usage_robots_signals(evidence(path, robots=E34, tokens=tokens))
    assert verdicts(records) == expected
    if expected:
        assert len(records) == 1
    else:
        assert records == []  # not crawlable: no preference at all


def test_e34_record_fields() -> None:
    body = E34
    ev = evidence("/ai-ok/x", robots=body)
    record = one(content_usage_robots_signals(ev))
    assert record.mechanism == "robots.content_usage"
    assert record.scope is Scope.ORIGIN
    assert record.source_url == ROBOTS_URL
    assert record.applies_to == f"{ORIGIN}/ai-ok/x"
    assert record.raw_value == "Content-Usage: /ai-ok/ train-ai=y (line 5)"
    assert record.parsed == "train-ai=y"
    assert record.fetched_at == FETCHED
    assert record.http_status == 200
    assert record.sha256 == hashlib.sha256(body.encode()).hexdigest()
    assert record.token == "*"
    assert "no_declared_token" in record.notes

    fallback = one(content_usage_robots_signals(evidence("/test", robots=body)))
    assert fallback.raw_value == "Content-Usage: train-ai=n (line 4)"
    assert "no_path_pattern" in fallback.notes

    example = one(
        content_usage_robots_signals(evidence("/test", robots=body, tokens=("ExampleBot",)))
    )
    assert example.token == "ExampleBot"
    assert example.raw_value == "Content-Usage: train-ai=y (line 9)"
    assert "no_declared_token" not in example.notes


def test_attach_draft_example_with_paths() -> None:
    body = E34.replace("Content-Usage: train", "Content-Usage: / train")
    for path, expected in [("/test", D), ("/ai-ok/test", A)]:
        records = content_usage_robots_signals(evidence(path, robots=body, tokens=("mybot",)))
        assert verdicts(records)["ai-train"] is expected


def test_identical_patterns_combine_most_restrictively() -> None:
    body = "User-agent: *\nContent-Usage: /a/ train-ai=y\nContent-Usage: /a/ train-ai=n, search=y\n"
    records = content_usage_robots_signals(evidence("/a/x.jpg", robots=body))
    assert len(records) == 2
    assert all("combined_most_restrictive" in r.notes for r in records)
    assert verdicts(records) == {"ai-train": D, "genai-train": D, "search": A}


def test_order_of_lines_has_no_meaning() -> None:
    lines = ["Content-Usage: /a/ train-ai=n", "Content-Usage: /a/b train-ai=y", "Allow: /"]
    for body in ("\n".join(["User-agent: *", *lines]), "\n".join(["User-agent: *", *lines[::-1]])):
        records = content_usage_robots_signals(evidence("/a/b.jpg", robots=body))
        assert verdicts(records)["ai-train"] is A


def test_longest_pattern_wins_even_when_it_states_nothing() -> None:
    body = "User-agent: *\nContent-Usage: train-ai=n\nContent-Usage: /a/ ai=n\n"
    record = one(content_usage_robots_signals(evidence("/a/x", robots=body)))
    assert dict(record.purposes) == {}
    assert "legacy:ai-train=n" in record.notes


def test_a_path_pattern_beats_no_path() -> None:
    body = "User-agent: *\nContent-Usage: train-ai=n\nContent-Usage: / train-ai=y\n"
    record = one(content_usage_robots_signals(evidence("/x", robots=body)))
    assert dict(record.purposes) == {"ai-train": A, "genai-train": A}


def test_wildcards_and_end_anchor_like_allow_disallow() -> None:
    body = "User-agent: *\nContent-Usage: /*.jpg$ train-ai=n\nContent-Usage: / train-ai=y\n"
    assert (
        verdicts(content_usage_robots_signals(evidence("/p/a.jpg", robots=body)))["ai-train"] is D
    )
    assert (
        verdicts(content_usage_robots_signals(evidence("/p/a.jpg?x=1", robots=body)))["ai-train"]
        is A
    )


def test_unparseable_robots_value_is_recorded_with_its_error() -> None:
    body = "User-agent: *\nContent-Usage: / Train-AI=n\n"
    record = one(content_usage_robots_signals(evidence("/x", robots=body)))
    assert dict(record.purposes) == {}
    assert record.parsed is not None
    assert record.parsed.startswith("error: ")
    assert "parse_error" in record.notes


def test_star_group_records_do_not_apply_to_a_named_crawler() -> None:
    body = "User-agent: *\nContent-Usage: train-ai=n\n\nUser-agent: mybot\nAllow: /\n"
    assert content_usage_robots_signals(evidence(robots=body, tokens=("mybot",))) == []
    assert len(content_usage_robots_signals(evidence(robots=body, tokens=("otherbot",)))) == 1


def test_one_set_of_records_per_declared_token() -> None:
    records = content_usage_robots_signals(
        evidence("/test", robots=E34, tokens=("mybot", "ExampleBot"))
    )
    assert [(r.token, dict(r.purposes)) for r in records] == [
        ("mybot", {"ai-train": D}),
        ("ExampleBot", {"ai-train": A, "genai-train": A}),
    ]


def test_other_groups_are_not_evidence() -> None:
    body = "User-agent: otherbot\nContent-Usage: train-ai=n\n"
    assert content_usage_robots_signals(evidence(robots=body)) == []


def test_unavailable_robots_gives_nothing() -> None:
    assert content_usage_robots_signals(evidence(robots="ignored", status=404)) == []


@pytest.mark.parametrize(("status", "error"), [(503, None), (429, None), (None, "timeout")])
def test_unreachable_robots_is_one_not_evaluated_record(
    status: int | None, error: str | None
) -> None:
    record = one(
        content_usage_robots_signals(
            evidence(robots=None, status=status, error=error, tokens=("a", "b"))
        )
    )
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.mechanism == "robots.content_usage"
    assert "robots_unreachable" in record.notes
    assert record.http_status == status
    assert dict(record.purposes) == {}


def test_robots_parse_notes_are_carried() -> None:
    body = "User-agent: *\nDisallow /private\nContent-Usage: train-ai=n\n"
    record = one(content_usage_robots_signals(evidence("/x", robots=body)))
    assert "lenient_parse" in record.notes


def test_select_rules_prefers_longest_and_keeps_ties() -> None:
    records = [
        ExtensionRecord("content-usage", "train-ai=n", 1),
        ExtensionRecord("content-usage", "/a train-ai=n", 2),
        ExtensionRecord("content-usage", "/a* train-ai=y", 3),
        ExtensionRecord("content-usage", "/*b search=n", 4),
        ExtensionRecord("content-usage", "/zzz train-ai=y", 5),
    ]
    assert [r.line for r in select_rules(records, "/ab")] == [3, 4]
    assert [r.line for r in select_rules(records, "/a")] == [3]  # '*' also matches nothing
    assert [r.line for r in select_rules(records[:2], "/a")] == [2]
    assert [r.line for r in select_rules(records, "/q")] == [1]
    assert select_rules(records[1:2], "/q") == ()


def test_percent_encoding_is_normalised_for_length_and_match() -> None:
    body = "User-agent: *\nContent-Usage: /%7Euser/ train-ai=n\nContent-Usage: /~use train-ai=y\n"
    # '/%7Euser/' normalises to '/~user/' (7 octets) and beats '/~use' (5)
    record = one(content_usage_robots_signals(evidence("/~user/a.jpg", robots=body)))
    assert dict(record.purposes) == {"ai-train": D}
