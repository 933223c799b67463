"""``--refetch``: the live source's signals now, next to the stored copy's signals at collection.

A loopback site (auditor.testing.siteserver) serves the image the manifest names, and now
reserves it three ways: robots.txt disallows the declared crawler's token ``AcmeImageBot``
(not the auditor's own), and the image answers with ``X-Robots-Tag: noai`` and
``TDM-Reservation: 1``. The stored copy (plain.jpg) carries no reservation, and the manifest
does not record what the source said at collection. So the collection-time evidence shows no
reservation but cannot exclude one: ``EU-DSM-A04-3-TDM-RESERVATION`` is ``review``, never
``fail``, and the live reservation only feeds ``signals.reserving_now``.

The site is a target of audit.yaml, so its loopback host is trusted, as in a crawl. A second
row names the same path on 127.0.0.2, which no target names: network safety refuses to
refetch it, and that refusal is recorded, never read as a reservation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.policy import load_packs
from auditor.testing.siteserver import SiteServer

from .test_audit_support import (
    FIXTURE_IMAGES,
    audit,
    cli,
    outcomes,
    query,
    signals_of,
    stored_facts,
    write_config,
    write_csv,
)

TDM_RULE = "EU-DSM-A04-3-TDM-RESERVATION"
SINCE_RULE = "EU-DSM-A04-3-RESERVED-SINCE-COLLECTION"
SITE_YAML = """\
routes:
  - path: /img/reserved.jpg
    headers:
      - X-Robots-Tag: noai
      - TDM-Reservation: 1
