"""AI evidence from robots.txt (``auditor.signals.robots_ai``, optout-signals.md 1.5, 6.4, 9.2).

``DisallowAITraining``/``AllowAITraining`` records of the selected group are matched like
Allow/Disallow and always marked non-standard (E44). The AI-token heuristic reads other
crawlers' *named* groups, only when the declared crawler's own group allows the path.
"""

from __future__ import annotations

import hashlib

import pytest

from auditor.crawl.origins import RobotsEntry
from auditor.crawl.robots import policy_from_fetch
from auditor.model import Scope, SignalRecord, Verdict
from auditor.signals.aitxt import parse_ai_txt
from auditor.signals.evidence import FetchMeta, ImageEvidence, OriginEvidence
from auditor.signals.robots_ai import (
    SEARCH_TOKENS,
    TRAINING_TOKENS,
    disallow_ai_training_signals,
    robots_ai_token_signals,
)
from auditor.signals.tdmrep import parse_tdmrep_file
from auditor.signals.usage import combine

ORIGIN = "https://img.example.org"
ROBOTS_URL = f"{ORIGIN}/robots.txt"
FETCHED = "2026-10-01T12:00:00+00:00"
A, D, U = Verdict.ALLOWED, Verdict.DISALLOWED, Verdict.UNKNOWN


def _meta(name: str) -> FetchMeta:
    url = f"{ORIGIN}/{name}"
    return FetchMeta(url, url, 404, FETCHED, None, None)


def evidence(
    body: str | None,
    path: str = "/photos/a.jpg",
    *,
    tokens: tuple[str, ...] = (),
    status: int | None = 200,
) -> ImageEvidence:
    raw = body.encode() if body is not None else None
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
        response_headers=(),
        status=200,
        fetched_at=FETCHED,
        facts=None,
        pages=(),
    )


def one(records: list[SignalRecord]) -> SignalRecord:
    assert len(records) == 1, records
    return records[0]


def verdicts(records: list[SignalRecord]) -> dict[str, Verdict]:
    return {k: v for k, v in combine(records).usage.items() if v is not U}


def test_token_lists_are_those_of_the_reference() -> None:
    assert TRAINING_TOKENS == (
        "GPTBot",
        "ClaudeBot",
        "anthropic-ai",
        "CCBot",
        "Google-Extended",
        "Applebot-Extended",
        "meta-externalagent",
        "FacebookBot",
        "Bytespider",
        "cohere-training-data-crawler",
        "AI2Bot",
        "Ai2Bot-Dolma",
        "DeepSeekBot",
        "Amazonbot",
        "PanguBot",
        "Timpibot",
        "ImagesiftBot",
        "img2dataset",
        "LAIONDownloader",
        "laion-huggingface-processor",
    )
    assert SEARCH_TOKENS == (
        "OAI-SearchBot",
        "ChatGPT-User",
        "Claude-SearchBot",
        "Claude-User",
        "PerplexityBot",
        "Perplexity-User",
        "GoogleOther",
    )


# --- DisallowAITraining ------------------------------------------------------------------------


def test_e44() -> None:
    body = "User-agent: *\nDisallowAITraining: /\n"
    ev = evidence(body, tokens=("mybot",))
    record = one(disallow_ai_training_signals(ev))
    assert record.mechanism == "robots.disallow_ai_training"
    assert record.scope is Scope.ORIGIN
    assert record.source_url == ROBOTS_URL
    assert record.applies_to == ev.url
    assert record.raw_value == "DisallowAITraining: / (line 2)"
    assert record.parsed == "DisallowAITraining: /"
    assert dict(record.purposes) == {"ai-train": D}
    assert "non_standard" in record.notes
    assert record.token == "mybot"
    assert record.fetched_at == FETCHED
    assert record.http_status == 200
    assert record.sha256 == hashlib.sha256(body.encode()).hexdigest()
    assert verdicts([record]) == {"ai-train": D, "genai-train": D}


def test_e44_without_declared_token() -> None:
    record = one(disallow_ai_training_signals(evidence("User-agent: *\nDisallowAITraining: /\n")))
    assert record.token == "*"
    assert {"non_standard", "no_declared_token"} <= set(record.notes)


