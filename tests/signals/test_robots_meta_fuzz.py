"""Properties of ``X-Robots-Tag`` / robots meta parsing (``auditor.signals.robots_meta``).

The parsers never raise on any text; the effective set is monotone (another header line never
removes a directive) and does not depend on the order of header lines; records state only the
purposes of the 2.4 table, and propagated records only those of noai/noimageai/noimageindex.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.crawl.origins import FetchMeta, RobotsEntry
from auditor.crawl.robots import policy_from_fetch
from auditor.model import Scope, Verdict
from auditor.signals.aitxt import parse_ai_txt
from auditor.signals.evidence import ImageEvidence, OriginEvidence, PageEvidence
from auditor.signals.robots_meta import (
    KNOWN_DIRECTIVES,
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

FUZZ = settings(max_examples=200, deadline=None, database=None)
SLOW_FUZZ = settings(max_examples=100, deadline=None, database=None)

# Pieces that exercise every branch of the grammar when glued together at random.
_PIECES = [
    *sorted(KNOWN_DIRECTIVES),
    "NoAI",
    "NOIMAGEINDEX",
    "mybot",
    "MyBot",
    "otherbot",
    "googlebot-image",
    "*",
    "Some Bot",
    "unavailable_after: 25 Jun 2010 15:00:00 PST",
    "unavailable_after: Friday",
    "25-Jun-10 15:00:00 PST",
    "2010-06-25",
    "max-image-preview:none",
    ":",
    ": ",
    ",",
    ", ",
    ";",
    "=",
    " ",
    "\t",
    "",
]
fragments = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)
header_text = st.one_of(fragments, st.text(max_size=80))
header_lines = st.lists(header_text, max_size=6)
tokens_st = st.lists(
    st.one_of(st.sampled_from(["mybot", "MYBOT", "otherbot", "googlebot-image"]), st.text()),
    max_size=3,
).map(tuple)
meta_name = st.one_of(st.sampled_from(["robots", "ROBOTS", "mybot", "googlebot", "x y"]), st.text())
metas_st = st.lists(st.tuples(meta_name, header_text), max_size=5)
header_name = st.sampled_from(["x-robots-tag", "X-Robots-Tag", "robots-tag", "content-type"])


def _page(url: str, headers: list[tuple[str, str]], metas: list[tuple[str, str]]) -> PageEvidence:
    return PageEvidence(
        url=url,
        status=200,
        fetched_at="2026-10-01T12:00:00+00:00",
        headers=tuple(headers),
        meta_robots=tuple(metas),
        tdm_meta=(),
    )


pages_st = st.lists(
    st.builds(
        _page,
        st.sampled_from(["https://a.example/1", "https://a.example/2", "https://b.example/"]),
        st.lists(st.tuples(header_name, header_text), max_size=4),
        metas_st,
    ),
    max_size=3,
).map(tuple)


def _origin() -> OriginEvidence:
    base = "https://img.example"
    missing = FetchMeta(f"{base}/x", f"{base}/x", 404, None, None, None)
    robots = RobotsEntry(
        base,
        f"{base}/robots.txt",
        f"{base}/robots.txt",
        policy_from_fetch(404, None),
        "",
        None,
        0.0,
    )
    return OriginEvidence(
        base,
        robots,
        missing,
        parse_tdmrep_file(404, None, None),
        missing,
        parse_ai_txt(404, None, None),
    )


ORIGIN = _origin()


def _image(
    headers: list[tuple[str, str]] | None,
    pages: tuple[PageEvidence, ...],
    tokens: tuple[str, ...],
) -> ImageEvidence:
    return ImageEvidence(
        url="https://img.example/a.jpg",
        tokens=tokens,
        origin=ORIGIN,
        response_headers=None if headers is None else tuple(headers),
        status=None if headers is None else 200,
        fetched_at=None if headers is None else "2026-10-01T12:00:00+00:00",
        facts=None,
        pages=pages,
    )


@FUZZ
@given(header_lines)
def test_parse_robots_header_never_raises(lines: list[str]) -> None:
    directives = parse_robots_header(lines)
    assert isinstance(directives, RobotsDirectives)
    assert directives.generic <= KNOWN_DIRECTIVES
    for bot, names in directives.scoped.items():
        assert bot == bot.lower()
        assert names <= KNOWN_DIRECTIVES


@FUZZ
@given(metas_st, tokens_st)
def test_parse_meta_robots_never_raises(
    metas: list[tuple[str, str]], tokens: tuple[str, ...]
) -> None:
    directives = parse_meta_robots(metas, tokens)
    assert effective(directives, tokens) <= KNOWN_DIRECTIVES


@FUZZ
@given(header_lines, header_text, tokens_st)
def test_effective_is_monotone(lines: list[str], extra: str, tokens: tuple[str, ...]) -> None:
    before = effective(parse_robots_header(lines), tokens)
    for position in (0, len(lines)):
        after = effective(
            parse_robots_header([*lines[:position], extra, *lines[position:]]), tokens
        )
        assert before <= after


@FUZZ
@given(header_lines, st.randoms(use_true_random=False), tokens_st)
def test_order_of_header_lines_does_not_matter(
    lines: list[str], rng: random.Random, tokens: tuple[str, ...]
) -> None:
    shuffled = list(lines)
    rng.shuffle(shuffled)
    assert effective(parse_robots_header(lines), tokens) == effective(
        parse_robots_header(shuffled), tokens
    )


@FUZZ
@given(metas_st, metas_st, tokens_st)
def test_meta_effective_is_monotone(
    metas: list[tuple[str, str]], more: list[tuple[str, str]], tokens: tuple[str, ...]
) -> None:
    before = effective(parse_meta_robots(metas, tokens), tokens)
    assert before <= effective(parse_meta_robots([*metas, *more], tokens), tokens)


@SLOW_FUZZ
@given(
    st.one_of(st.none(), st.lists(st.tuples(header_name, header_text), max_size=4)),
    pages_st,
    tokens_st,
)
def test_image_records_never_raise_and_state_only_table_purposes(
    headers: list[tuple[str, str]] | None, pages: tuple[PageEvidence, ...], tokens: tuple[str, ...]
) -> None:
    evidence = _image(headers, pages, tokens)
    for record in [*x_robots_tag_signals(evidence), *meta_robots_signals(evidence)]:
        assert set(record.purposes) <= {"ai-train", "search"}
        assert set(record.purposes.values()) <= {Verdict.DISALLOWED}
        if record.scope is Scope.PAGE:
            assert "propagated" in record.notes
            assert record.applies_to == evidence.url
            assert record.parsed is not None
            assert set(record.parsed.split(", ")) <= PROPAGATING
            assert dict(record.purposes) == purposes_for(record.parsed.split(", "))


@SLOW_FUZZ
@given(pages_st, tokens_st)
def test_page_records_never_raise(pages: tuple[PageEvidence, ...], tokens: tuple[str, ...]) -> None:
    for page in pages:
        for record in [
            *page_x_robots_tag_signals(page, tokens),
            *page_meta_robots_signals(page, tokens),
        ]:
            assert record.scope is Scope.PAGE
            assert record.source_url == record.applies_to == page.url
            assert set(record.purposes) <= {"ai-train", "search"}


@FUZZ
@given(header_lines, tokens_st)
def test_response_records_agree_with_the_parser(lines: list[str], tokens: tuple[str, ...]) -> None:
    # The union of the records' purposes is the table applied to the effective set.
    evidence = _image([("x-robots-tag", line) for line in lines], (), tokens)
    stated: dict[str, Verdict] = {}
    for record in x_robots_tag_signals(evidence):
        stated.update(record.purposes)
    assert stated == purposes_for(effective(parse_robots_header(lines), tokens))


_DATE_PARTS = ["Mon", "25", "Jun", "2010", "15:00:00", "PST", "+9999", "-0000", "99:99:99"]
_DATE_PARTS += ["0", "9999999999", "Feb", "31", "GMT", "24:00", "T", "-", "1999-02-30"]
_DATE_PARTS += ["2010-06-25T10:00:00+23:59", "0001-01-01T00:00:00+01:00", "9999-12-31"]
dates = st.one_of(st.lists(st.sampled_from(_DATE_PARTS), max_size=8).map(" ".join), st.text())


@FUZZ
@given(
    dates.filter(lambda d: not set(d) & set(",;=")),
    st.sampled_from(["", "mybot: ", "MyBot: "]),
)
def test_any_unavailable_after_date_is_kept_and_never_decides(date: str, prefix: str) -> None:
    value = f"{prefix}unavailable_after: {date}"
    (record,) = x_robots_tag_signals(_image([("x-robots-tag", value)], (), ("mybot",)))
    assert record.raw_value == value
    assert dict(record.purposes) == {}
    assert "unavailable_after" in record.notes
    directives = parse_robots_header([value])
    key = "mybot:unavailable_after" if prefix else "unavailable_after"
    assert directives.values[key] == date.strip()
    assert directives.unknown == ()
