"""``X-Robots-Tag`` and robots meta evidence (``auditor.signals.robots_meta``, reference section 2).

Each header line starts generic and a bot name scopes the rest of that line; only the generic
rules and those for a declared token apply; page ``noai``/``noimageai``/``noimageindex`` flow
down to embedded images as ``propagated`` records; every line or tag is kept as evidence, and a
record names only the purposes its value states (implications are applied by ``usage``).
"""

from __future__ import annotations

import time

import pytest

from auditor.crawl.origins import FetchMeta, RobotsEntry
from auditor.crawl.robots import policy_from_fetch
from auditor.model import Evaluation, Scope, SignalRecord, Verdict
from auditor.signals.aitxt import parse_ai_txt
from auditor.signals.evidence import ImageEvidence, OriginEvidence, PageEvidence
from auditor.signals.robots_meta import (
    PROPAGATING,
    RobotsDirectives,
    effective,
    meta_robots_signals,
    page_meta_robots_signals,
    page_x_robots_tag_signals,
    parse_meta_robots,
    parse_robots_header,
    purposes_for,
    x_robots_tag_signals,
)
from auditor.signals.tdmrep import parse_tdmrep_file
from auditor.signals.usage import combine

ORIGIN = "https://img.example.org"
IMAGE = f"{ORIGIN}/photos/a.jpg"
PAGE = "https://www.example.org/gallery.html"
PAGE_2 = "https://www.example.org/blog/post.html"
FETCHED = "2026-10-01T12:00:00+00:00"
PAGE_FETCHED = "2026-10-01T11:59:00+00:00"
TOKENS = ("mybot",)
AI, SEARCH = "ai-train", "search"
D = Verdict.DISALLOWED


def _meta(name: str) -> FetchMeta:
    url = f"{ORIGIN}/{name}"
    return FetchMeta(url, url, 404, FETCHED, None, None)


def origin() -> OriginEvidence:
    robots = RobotsEntry(
        origin=ORIGIN,
        source_url=f"{ORIGIN}/robots.txt",
        final_url=f"{ORIGIN}/robots.txt",
        policy=policy_from_fetch(404, None),
        fetched_at=FETCHED,
        sha256=None,
        expires_at=0.0,
    )
    return OriginEvidence(
        origin=ORIGIN,
        robots=robots,
        tdmrep_meta=_meta(".well-known/tdmrep.json"),
        tdmrep=parse_tdmrep_file(404, None, None),
        ai_txt_meta=_meta("ai.txt"),
        ai_txt=parse_ai_txt(404, None, None),
    )


def page(
    url: str = PAGE,
    *,
    xrt: tuple[str, ...] = (),
    metas: tuple[tuple[str, str], ...] = (),
    status: int | None = 200,
) -> PageEvidence:
    return PageEvidence(
        url=url,
        status=status,
        fetched_at=PAGE_FETCHED,
        headers=(("content-type", "text/html"), *(("x-robots-tag", v) for v in xrt)),
        meta_robots=metas,
        tdm_meta=(),
    )


def image(
    *xrt: str,
    pages: tuple[PageEvidence, ...] = (),
    tokens: tuple[str, ...] = TOKENS,
    headers: tuple[tuple[str, str], ...] | None = None,
    no_response: bool = False,
) -> ImageEvidence:
    if headers is None:
        headers = (("content-type", "image/jpeg"), *(("x-robots-tag", v) for v in xrt))
    return ImageEvidence(
        url=IMAGE,
        tokens=tokens,
        origin=origin(),
        response_headers=None if no_response else headers,
        status=None if no_response else 200,
        fetched_at=None if no_response else FETCHED,
        facts=None,
        pages=pages,
    )


def one(records: list[SignalRecord]) -> SignalRecord:
    assert len(records) == 1, records
    return records[0]


def response_records(evidence: ImageEvidence) -> list[SignalRecord]:
    return [r for r in x_robots_tag_signals(evidence) if r.scope is Scope.RESPONSE]


def usage(records: list[SignalRecord]) -> dict[str, Verdict]:
    return dict(combine(records).usage)


def header_effective(*lines: str, tokens: tuple[str, ...] = TOKENS) -> frozenset[str]:
    return effective(parse_robots_header(lines), tokens)


