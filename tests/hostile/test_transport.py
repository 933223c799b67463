"""Hostile transports: redirect loops and chains, slowloris trickles, silent servers,
Content-Length lies, resets and closes mid-exchange, endless chunked bodies.

Each test checks that the shared audit cut the exchange at its limit (redirects, total
deadline, byte cap) and recorded the skip with its reason and detail, and that the good page
and photo on the same site were recorded as usual.
"""

from __future__ import annotations

import pytest

from .harness import CRAWL, HostileRun, Record, verdict


@pytest.fixture
def run(hostile_run: HostileRun) -> HostileRun:
    return hostile_run


def skip_of(run: HostileRun, case: str, path: str) -> tuple[str, str] | None:
    found = run.skips(run.url(case, path))
    return (found[0]["reason"], found[0]["detail"] or "") if len(found) == 1 else None


def test_redirect_loops_and_long_chains_stop_at_the_limit(
    run: HostileRun, record_property: Record
) -> None:
    case = "transport/redirects"
    limited = ("redirect_limit", "more than 5 redirects")
    arrived = run.page(run.url(case, "/short/1")) or {}
    verdict(
        record_property, run, case,
        survived=skip_of(run, case, "/loop-a") == limited
        and skip_of(run, case, "/hop/1") == limited
        and skip_of(run, case, "/img-loop.jpg") == limited
        and arrived.get("final_url") == run.url(case, "/arrived.html"),  # 3 hops are fine
        why=f"loop: {skip_of(run, case, '/loop-a')}, chain: {skip_of(run, case, '/hop/1')}",
    )  # fmt: skip


def test_trickled_and_silent_responses_hit_the_deadline(
    run: HostileRun, record_property: Record
) -> None:
    case = "transport/slowloris"
    deadline = f"no complete response within {CRAWL['total_timeout']:g} s"
    page, image = skip_of(run, case, "/trickle.html"), skip_of(run, case, "/trickle.jpg")
    silent = skip_of(run, case, "/silent.html")
    verdict(
        record_property, run, case,
        # Each trickled byte arrives well inside the read timeout: only the total deadline
        # ends the exchange. The silent server never sends headers: the read timeout does.
        survived=page == ("timeout", deadline)
        and image == ("timeout", deadline)
        and silent is not None
        and silent[0] == "timeout",
        why=f"trickled page: {page}, image: {image}, silent: {silent}",
    )  # fmt: skip


def test_content_length_lies(run: HostileRun, record_property: Record) -> None:
    case = "transport/content_length"
    short_image, short_page = skip_of(run, case, "/short.jpg"), skip_of(run, case, "/short.html")
    long_image = run.image(run.url(case, "/long.jpg")) or {}
    verdict(
        record_property, run, case,
        # Less than declared: an incomplete body, never used. More than declared: the declared
        # length is read and the cut image is a "truncated" fact.
        survived=short_image is not None
        and short_image[0] == "protocol_error"
        and "complete message body" in short_image[1]
        and short_page is not None
        and short_page[0] == "protocol_error"
        and long_image.get("extract_error") == "truncated",
        why=f"short: {short_image} {short_page}, long: {long_image.get('extract_error')}",
    )  # fmt: skip


def test_resets_and_closed_connections(run: HostileRun, record_property: Record) -> None:
    case = "transport/resets"
    found = {
        path: skip_of(run, case, path) for path in ("/reset.html", "/reset.jpg", "/closed.html")
    }
    verdict(
        record_property, run, case,
        survived=all(skip is not None and skip[0] == "protocol_error" for skip in found.values()),
        why=f"skips: {found}",
    )  # fmt: skip


def test_endless_chunked_bodies_stop_at_the_byte_cap(
    run: HostileRun, record_property: Record
) -> None:
    case = "transport/endless"
    page, image = skip_of(run, case, "/endless.html"), skip_of(run, case, "/endless.jpg")
    verdict(
        record_property, run, case,
        survived=page == ("too_large", f"body exceeds {CRAWL['max_page_bytes']} bytes")
        and image == ("too_large", f"body exceeds {CRAWL['max_image_bytes']} bytes"),
        why=f"page: {page}, image: {image}",
    )  # fmt: skip
