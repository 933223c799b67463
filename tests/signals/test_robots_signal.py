"""robots.txt evidence for the *declared* crawler (``auditor.signals.robots``).

One record per declared token with the crawl verdict RFC 9309 gives it for the image URL; with
no declared token the ``*`` group decides and the record says so; the deciding line is kept as
``raw_value``; an unreachable robots.txt disallows, with a note saying why.
"""

from __future__ import annotations

import hashlib

import pytest

from auditor.crawl.origins import FetchMeta, RobotsEntry
from auditor.crawl.robots import policy_from_fetch
from auditor.model import Scope, SignalRecord, Verdict
from auditor.signals import image_mechanisms
from auditor.signals.aitxt import parse_ai_txt
from auditor.signals.evidence import ImageEvidence, OriginEvidence
from auditor.signals.robots import FALLBACK_TOKEN
from auditor.signals.robots import robots_signals as mechanism
from auditor.signals.tdmrep import parse_tdmrep_file

ORIGIN = "https://img.example.org"
IMAGE = f"{ORIGIN}/photos/private/a.jpg?size=large"
ROBOTS = """\
User-agent: *
Disallow: /photos/

User-agent: AcmeImageBot
Disallow: /photos/private/
Allow: /photos/private/a.jpg$

User-agent: OtherBot
Allow: /
"""


def entry(
    body: str | None = ROBOTS,
    status: int | None = 200,
    *,
    error: str | None = None,
    redirect_limit: bool = False,
) -> RobotsEntry:
    raw = body.encode() if body is not None else None
    policy = policy_from_fetch(status, raw, error=error, redirect_limit_hit=redirect_limit)
    return RobotsEntry(
        origin=ORIGIN,
        source_url=f"{ORIGIN}/robots.txt",
        final_url=f"{ORIGIN}/robots.txt",
        policy=policy,
        fetched_at="2026-10-01T12:00:00+00:00",
        sha256=hashlib.sha256(raw).hexdigest() if raw is not None else None,
        expires_at=0.0,
    )


def absent(path: str) -> FetchMeta:
    return FetchMeta(f"{ORIGIN}{path}", f"{ORIGIN}{path}", 404, None, None, None)


def robots_signals(robots: RobotsEntry, url: str, tokens: tuple[str, ...]) -> list[SignalRecord]:
    """Run the mechanism on an image whose origin has only this robots.txt."""
    origin = OriginEvidence(
        origin=ORIGIN,
        robots=robots,
        tdmrep_meta=absent("/.well-known/tdmrep.json"),
        tdmrep=parse_tdmrep_file(404, None, None),
        ai_txt_meta=absent("/ai.txt"),
        ai_txt=parse_ai_txt(404, None, None),
    )
    evidence = ImageEvidence(
        url=url,
        tokens=tokens,
        origin=origin,
        response_headers=None,
        status=None,
        fetched_at=None,
        facts=None,
        pages=(),
    )
    return mechanism(evidence)


def test_registered_as_the_robots_mechanism() -> None:
    assert image_mechanisms(None)["robots"] is mechanism


def test_one_record_per_declared_token_in_order() -> None:
    records = robots_signals(entry(), IMAGE, ("AcmeImageBot", "OtherBot", "UnknownBot"))
    assert [r.token for r in records] == ["AcmeImageBot", "OtherBot", "UnknownBot"]
    assert all(r.mechanism == "robots" for r in records)
    assert all(r.scope is Scope.ORIGIN for r in records)


def test_record_carries_the_evidence_fields() -> None:
    (record,) = robots_signals(entry(), IMAGE, ("OtherBot",))
    assert record.source_url == f"{ORIGIN}/robots.txt"
    assert record.applies_to == IMAGE
    assert record.fetched_at == "2026-10-01T12:00:00+00:00"
    assert record.http_status == 200
    assert record.sha256 == hashlib.sha256(ROBOTS.encode()).hexdigest()
    assert record.raw_value == "Allow: / (line 9)"
    assert record.parsed == "matched"
    assert dict(record.purposes) == {"crawl": Verdict.ALLOWED}
    assert record.notes == ()