# --- E19-E23: the image response ---------------------------------------------------------------


def test_e19_noai_disallows_ai_training() -> None:
    record = one(x_robots_tag_signals(image("noai")))
    assert record.mechanism == "x_robots_tag"
    assert record.scope is Scope.RESPONSE
    assert record.source_url == IMAGE
    assert record.applies_to == IMAGE
    assert record.raw_value == "noai"
    assert record.parsed == "noai"
    assert dict(record.purposes) == {AI: D}
    assert record.token == "*"
    assert record.http_status == 200
    assert record.fetched_at == FETCHED
    assert record.evaluation is Evaluation.EVALUATED
    assert record.notes == ()
    # genai-train follows from ai-train in usage.combine, never in the record itself.
    verdicts = usage([record])
    assert verdicts["ai-train"] is D
    assert verdicts["genai-train"] is D
    assert verdicts["search"] is Verdict.UNKNOWN


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param((("x-robots-tag", "NOAI"),), id="upper-value"),
        pytest.param((("X-Robots-Tag", "NoAI"),), id="mixed-name-and-value"),
        pytest.param((("X-ROBOTS-TAG", " noai "),), id="upper-name-padded-value"),
    ],
)
def test_e20_names_and_values_are_case_insensitive(headers: tuple[tuple[str, str], ...]) -> None:
    record = one(x_robots_tag_signals(image(headers=headers)))
    assert dict(record.purposes) == {AI: D}
    assert record.parsed == "noai"
    assert record.raw_value == headers[0][1]  # exactly as received


def test_e21_scoped_to_another_bot_is_recorded_without_effect() -> None:
    record = one(x_robots_tag_signals(image("otherbot: noai")))
    assert dict(record.purposes) == {}
    assert record.parsed == "scoped to otherbot: no effect"
    assert record.raw_value == "otherbot: noai"
    assert "scoped_to_other_bot" in record.notes
    assert record.token is None
    assert set(usage([record]).values()) == {Verdict.UNKNOWN}


def test_e22_unavailable_after_is_a_directive_never_a_bot_name() -> None:
    value = "unavailable_after: 25 Jun 2010 15:00:00 PST"
    directives = parse_robots_header([value])
    assert directives.generic == {"unavailable_after"}
    assert dict(directives.scoped) == {}
    assert dict(directives.values) == {"unavailable_after": "25 Jun 2010 15:00:00 PST"}
    assert directives.unknown == ()
    record = one(x_robots_tag_signals(image(value)))
    assert dict(record.purposes) == {}
    assert record.token == "*"
    assert record.parsed == (
        "unavailable_after: 25 Jun 2010 15:00:00 PST (2010-06-25T23:00:00+00:00)"
    )
    assert record.notes == ("unavailable_after", "unavailable_after_passed")


@pytest.mark.parametrize(
    ("value", "date", "unknown"),
    [
        pytest.param(
            "unavailable_after: Friday, 25-Jun-10 15:00:00 PST, noai",
            "Friday, 25-Jun-10 15:00:00 PST",
            (),
            id="rfc850-comma-rejoined",
        ),
        pytest.param(
            "unavailable_after: Wed, 08 Nov 2023 15:00:00 GMT, noai",
            "Wed, 08 Nov 2023 15:00:00 GMT",
            (),
            id="rfc822-comma-rejoined",
        ),
        pytest.param(
            "unavailable_after: 2010-06-25, 15:00:00 PST, noai",
            "2010-06-25",
            ("15:00:00 PST",),
            id="leftover-fragment-is-unknown",
        ),
    ],
)
def test_e22_dates_with_commas_never_switch_scope(
    value: str, date: str, unknown: tuple[str, ...]
) -> None:
    directives = parse_robots_header([value])
    assert directives.generic == {"unavailable_after", "noai"}
    assert dict(directives.scoped) == {}
    assert directives.values["unavailable_after"] == date
    assert directives.unknown == unknown


def test_e22_a_bad_date_is_recorded_not_raised() -> None:
    record = one(x_robots_tag_signals(image("unavailable_after: the day after never")))
    assert dict(record.purposes) == {}
    assert "unavailable_after_unparsed" in record.notes
    assert record.parsed == "unavailable_after: the day after never"