"""


@dataclass
class Audited:
    server: SiteServer
    url: str
    db: Path
    requests_before: int


def _untrusted(server: SiteServer) -> str:
    """The image's URL on another loopback address: private, and no target's host."""
    return server.url("/img/reserved.jpg").replace("127.0.0.1", "127.0.0.2")


def _site(directory: Path) -> Path:
    site = directory / "site"
    (site / "img").mkdir(parents=True)
    (site / "img" / "reserved.jpg").write_bytes((FIXTURE_IMAGES / "plain.jpg").read_bytes())
    (site / "robots.txt").write_text("User-agent: AcmeImageBot\nDisallow: /\n", encoding="utf-8")
    (site / "_site.yaml").write_text(SITE_YAML, encoding="utf-8")
    return site


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SiteServer, Path]]:
    directory = tmp_path_factory.mktemp("refetch")
    (directory / "images").mkdir()
    (directory / "images" / "copy.jpg").write_bytes((FIXTURE_IMAGES / "plain.jpg").read_bytes())
    with SiteServer(_site(directory)).start() as server:
        write_config(directory, targets=(server.url("/"),))
        write_csv(
            directory / "m.csv",
            [
                {
                    "url": server.url("/img/reserved.jpg"),
                    "page_url": server.url("/gallery.html"),
                    "collected_at": "2026-11-01T00:00:00Z",
                    "local_path": "images/copy.jpg",
                },
                {
                    "url": _untrusted(server),
                    "collected_at": "2026-11-01T00:00:00Z",
                    "local_path": "images/copy.jpg",
                },
            ],
        )
        yield server, directory


@pytest.fixture(scope="module")
def without_refetch(served: tuple[SiteServer, Path]) -> Audited:
    server, directory = served
    before = len(server.requests)
    db = directory / "plain.db"
    audit(directory / "m.csv", directory / "audit.yaml", db)
    return Audited(server, server.url("/img/reserved.jpg"), db, before)


@pytest.fixture(scope="module")
def with_refetch(served: tuple[SiteServer, Path], without_refetch: Audited) -> Audited:
    server, directory = served
    before = len(server.requests)
    db = directory / "refetch.db"
    done = cli("manifest", directory / "m.csv", "-c", directory / "audit.yaml", "--db", db,
               "--refetch", "--workers", "1", "-q")  # fmt: skip
    assert done.exit_code == 0, done.output
    return Audited(server, server.url("/img/reserved.jpg"), db, before)


# -- without --refetch ----------------------------------------------------------------------------


def test_without_refetch_the_source_is_not_contacted(without_refetch: Audited) -> None:
    assert len(without_refetch.server.requests) == without_refetch.requests_before


def test_without_refetch_there_are_no_signals_observed_now(without_refetch: Audited) -> None:
    signals = signals_of(without_refetch.db, without_refetch.url)
    assert signals
    assert {signal["observed"] for signal in signals} == {"collection"}
    assert "signals.reserving_now" not in stored_facts(without_refetch.db, without_refetch.url)


def test_without_refetch_origin_mechanisms_are_not_in_manifest(without_refetch: Audited) -> None:
    by_mechanism = {s["mechanism"]: s for s in signals_of(without_refetch.db, without_refetch.url)}
    for mechanism in ("robots", "tdmrep.file", "tdmrep.header", "x_robots_tag", "ai_txt"):
        assert by_mechanism[mechanism]["evaluation"] == "not_evaluated", mechanism
        assert by_mechanism[mechanism]["notes"] == ["not_in_manifest"], mechanism


def test_without_refetch_the_reservation_rule_asks_for_review(without_refetch: Audited) -> None:
    found = outcomes(without_refetch.db, [TDM_RULE, SINCE_RULE])
    mine = {key: outcome for key, outcome in found.items() if key[1] == without_refetch.url}
    assert mine == {(TDM_RULE, without_refetch.url): "review"}


# -- with --refetch -------------------------------------------------------------------------------


def test_refetch_reads_the_live_source(with_refetch: Audited) -> None:
    requests = with_refetch.server.requests[with_refetch.requests_before :]
    paths = [path for _method, path, _headers in requests]
    assert "/robots.txt" in paths
    assert "/img/reserved.jpg" in paths


def test_refetch_stores_what_the_source_says_now(with_refetch: Audited) -> None:
    now = [s for s in signals_of(with_refetch.db, with_refetch.url) if s["observed"] == "now"]
    by_mechanism = {s["mechanism"]: s for s in now}
    assert by_mechanism["x_robots_tag"]["evaluation"] == "evaluated"
    assert by_mechanism["x_robots_tag"]["purposes"].get("ai-train") == "disallowed"
    assert by_mechanism["tdmrep.header"]["evaluation"] == "evaluated"
    assert by_mechanism["robots"]["http_status"] == 200
    assert by_mechanism["robots"]["purposes"].get("crawl") == "disallowed"
    assert by_mechanism["meta_robots"]["notes"] == ["page_not_refetched"]


def test_refetch_facts_name_the_reservations_now(with_refetch: Audited) -> None:
    facts = stored_facts(with_refetch.db, with_refetch.url, datetime.now(UTC))
    reserving_now = facts["signals.reserving_now"]
    assert isinstance(reserving_now, list)
    assert {"robots", "tdmrep.header", "x_robots_tag"} <= set(reserving_now)
    assert facts["signals.reserving"] == []  # nothing reserved on record at collection


def test_refetch_keeps_the_collection_evidence_and_the_rule_at_review(
    with_refetch: Audited,
) -> None:
    """A reservation seen only now is not evidence that collection ignored one."""
    found = outcomes(with_refetch.db, [TDM_RULE])
    assert found[(TDM_RULE, with_refetch.url)] == "review"
    collected = [
        s for s in signals_of(with_refetch.db, with_refetch.url) if s["observed"] == "collection"
    ]
    assert {s["mechanism"] for s in collected if s["notes"] == ["not_in_manifest"]} >= {
        "robots", "tdmrep.header", "x_robots_tag",
    }  # fmt: skip
    now = [s for s in signals_of(with_refetch.db, with_refetch.url) if s["observed"] == "now"]
    assert now  # something was recorded as observed now
    if any(rule.id == SINCE_RULE for rule in load_packs(["eu-copyright"]).rules):
        since = outcomes(with_refetch.db, [SINCE_RULE])
        assert since[(SINCE_RULE, with_refetch.url)] == "fail"


def test_refetch_refuses_a_private_host_no_target_names(with_refetch: Audited) -> None:
    untrusted = _untrusted(with_refetch.server)
    (skip,) = query(with_refetch.db, "SELECT reason, detail FROM skips WHERE url = ?", (untrusted,))
    assert skip[0] == "private_address"
    assert "refetch of row m.csv#1" in skip[1] and "127.0.0.2" in skip[1]
    now = {
        s["mechanism"]: s for s in signals_of(with_refetch.db, untrusted) if s["observed"] == "now"
    }
    assert now["robots"]["evaluation"] == "not_evaluated"
    assert "robots_refused" in now["robots"]["notes"]
    facts = stored_facts(with_refetch.db, untrusted, datetime.now(UTC))
    assert facts["signals.reserving_now"] == []  # a refusal is never a reservation
    assert outcomes(with_refetch.db, [SINCE_RULE]).get((SINCE_RULE, untrusted)) != "fail"