@pytest.mark.parametrize(
    ("path", "expected", "line"),
    [
        ("/photos/a.jpg", D, 2),
        ("/public/a.jpg", A, 3),
        ("/public/secret/a.jpg", D, 4),
        ("/same", A, 6),  # equal length: Allow wins
    ],
)
def test_longest_pattern_allow_wins_ties(path: str, expected: Verdict, line: int) -> None:
    body = (
        "User-agent: *\n"
        "DisallowAITraining: /\n"
        "AllowAITraining: /public/\n"
        "DisallowAITraining: /public/secret/\n"
        "DisallowAITraining: /same\n"
        "AllowAITraining: /same\n"
    )
    record = one(disallow_ai_training_signals(evidence(body, path)))
    assert dict(record.purposes) == {"ai-train": expected}
    assert record.raw_value is not None
    assert record.raw_value.endswith(f"(line {line})")


def test_allow_record_is_non_standard_too() -> None:
    record = one(disallow_ai_training_signals(evidence("User-agent: *\nAllowAITraining: /\n")))
    assert record.raw_value == "AllowAITraining: / (line 2)"
    assert dict(record.purposes) == {"ai-train": A}
    assert "non_standard" in record.notes


def test_wildcards_and_anchor() -> None:
    body = "User-agent: *\nDisallowAITraining: /*.jpg$\n"
    assert dict(one(disallow_ai_training_signals(evidence(body, "/x/a.jpg"))).purposes) == {
        "ai-train": D
    }
    assert disallow_ai_training_signals(evidence(body, "/x/a.jpg?s=1")) == []


def test_empty_pattern_matches_nothing() -> None:
    assert disallow_ai_training_signals(evidence("User-agent: *\nDisallowAITraining:\n")) == []


def test_group_selection() -> None:
    body = "User-agent: *\nDisallowAITraining: /\n\nUser-agent: mybot\nAllow: /\n"
    assert disallow_ai_training_signals(evidence(body, tokens=("mybot",))) == []
    assert len(disallow_ai_training_signals(evidence(body, tokens=("otherbot",)))) == 1


def test_field_name_is_case_insensitive_and_not_a_disallow() -> None:
    body = "User-agent: *\ndisallowaitraining: /\n"
    assert dict(one(disallow_ai_training_signals(evidence(body))).purposes) == {"ai-train": D}


def test_not_gated_on_crawlability() -> None:
    body = "User-agent: *\nDisallow: /\nDisallowAITraining: /\n"
    assert len(disallow_ai_training_signals(evidence(body))) == 1


@pytest.mark.parametrize("status", [404, 500])
def test_disallow_ai_training_needs_a_parsed_file(status: int) -> None:
    assert (
        disallow_ai_training_signals(
            evidence("User-agent: *\nDisallowAITraining: /\n", status=status)
        )
        == []
    )


def test_one_record_per_declared_token() -> None:
    body = "User-agent: *\nDisallowAITraining: /\n\nUser-agent: mybot\nAllowAITraining: /\n"
    records = disallow_ai_training_signals(evidence(body, tokens=("mybot", "other")))
    assert [(r.token, dict(r.purposes)) for r in records] == [
        ("mybot", {"ai-train": A}),
        ("other", {"ai-train": D}),
    ]


# --- the AI-token heuristic --------------------------------------------------------------------


def test_training_token_group_disallowing_is_ai_train_heuristic() -> None:
    body = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: Google-Extended\nDisallow: /photos/\n"
    ev = evidence(body, tokens=("mybot",))
    record = one(robots_ai_token_signals(ev))
    assert record.mechanism == "robots.ai_tokens"
    assert record.scope is Scope.ORIGIN
    assert dict(record.purposes) == {"ai-train": D}
    assert "heuristic" in record.notes
    assert (
        record.raw_value
        == "GPTBot: Disallow: / (line 2); Google-Extended: Disallow: /photos/ (line 5)"
    )
    assert record.parsed == "training_disallowed=GPTBot,Google-Extended; search_disallowed=-"
    assert record.token == "mybot"
    assert record.source_url == ROBOTS_URL
    assert record.applies_to == ev.url
    assert record.sha256 == hashlib.sha256(body.encode()).hexdigest()