def test_future_unavailable_after_is_not_passed() -> None:
    record = one(x_robots_tag_signals(image("unavailable_after: 2099-01-01")))
    assert record.notes == ("unavailable_after",)
    assert record.parsed == "unavailable_after: 2099-01-01 (2099-01-01T00:00:00+00:00)"


def test_e23_none_disallows_search_only() -> None:
    record = one(x_robots_tag_signals(image("none")))
    assert dict(record.purposes) == {SEARCH: D}
    verdicts = usage([record])
    assert verdicts["search"] is D
    assert verdicts["ai-train"] is Verdict.UNKNOWN


# --- header forms (2.1) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(("noai, noimageai",), {"noai", "noimageai"}, id="plain-list"),
        pytest.param(("mybot: noai, noindex",), {"noai", "noindex"}, id="scoped-to-us"),
        pytest.param(("otherbot: noindex, nofollow",), set(), id="scoped-to-other"),
        pytest.param(
            ("noimageindex, otherbot: noai, nofollow",), {"noimageindex"}, id="generic-then-other"
        ),
        pytest.param(
            ("noimageindex, mybot: noai",), {"noimageindex", "noai"}, id="generic-then-us"
        ),
        pytest.param(
            ("otherbot: noindex, mybot: noai, noml",), {"noai", "noml"}, id="other-then-us"
        ),
        pytest.param(("noindex", "noai"), {"noindex", "noai"}, id="several-lines"),
        pytest.param(("otherbot: noindex", "noai"), {"noai"}, id="generic-line-after-scoped-line"),
        pytest.param(("otherbot: noindex, noai",), set(), id="same-items-joined-stay-scoped"),
        pytest.param(("*: noai",), {"noai"}, id="star-is-generic"),
        pytest.param(("", " , ,"), set(), id="empty-lines"),
    ],
)
def test_header_forms(lines: tuple[str, ...], expected: set[str]) -> None:
    assert header_effective(*lines) == expected


def test_each_header_line_is_its_own_record() -> None:
    records = x_robots_tag_signals(image("otherbot: noindex", "noai", "mybot: noimageindex"))
    assert [r.raw_value for r in records] == ["otherbot: noindex", "noai", "mybot: noimageindex"]
    assert [dict(r.purposes) for r in records] == [{}, {AI: D}, {SEARCH: D}]
    assert [r.token for r in records] == [None, "*", "mybot"]
    assert usage(records)["ai-train"] is D
    assert usage(records)["search"] is D


def test_mixed_line_records_only_our_rules() -> None:
    record = one(x_robots_tag_signals(image("noindex, otherbot: noai, nofollow")))
    assert record.parsed == "noindex"
    assert dict(record.purposes) == {SEARCH: D}
    assert "scoped_to_other_bot" in record.notes


def test_scoped_parse_keeps_every_bot() -> None:
    directives = parse_robots_header(["noindex, GoogleBot: noai, nofollow", "OtherBot: noml"])
    assert directives.generic == {"noindex"}
    assert dict(directives.scoped) == {
        "googlebot": {"noai", "nofollow"},
        "otherbot": {"noml"},
    }


def test_value_directives_keep_their_value() -> None:
    directives = parse_robots_header(
        ["max-image-preview:none, max-snippet: -1", "googlebot: max-video-preview: 0"]
    )
    assert directives.generic == {"max-image-preview", "max-snippet"}
    assert dict(directives.values) == {
        "max-image-preview": "none",
        "max-snippet": "-1",
        "googlebot:max-video-preview": "0",
    }
    record = one(x_robots_tag_signals(image("max-image-preview:none")))
    assert record.parsed == "max-image-preview: none"
    assert dict(record.purposes) == {}


def test_unknown_items_are_kept_and_noted() -> None:
    directives = parse_robots_header(["noai, please-dont, Some Bot: noindex"])
    assert directives.generic == {"noai"}
    assert directives.unknown == ("please-dont", "Some Bot: noindex")
    record = one(x_robots_tag_signals(image("frobnicate")))
    assert record.parsed == "no known directive"
    assert record.notes == ("unknown_items",)
    assert dict(record.purposes) == {}


