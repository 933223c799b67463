"""Cloudflare Content Signals (``auditor.signals.content_signal``, optout-signals.md 6.4).

``search``/``ai-train``/``ai-input`` take ``yes``/``no``; anything else is recorded without a
verdict. In robots.txt the selected group's records apply to the paths that group lets the
crawler fetch (the format has no paths); a ``Content-Signal`` response header is recorded the
same way with scope ``response`` and the note ``header``.
"""

from __future__ import annotations

import hashlib

import pytest

from auditor.crawl.origins import RobotsEntry
from auditor.crawl.robots import policy_from_fetch
from auditor.model import Evaluation, Scope, SignalRecord, Verdict
from auditor.signals.aitxt import parse_ai_txt
from auditor.signals.content_signal import (
    ContentSignal,
    content_signal_signals,
    parse_content_signal,
    signal_purposes,
)
from auditor.signals.evidence import FetchMeta, ImageEvidence, OriginEvidence
from auditor.signals.tdmrep import parse_tdmrep_file
from auditor.signals.usage import combine

ORIGIN = "https://img.example.org"
ROBOTS_URL = f"{ORIGIN}/robots.txt"
FETCHED = "2026-10-01T12:00:00+00:00"
IMAGE_FETCHED = "2026-10-01T12:00:05+00:00"
A, D, U = Verdict.ALLOWED, Verdict.DISALLOWED, Verdict.UNKNOWN

# What Cloudflare's managed robots.txt inserts (shortened).
MANAGED = """\
# As a condition of accessing this website, you agree to abide by the content signals ...
User-Agent: *
Content-Signal: search=yes,ai-train=no
Allow: /
Disallow: /private/

User-agent: mybot
Content-Signal: ai-input=no
Allow: /
"""


def _meta(name: str) -> FetchMeta:
    url = f"{ORIGIN}/{name}"
    return FetchMeta(url, url, 404, FETCHED, None, None)


def evidence(
    path: str = "/photos/a.jpg",
    *,
    robots: str | None = None,
    status: int | None = 200,
    tokens: tuple[str, ...] = (),
    headers: tuple[tuple[str, str], ...] | None = (),
) -> ImageEvidence:
    raw = robots.encode() if robots is not None else None
    entry = RobotsEntry(
        origin=ORIGIN,
        source_url=ROBOTS_URL,
        final_url=ROBOTS_URL,
        policy=policy_from_fetch(status, raw),
        fetched_at=FETCHED,
        sha256=hashlib.sha256(raw).hexdigest() if raw is not None else None,
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
        status=None if headers is None else 200,
        fetched_at=None if headers is None else IMAGE_FETCHED,
        facts=None,
        pages=(),
    )


def verdicts(records: list[SignalRecord]) -> dict[str, Verdict]:
    return {k: v for k, v in combine(records).usage.items() if v is not U}


def robots_records(ev: ImageEvidence) -> list[SignalRecord]:
    return [r for r in content_signal_signals(ev) if r.scope is Scope.ORIGIN]


def one(records: list[SignalRecord]) -> SignalRecord:
    assert len(records) == 1, records
    return records[0]


# --- the format --------------------------------------------------------------------------------


def test_cloudflare_default() -> None:
    signal = parse_content_signal("search=yes, ai-train=no")
    assert signal == ContentSignal({"search": "yes", "ai-train": "no"}, {}, (), ())
    assert signal_purposes(signal) == {"search": A, "ai-train": D}
    assert signal.normalised() == "search=yes, ai-train=no"


def test_every_signal() -> None:
    signal = parse_content_signal("ai-train=yes, search=no, ai-input=no")
    assert signal_purposes(signal) == {
        "ai-train": A,
        "genai-train": A,
        "search": D,
        "ai-input": D,
    }


def test_no_spaces_and_spaces_around_equals() -> None:
    assert signal_purposes(parse_content_signal("search=yes,ai-train=no")) == {
        "search": A,
        "ai-train": D,
    }
    assert signal_purposes(parse_content_signal(" ai-train = no ,\tsearch= yes ")) == {
        "ai-train": D,
        "search": A,
    }


def test_case_is_folded_with_a_note() -> None:
    signal = parse_content_signal("AI-Train=No")
    assert signal_purposes(signal) == {"ai-train": D}
    assert signal.notes == ("lenient_parse",)


@pytest.mark.parametrize("value", ["ai-train=n", "ai-train=false", "ai-train=0", 'ai-train="no"'])
def test_other_values_are_unknown(value: str) -> None:
    signal = parse_content_signal(value)
    assert signal_purposes(signal) == {}
    assert "ai-train" in signal.other


def test_unknown_keys_are_recorded() -> None:
    signal = parse_content_signal("search=yes, use=ai-train-with-attribution")
    assert signal_purposes(signal) == {"search": A}
    assert dict(signal.other) == {"use": "ai-train-with-attribution"}