def test_search_tokens_only_is_ai_input() -> None:
    body = "User-agent: OAI-SearchBot\nUser-agent: PerplexityBot\nDisallow: /\n"
    record = one(robots_ai_token_signals(evidence(body, tokens=("mybot",))))
    assert dict(record.purposes) == {"ai-input": D}
    assert record.parsed == "training_disallowed=-; search_disallowed=OAI-SearchBot,PerplexityBot"


def test_training_and_search_is_ai_train_only() -> None:
    body = "User-agent: CCBot\nUser-agent: ChatGPT-User\nDisallow: /\n"
    record = one(robots_ai_token_signals(evidence(body)))
    assert dict(record.purposes) == {"ai-train": D}
    assert record.raw_value == "CCBot: Disallow: / (line 3); ChatGPT-User: Disallow: / (line 3)"


def test_not_when_our_own_group_disallows() -> None:
    body = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: mybot\nDisallow: /photos/\n"
    assert robots_ai_token_signals(evidence(body, tokens=("mybot",))) == []
    assert len(robots_ai_token_signals(evidence(body, "/other.jpg", tokens=("mybot",)))) == 1


def test_star_group_does_not_count() -> None:
    body = "User-agent: *\nDisallow: /photos/\n\nUser-agent: mybot\nAllow: /\n"
    assert robots_ai_token_signals(evidence(body, tokens=("mybot",))) == []


def test_ai_group_allowing_the_path_is_no_evidence() -> None:
    body = "User-agent: GPTBot\nDisallow: /private/\nAllow: /photos/\n"
    assert robots_ai_token_signals(evidence(body)) == []
    assert len(robots_ai_token_signals(evidence(body, "/private/a.jpg"))) == 1


@pytest.mark.parametrize(
    ("agent", "counts"),
    [
        ("gptbot", True),  # case-insensitive
        ("  GPTBOT  ", True),
        ("GPTBot/1.0", False),  # whole value only: no prefixes
        ("GPTBot extra", False),  # not even Google's first-word leniency
        ("NotGPTBot", False),
    ],
)
def test_whole_value_case_insensitive_comparison(agent: str, counts: bool) -> None:
    body = f"User-agent: {agent}\nDisallow: /\n"
    assert bool(robots_ai_token_signals(evidence(body))) is counts


def test_first_word_groups_are_left_out_of_a_merged_selection() -> None:
    body = "User-agent: GPTBot\nDisallow: /a/\n\nUser-agent: GPTBot extra\nDisallow: /photos/\n"
    assert robots_ai_token_signals(evidence(body)) == []
    assert len(robots_ai_token_signals(evidence(body, "/a/x.jpg"))) == 1


def test_merged_named_groups() -> None:
    body = "User-agent: GPTBot\nDisallow: /a/\n\nUser-agent: gptbot\nDisallow: /photos/\n"
    record = one(robots_ai_token_signals(evidence(body)))
    assert record.raw_value == "GPTBot: Disallow: /photos/ (line 5)"


def test_declared_ai_token_is_our_own_group() -> None:
    body = "User-agent: GPTBot\nAllow: /\n\nUser-agent: CCBot\nDisallow: /\n"
    record = one(robots_ai_token_signals(evidence(body, tokens=("GPTBot",))))
    assert record.parsed == "training_disallowed=CCBot; search_disallowed=-"
    assert robots_ai_token_signals(evidence(body, tokens=("CCBot",))) == []


def test_one_record_per_allowed_declared_token() -> None:
    body = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: blocked\nDisallow: /\n"
    records = robots_ai_token_signals(evidence(body, tokens=("mybot", "blocked")))
    assert [r.token for r in records] == ["mybot"]


@pytest.mark.parametrize("status", [404, 503])
def test_heuristic_needs_a_parsed_file(status: int) -> None:
    assert (
        robots_ai_token_signals(evidence("User-agent: GPTBot\nDisallow: /\n", status=status)) == []
    )