def test_a_directive_name_is_never_a_bot_name() -> None:
    directives = parse_robots_header(["noindex: noai"])
    assert dict(directives.scoped) == {}
    assert directives.unknown == ("noindex: noai",)


def test_empty_header_line_is_recorded() -> None:
    record = one(x_robots_tag_signals(image("")))
    assert record.raw_value == ""
    assert record.parsed == "empty"
    assert "empty" in record.notes
    assert dict(record.purposes) == {}


# --- repext Robots-Tag grammar -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("*=noai, nosnippet; ExampleBot=;", {"noai", "nosnippet"}, id="draft-example"),
        pytest.param("noai, nosnippet; ExampleBot=;", {"noai", "nosnippet"}, id="star-omitted"),
        pytest.param("=noai", {"noai"}, id="empty-token-is-global"),
        pytest.param("noindex; MyBot=noai, noml", {"noindex", "noai", "noml"}, id="ours"),
        pytest.param("otherbot=noai; noindex", {"noindex"}, id="other-then-generic"),
        pytest.param("otherbot=noai, noml", set(), id="other-only"),
        pytest.param("noindex; nofollow", {"noindex", "nofollow"}, id="semicolon-list"),
        pytest.param("max-snippet=20, noai", {"noai"}, id="directive-is-not-a-token"),
    ],
)
def test_repext_grammar(value: str, expected: set[str]) -> None:
    assert header_effective(value) == expected


def test_repext_duplicate_tokens_merge() -> None:
    directives = parse_robots_header(["mybot=noai; MYBOT=noimageindex; mybot=noai"])
    assert dict(directives.scoped) == {"mybot": {"noai", "noimageindex"}}


def test_robots_tag_header_name_is_read() -> None:
    headers = (("robots-tag", "*=noai; otherbot=noindex"),)
    record = one(x_robots_tag_signals(image(headers=headers)))
    assert dict(record.purposes) == {AI: D}
    assert record.notes == ("scoped_to_other_bot", "repext_grammar", "robots_tag_header")
    assert record.token == "*"


def test_robots_tag_and_x_robots_tag_combine() -> None:
    headers = (("Robots-Tag", "mybot=noindex"), ("x-robots-tag", "noai"))
    records = x_robots_tag_signals(image(headers=headers))
    assert [dict(r.purposes) for r in records] == [{SEARCH: D}, {AI: D}]


# --- tokens ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "tokens", "applies"),
    [
        pytest.param("MyBot: noai", ("mybot",), True, id="bot-name-case"),
        pytest.param("mybot: noai", ("MYBOT",), True, id="token-case"),
        pytest.param("mybot-image: noai", ("mybot",), False, id="longer-name-no-prefix-match"),
        pytest.param("mybot: noai", ("mybot-image",), False, id="shorter-name-no-match"),
        pytest.param("bot: noai", ("mybot",), False, id="no-substring-match"),
        pytest.param("otherbot: noai", ("mybot", "OtherBot"), True, id="any-declared-token"),
        pytest.param("mybot: noai", (), False, id="no-tokens-generic-only"),
    ],
)
def test_token_matching_is_exact_and_case_insensitive(
    line: str, tokens: tuple[str, ...], applies: bool
) -> None:
    assert ("noai" in header_effective(line, tokens=tokens)) is applies
    record = one(x_robots_tag_signals(image(line, tokens=tokens)))
    assert (dict(record.purposes) == {AI: D}) is applies


def test_record_token_is_the_declared_token_as_written() -> None:
    record = one(x_robots_tag_signals(image("MYBOT: noai", tokens=("OtherBot", "MyBot"))))
    assert record.token == "MyBot"


def test_no_declared_token_uses_generic_rules_and_says_so() -> None:
    record = one(x_robots_tag_signals(image("noai", tokens=())))
    assert dict(record.purposes) == {AI: D}
    assert record.token == "*"
    assert record.notes == ("no_declared_token",)