def test_duplicate_keys_most_restrictive() -> None:
    for value in ("ai-train=no, ai-train=yes", "ai-train=yes, ai-train=no"):
        signal = parse_content_signal(value)
        assert signal_purposes(signal) == {"ai-train": D}
        assert "duplicate_key" in signal.notes


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", "empty_value"),
        ("/ ai-train=no", "path_pattern_not_supported"),
        ("search=yes,,ai-train=no", "empty_item"),
        ("search=yes, noai", "not_key_value: noai"),
        ("=no", "not_key_value: =no"),
    ],
)
def test_malformed_parts_are_errors(value: str, error: str) -> None:
    signal = parse_content_signal(value)
    assert error in signal.errors
    assert f"error: {error}" in signal.normalised()


def test_malformed_items_do_not_spoil_the_rest() -> None:
    assert signal_purposes(parse_content_signal("search=yes,,ai-train=no, noai")) == {
        "search": A,
        "ai-train": D,
    }


# --- robots.txt --------------------------------------------------------------------------------


def test_star_group_record() -> None:
    ev = evidence(robots=MANAGED)
    record = one(robots_records(ev))
    assert record.mechanism == "robots.content_signal"
    assert record.scope is Scope.ORIGIN
    assert record.source_url == ROBOTS_URL
    assert record.applies_to == ev.url
    assert record.raw_value == "Content-Signal: search=yes,ai-train=no (line 3)"
    assert record.parsed == "search=yes, ai-train=no"
    assert dict(record.purposes) == {"search": A, "ai-train": D}
    assert record.fetched_at == FETCHED
    assert record.http_status == 200
    assert record.sha256 == hashlib.sha256(MANAGED.encode()).hexdigest()
    assert record.token == "*"
    assert "no_declared_token" in record.notes
    assert "header" not in record.notes
    assert verdicts([record]) == {"search": A, "ai-train": D, "genai-train": D}


def test_named_group_shadows_the_star_group() -> None:
    record = one(robots_records(evidence(robots=MANAGED, tokens=("MyBot",))))
    assert record.token == "MyBot"
    assert dict(record.purposes) == {"ai-input": D}


def test_crawler_without_a_group_uses_star() -> None:
    record = one(robots_records(evidence(robots=MANAGED, tokens=("otherbot",))))
    assert dict(record.purposes) == {"search": A, "ai-train": D}


def test_only_crawlable_paths() -> None:
    assert robots_records(evidence("/private/a.jpg", robots=MANAGED)) == []


def test_every_record_of_the_group_applies() -> None:
    body = "User-agent: *\nContent-Signal: ai-train=yes\nContent-Signal: ai-train=no, search=yes\n"
    records = robots_records(evidence(robots=body))
    assert len(records) == 2
    assert verdicts(records) == {"ai-train": D, "genai-train": D, "search": A}
    assert "ai-train" in combine(records).conflicts


def test_path_form_is_recorded_without_verdict() -> None:
    body = "User-agent: *\nContent-Signal: /images/ ai-train=no\n"
    record = one(robots_records(evidence(robots=body)))
    assert dict(record.purposes) == {}
    assert "parse_error" in record.notes
    assert record.parsed == "error: path_pattern_not_supported"


def test_invalid_and_unknown_notes() -> None:
    body = "User-agent: *\nContent-Signal: ai-train=maybe, use=x\n"
    record = one(robots_records(evidence(robots=body)))
    assert "invalid_value" in record.notes
    assert "unknown_label" in record.notes


@pytest.mark.parametrize("status", [404, 503])
def test_robots_not_parsed_gives_nothing(status: int) -> None:
    assert robots_records(evidence(robots=MANAGED, status=status)) == []


def test_one_set_per_declared_token() -> None:
    records = robots_records(evidence(robots=MANAGED, tokens=("mybot", "otherbot")))
    assert [(r.token, dict(r.purposes)) for r in records] == [
        ("mybot", {"ai-input": D}),
        ("otherbot", {"search": A, "ai-train": D}),
    ]


# --- the response header -----------------------------------------------------------------------


def test_header_record() -> None:
    ev = evidence(headers=(("content-type", "image/png"), ("Content-Signal", "ai-train=no")))
    record = one(content_signal_signals(ev))
    assert record.mechanism == "robots.content_signal"
    assert record.scope is Scope.RESPONSE
    assert record.notes == ("header",)
    assert record.source_url == ev.url
    assert record.raw_value == "ai-train=no"
    assert record.fetched_at == IMAGE_FETCHED
    assert record.http_status == 200
    assert record.sha256 is None
    assert dict(record.purposes) == {"ai-train": D}


def test_each_header_line_is_a_record() -> None:
    ev = evidence(headers=(("content-signal", "search=yes"), ("content-signal", "ai-train=no")))
    records = content_signal_signals(ev)
    assert [r.raw_value for r in records] == ["search=yes", "ai-train=no"]
    assert verdicts(records) == {"search": A, "ai-train": D, "genai-train": D}


def test_no_response_is_not_evaluated() -> None:
    record = one(content_signal_signals(evidence(headers=None)))
    assert record.scope is Scope.RESPONSE
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.notes == ("header", "no_response")


def test_robots_and_header_together() -> None:
    ev = evidence(robots=MANAGED, headers=(("content-signal", "ai-input=no"),))
    records = content_signal_signals(ev)
    assert [r.scope for r in records] == [Scope.ORIGIN, Scope.RESPONSE]
    assert verdicts(records) == {"search": A, "ai-train": D, "genai-train": D, "ai-input": D}