@pytest.mark.parametrize(
    ("token", "url", "verdict", "raw_value"),
    [
        pytest.param(
            "AcmeImageBot",
            f"{ORIGIN}/photos/private/b.jpg",
            Verdict.DISALLOWED,
            "Disallow: /photos/private/ (line 5)",
            id="own-group-disallows",
        ),
        pytest.param(
            "AcmeImageBot",
            f"{ORIGIN}/photos/private/a.jpg",
            Verdict.ALLOWED,
            "Allow: /photos/private/a.jpg$ (line 6)",
            id="own-group-longest-allow",
        ),
        pytest.param(
            "acmeimagebot",
            f"{ORIGIN}/photos/private/b.jpg",
            Verdict.DISALLOWED,
            "Disallow: /photos/private/ (line 5)",
            id="token-case-insensitive",
        ),
        pytest.param(
            "AcmeImageBot",
            f"{ORIGIN}/photos/public.jpg",
            Verdict.ALLOWED,
            None,
            id="named-group-shadows-star",
        ),
        pytest.param(
            "UnknownBot",
            f"{ORIGIN}/photos/public.jpg",
            Verdict.DISALLOWED,
            "Disallow: /photos/ (line 2)",
            id="unnamed-token-uses-star",
        ),
        pytest.param(
            "UnknownBot", f"{ORIGIN}/about.html", Verdict.ALLOWED, None, id="star-no-match"
        ),
    ],
)
def test_crawl_verdict_per_token(
    token: str, url: str, verdict: Verdict, raw_value: str | None
) -> None:
    (record,) = robots_signals(entry(), url, (token,))
    assert record.purposes["crawl"] is verdict
    assert record.raw_value == raw_value
    assert record.token == token


def test_query_string_is_part_of_the_match() -> None:
    body = "User-agent: *\nDisallow: /*?size=large\n"
    (large,) = robots_signals(entry(body), f"{ORIGIN}/a.jpg?size=large", ())
    (small,) = robots_signals(entry(body), f"{ORIGIN}/a.jpg?size=small", ())
    assert large.purposes["crawl"] is Verdict.DISALLOWED
    assert small.purposes["crawl"] is Verdict.ALLOWED


def test_only_crawl_is_decided() -> None:
    # robots.txt Allow/Disallow says nothing about training or search (9.2).
    for record in robots_signals(entry(), IMAGE, ("AcmeImageBot", "UnknownBot")):
        assert set(record.purposes) == {"crawl"}


# --- no declared token -------------------------------------------------------------------------


def test_no_declared_token_falls_back_to_star_and_says_so() -> None:
    (record,) = robots_signals(entry(), f"{ORIGIN}/photos/x.jpg", ())
    assert record.token == FALLBACK_TOKEN == "*"
    assert "no_declared_token" in record.notes
    assert record.purposes["crawl"] is Verdict.DISALLOWED
    assert record.raw_value == "Disallow: /photos/ (line 2)"


def test_declared_token_has_no_fallback_note() -> None:
    (record,) = robots_signals(entry(), f"{ORIGIN}/photos/x.jpg", ("UnknownBot",))
    assert "no_declared_token" not in record.notes


def test_star_fallback_with_only_named_groups_allows() -> None:
    (record,) = robots_signals(entry("User-agent: OtherBot\nDisallow: /\n"), IMAGE, ())
    assert record.purposes["crawl"] is Verdict.ALLOWED
    assert record.parsed == "no_group"


# --- availability ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "notes"),
    [
        pytest.param({"status": 503}, ("robots_server_error", "robots_unreachable"), id="503"),
        pytest.param({"status": 429}, ("robots_rate_limited", "robots_unreachable"), id="429"),
        pytest.param(
            {"status": None, "error": "connect_error", "body": None},
            ("robots_fetch_error", "robots_unreachable"),
            id="network-error",
        ),
        pytest.param(
            {"status": None, "redirect_limit": True, "body": None},
            ("robots_redirect_limit", "robots_unreachable"),
            id="redirect-limit",
        ),
    ],
)
def test_unreachable_robots_disallows_with_a_note(
    kwargs: dict[str, object], notes: tuple[str, ...]
) -> None:
    records = robots_signals(entry(**kwargs), IMAGE, ("AcmeImageBot", "OtherBot"))  # type: ignore[arg-type]
    for record in records:
        assert record.purposes["crawl"] is Verdict.DISALLOWED
        assert record.notes == notes
        assert record.parsed == "robots_unreachable"
        assert record.raw_value is None


@pytest.mark.parametrize(
    ("status", "notes"),
    [
        pytest.param(404, ("robots_unavailable",), id="404"),
        pytest.param(403, ("robots_access_denied", "robots_unavailable"), id="403"),
    ],
)
def test_unavailable_robots_allows_with_a_note(status: int, notes: tuple[str, ...]) -> None:
    (record,) = robots_signals(entry("User-agent: *\nDisallow: /\n", status), IMAGE, ("X",))
    assert record.purposes["crawl"] is Verdict.ALLOWED
    assert record.notes == notes
    assert record.http_status == status


def test_parsed_file_has_no_availability_note() -> None:
    (record,) = robots_signals(entry(), IMAGE, ("AcmeImageBot",))
    assert not any(note.startswith("robots_") for note in record.notes)


def test_parse_notes_are_carried_into_the_record() -> None:
    (record,) = robots_signals(entry("User-agent: *\nDisallow /\n"), IMAGE, ("X",))
    assert record.purposes["crawl"] is Verdict.DISALLOWED  # E13: missing colon
    assert "lenient_parse" in record.notes