def test_effective_unions_generic_and_every_token() -> None:
    directives = parse_robots_header(["noindex, a: noai", "b: noml", "c: noimageai"])
    assert effective(directives, ()) == {"noindex"}
    assert effective(directives, ("A", "b")) == {"noindex", "noai", "noml"}


# --- no response -------------------------------------------------------------------------------


def test_no_response_is_not_evaluated() -> None:
    record = one(x_robots_tag_signals(image(no_response=True)))
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert dict(record.purposes) == {}
    assert record.notes == ("no_response",)
    assert record.raw_value is None
    assert record.scope is Scope.RESPONSE
    assert set(usage([record]).values()) == {Verdict.UNKNOWN}


def test_no_response_still_gets_propagated_page_values() -> None:
    evidence = image(no_response=True, pages=(page(xrt=("noai",)),))
    records = x_robots_tag_signals(evidence)
    assert [r.evaluation for r in records] == [Evaluation.NOT_EVALUATED, Evaluation.EVALUATED]
    assert records[1].scope is Scope.PAGE
    assert "propagated" in records[1].notes
    assert usage(records)["ai-train"] is D


def test_response_without_the_header_gives_no_record() -> None:
    assert x_robots_tag_signals(image()) == []
    assert x_robots_tag_signals(image(headers=())) == []


# --- robots meta (E24-E26) ---------------------------------------------------------------------


def test_e24_upper_case_meta_applies_to_the_page_and_propagates() -> None:
    # The crawler lower-cases meta names; the content is kept as written.
    gallery = page(metas=(("robots", "NoAI, NoFollow"),))
    record = one(page_meta_robots_signals(gallery, TOKENS))
    assert record.mechanism == "meta_robots"
    assert record.scope is Scope.PAGE
    assert record.source_url == PAGE
    assert record.applies_to == PAGE
    assert record.raw_value == "NoAI, NoFollow"
    assert record.parsed == "noai, nofollow"
    assert dict(record.purposes) == {AI: D}
    assert record.token == "*"
    assert record.fetched_at == PAGE_FETCHED
    propagated = one(meta_robots_signals(image(pages=(gallery,))))
    assert propagated.mechanism == "meta_robots"
    assert propagated.scope is Scope.PAGE
    assert propagated.source_url == PAGE
    assert propagated.applies_to == IMAGE
    assert propagated.raw_value == "NoAI, NoFollow"
    assert propagated.parsed == "noai"
    assert dict(propagated.purposes) == {AI: D}
    assert propagated.notes == ("propagated",)
    assert propagated.http_status == 200
    assert propagated.fetched_at == PAGE_FETCHED


def test_e24_meta_name_case_does_not_matter() -> None:
    directives = parse_meta_robots([("ROBOTS", "NoAI"), ("MyBot", "NoImageIndex")], ("MYBOT",))
    assert directives.generic == {"noai"}
    assert effective(directives, ("mybot",)) == {"noai", "noimageindex"}


def test_e25_only_robots_and_our_token_count() -> None:
    first = page(PAGE, metas=(("googlebot", "noai"),))
    second = page(PAGE_2, metas=(("mybot", "noai"),))
    ignored = one(page_meta_robots_signals(first, TOKENS))
    assert dict(ignored.purposes) == {}
    assert ignored.parsed == "scoped to googlebot: no effect"
    assert "scoped_to_other_bot" in ignored.notes
    assert ignored.token is None
    applied = one(page_meta_robots_signals(second, TOKENS))
    assert dict(applied.purposes) == {AI: D}
    assert applied.token == "mybot"
    records = meta_robots_signals(image(pages=(first, second)))
    assert [r.source_url for r in records] == [PAGE_2]
    assert dict(one(records).purposes) == {AI: D}
    assert parse_meta_robots([("googlebot", "noai")], TOKENS) == RobotsDirectives()


def test_e26_noml_is_ai_training_only_and_does_not_propagate() -> None:
    post = page(metas=(("robots", "noml"),))
    record = one(page_meta_robots_signals(post, TOKENS))
    assert dict(record.purposes) == {AI: D}
    verdicts = usage([record])
    assert verdicts["ai-train"] is D
    assert verdicts["search"] is Verdict.UNKNOWN
    assert meta_robots_signals(image(pages=(post,))) == []


def test_several_meta_tags_are_separate_records() -> None:
    gallery = page(metas=(("robots", "noindex"), ("mybot", "noai"), ("robots", "nofollow")))
    records = page_meta_robots_signals(gallery, TOKENS)
    assert [r.raw_value for r in records] == ["noindex", "noai", "nofollow"]
    assert [dict(r.purposes) for r in records] == [{SEARCH: D}, {AI: D}, {}]


def test_meta_not_naming_a_directive_for_another_name_is_ignored() -> None:
    gallery = page(metas=(("googlebot-news", "whatever"), ("robots", "")))
    record = one(page_meta_robots_signals(gallery, TOKENS))
    assert record.raw_value == ""
    assert record.parsed == "empty"


# --- propagation (2.3) -------------------------------------------------------------------------


@pytest.mark.parametrize("value", sorted(PROPAGATING))
def test_propagating_values_reach_the_image(value: str) -> None:
    expected = purposes_for([value])
    from_meta = one(meta_robots_signals(image(pages=(page(metas=(("robots", value),)),))))
    from_header = one(x_robots_tag_signals(image(pages=(page(xrt=(value,)),))))
    for record in (from_meta, from_header):
        assert dict(record.purposes) == expected
        assert record.applies_to == IMAGE
        assert record.source_url == PAGE
        assert record.scope is Scope.PAGE
        assert "propagated" in record.notes


@pytest.mark.parametrize(
    "value", ["noindex", "noml", "none", "disallowaitraining", "nofollow", "nosnippet"]
)
def test_other_page_values_do_not_reach_the_image(value: str) -> None:
    evidence = image(pages=(page(xrt=(value,), metas=(("robots", value),)),))
    assert meta_robots_signals(evidence) == []
    assert x_robots_tag_signals(evidence) == []


def test_only_the_propagating_part_of_a_page_value_flows_down() -> None:
    gallery = page(xrt=("noindex, noml, noimageindex, noai",))
    record = one(x_robots_tag_signals(image(pages=(gallery,))))
    assert record.parsed == "noimageindex, noai"
    assert dict(record.purposes) == {SEARCH: D, AI: D}
    assert record.raw_value == "noindex, noml, noimageindex, noai"


def test_page_values_scoped_to_another_bot_do_not_propagate() -> None:
    evidence = image(
        pages=(page(xrt=("otherbot: noai",), metas=(("otherbot", "noai"),)),),
    )
    assert x_robots_tag_signals(evidence) == []
    assert meta_robots_signals(evidence) == []


def test_page_values_scoped_to_us_propagate() -> None:
    evidence = image(pages=(page(xrt=("otherbot: noindex, mybot: noimageai",)),))
    record = one(x_robots_tag_signals(evidence))
    assert dict(record.purposes) == {AI: D}
    assert record.token == "mybot"


def test_several_pages_each_contribute_and_the_most_restrictive_wins() -> None:
    gallery = page(PAGE, metas=(("robots", "noimageindex"),))
    post = page(PAGE_2, xrt=("noai",))
    plain = page("https://www.example.org/plain.html")
    evidence = image("noindex", pages=(gallery, post, plain))
    header_records = x_robots_tag_signals(evidence)
    meta_records = meta_robots_signals(evidence)
    assert [(r.scope, r.source_url) for r in header_records] == [
        (Scope.RESPONSE, IMAGE),
        (Scope.PAGE, PAGE_2),
    ]
    assert [r.source_url for r in meta_records] == [PAGE]
    verdicts = usage([*header_records, *meta_records])
    assert verdicts["ai-train"] is D
    assert verdicts["genai-train"] is D
    assert verdicts["search"] is D


def test_a_page_listed_twice_contributes_once() -> None:
    gallery = page(xrt=("noai",), metas=(("robots", "noimageai"),))
    evidence = image(pages=(gallery, gallery))
    assert len(x_robots_tag_signals(evidence)) == 1
    assert len(meta_robots_signals(evidence)) == 1


def test_propagated_record_per_contributing_page_line() -> None:
    gallery = page(xrt=("noindex", "noai", "otherbot: noimageai", "noimageindex"))
    records = x_robots_tag_signals(image(pages=(gallery,)))
    assert [r.raw_value for r in records] == ["noai", "noimageindex"]


# --- the page resource itself ------------------------------------------------------------------


def test_page_header_records_cover_all_values() -> None:
    gallery = page(xrt=("noindex, noml", "otherbot: noai"), status=203)
    records = page_x_robots_tag_signals(gallery, TOKENS)
    assert [r.raw_value for r in records] == ["noindex, noml", "otherbot: noai"]
    assert [dict(r.purposes) for r in records] == [{SEARCH: D, AI: D}, {}]
    assert all(r.scope is Scope.PAGE for r in records)
    assert all(r.source_url == r.applies_to == PAGE for r in records)
    assert all(r.http_status == 203 for r in records)
    assert all(r.mechanism == "x_robots_tag" for r in records)


def test_image_only_values_give_the_page_no_verdict() -> None:
    gallery = page(xrt=("noimageai, noimageindex, noai",), metas=(("robots", "noimageindex"),))
    header = one(page_x_robots_tag_signals(gallery, TOKENS))
    assert dict(header.purposes) == {AI: D}  # from noai only
    assert header.parsed == "noimageai, noimageindex, noai"
    assert "image_only_directive" in header.notes
    meta = one(page_meta_robots_signals(gallery, TOKENS))
    assert dict(meta.purposes) == {}
    assert "image_only_directive" in meta.notes


def test_page_without_signals_gives_no_record() -> None:
    assert page_x_robots_tag_signals(page(), TOKENS) == []
    assert page_meta_robots_signals(page(), TOKENS) == []


def test_page_functions_accept_a_lone_token_string() -> None:
    record = one(page_x_robots_tag_signals(page(xrt=("MyBot: noai",)), "mybot"))
    assert record.token == "mybot"
    assert dict(record.purposes) == {AI: D}


# --- the mapping table (2.4, 9.2) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("directive", "expected"),
    [
        ("noai", {AI: D}),
        ("noimageai", {AI: D}),
        ("noml", {AI: D}),
        ("disallowaitraining", {AI: D}),
        ("DisallowAITraining", {AI: D}),
        ("noindex", {SEARCH: D}),
        ("noimageindex", {SEARCH: D}),
        ("none", {SEARCH: D}),
        ("nofollow", {}),
        ("nosnippet", {}),
        ("noarchive", {}),
        ("nocache", {}),
        ("max-image-preview", {}),
        ("unavailable_after", {}),
        ("all", {}),
        ("index", {}),
    ],
)
def test_purposes_for(directive: str, expected: dict[str, Verdict]) -> None:
    assert purposes_for([directive]) == expected


def test_purposes_for_combines_values() -> None:
    assert purposes_for({"noai", "noindex", "nofollow"}) == {AI: D, SEARCH: D}
    assert purposes_for([]) == {}


def test_bing_training_hint_is_recorded_only() -> None:
    record = one(x_robots_tag_signals(image("nocache, noarchive")))
    assert dict(record.purposes) == {}
    assert "bing_ai_training_hint" in record.notes


def test_records_never_state_implied_purposes() -> None:
    evidence = image("noai, noindex", "mybot: noml", pages=(page(xrt=("noimageai",)),))
    for record in x_robots_tag_signals(evidence):
        assert set(record.purposes) <= {AI, SEARCH}
        assert set(record.purposes.values()) <= {D}


# --- robustness --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("a:" * 200_000, id="many-colons"),
        pytest.param("bot" + ": bot" * 100_000, id="many-scopes"),
        pytest.param("unavailable_after: x" + ", y" * 100_000, id="long-date-tail"),
        pytest.param("a=b;" * 100_000, id="many-segments"),
    ],
)
def test_hostile_values_parse_in_linear_time(value: str) -> None:
    started = time.monotonic()
    parse_robots_header([value])
    x_robots_tag_signals(image(value))
    page_meta_robots_signals(page(metas=(("robots", value),)), TOKENS)
    assert time.monotonic() - started < 10.0  # quadratic parsing takes far longer


def test_a_lone_string_is_one_header_line() -> None:
    assert parse_robots_header("noai, noindex").generic == {"noai", "noindex"}
