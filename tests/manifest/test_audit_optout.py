"""The opt-out list on manifest rows: by URL, by domain and by photo, before and after collection.

The list is written with the real ``auditor optout add`` (``-c audit.yaml``, whose
``optout_list: optout.db``), and the manifest is audited with the real CLI. The CLI judges ages
with today's date, so every date below is relative to today (no erasure deadline is declared:
the rules use Art. 12(3)'s month, 30 days). The three rules checked are
``GLOBAL-OPTOUT-ENFORCED``, ``UK-GDPR-A17-21-OPTOUT-ENFORCED`` and
``EU-GDPR-A21-PRE-COLLECTION-OPTOUT``; they fail when the image was collected on or after the
day the request arrived, or is still held more than 30 days after it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from .test_audit_support import (
    FIXTURE_IMAGES,
    HOST,
    OPTOUT_RULES,
    cli,
    copy_fixture_images,
    outcomes,
    query,
    signals_of,
    stored_facts,
    write_config,
    write_csv,
)

TODAY = datetime.now(UTC).date()
PORTRAIT_PHASH = "c2924c5532bddfc8"  # fixtures/manifests/basic.csv, as the extractor computes it


def day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


@dataclass(frozen=True)
class Case:
    url: str
    collected: int  # days ago
    local_path: str | None
    phash: str | None
    kind: str | None  # the list entry that matches: url, domain, phash; None: not listed
    outcome: str | None  # of the three rules; None: no finding (pass or not applicable)


#: listed entries: (target, received days ago)
CASES = {
    # URL listed 40 days ago, collected 20 days ago: collected after the request.
    "url-after": Case(f"{HOST}/u/after.png", 20, "images/graphic.png", None, "url", "fail"),
    # URL listed 10 days ago, collected 50 days ago, deadline (30 days) not reached.
    "url-before": Case(f"{HOST}/u/before.jpg", 50, "images/plain.jpg", None, "url", None),
    # Domain listed 60 days ago, collected 90 days ago: held past the 30-day deadline.
    "domain-held": Case(
        "https://cdn.blocked.example.net/x.jpg", 90, "images/plain.jpg", None, "domain", "fail"
    ),
    # The listed photo (portrait.jpg, listed 5 days ago) collected today.
    "photo-after": Case(f"{HOST}/p/portrait.jpg", 0, "images/portrait.jpg", None, "phash", "fail"),
    # No stored copy, but the manifest's phash column is the listed photo's: still collected.
    "photo-no-copy": Case(f"{HOST}/p/elsewhere.jpg", 0, None, PORTRAIT_PHASH, "phash", "fail"),
    # Not listed at all.
    "unlisted": Case(f"{HOST}/u/free.jpg", 0, "images/photo.jpg", None, None, None),
}
ENTRIES = [
    (CASES["url-after"].url, 40),
    (CASES["url-before"].url, 10),
    ("blocked.example.net", 60),
    (str(FIXTURE_IMAGES / "portrait.jpg"), 5),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("optout")
    copy_fixture_images(directory)
    config = write_config(directory, optout_list="optout.db")
    for target, received in ENTRIES:
        added = cli("optout", "add", target, "--received", day(received), "-c", config)
        assert added.exit_code == 0, added.output
    rows = [
        {
            "url": case.url,
            "page_url": f"{HOST}/gallery/",
            "collected_at": f"{day(case.collected)}T00:00:00Z",
            "local_path": case.local_path,
            "phash": case.phash,
        }
        for case in CASES.values()
    ]
    manifest = write_csv(directory / "m.csv", rows)
    path = directory / "audit.db"
    done = cli("manifest", manifest, "-c", config, "--db", path, "--workers", "1")
    assert done.exit_code == 0, done.output
    assert "(4 entries)" in done.stderr
    return path


def _optout_signal(db: Path, url: str) -> dict[str, Any] | None:
    found = [s for s in signals_of(db, url) if s["mechanism"] == "optout_list"]
    assert len(found) <= 1
    return found[0] if found else None


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_rules_fail_exactly_when_they_must(db: Path, name: str) -> None:
    case = CASES[name]
    found = outcomes(db, OPTOUT_RULES)
    for rule in OPTOUT_RULES:
        assert found.get((rule, case.url)) == case.outcome, rule


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_match_is_recorded_as_an_optout_list_signal(db: Path, name: str) -> None:
    case = CASES[name]
    record = _optout_signal(db, case.url)
    if case.kind is None:
        assert record is None  # checked, no match: no record (the facts say "none")
        assert stored_facts(db, case.url, datetime.now(UTC))["image.optout_match"] == "none"
        return
    assert record is not None
    assert record["evaluation"] == "evaluated"
    assert record["observed"] == "collection"
    assert record["notes"] == [f"match_{case.kind}"]
    assert set(record["purposes"].values()) == {"disallowed"}
    parsed = json.loads(record["parsed"])
    assert parsed["kind"] == case.kind and parsed["near"] is False
    received = dict(ENTRIES)
    target = {"url": case.url, "domain": "blocked.example.net"}.get(
        case.kind, str(FIXTURE_IMAGES / "portrait.jpg")
    )
    assert parsed["received"] == day(received[target])
    facts = stored_facts(db, case.url, datetime.now(UTC))
    assert facts["image.optout_match"] == "exact"
    disallowing = facts["signals.disallowing"]
    assert isinstance(disallowing, list) and "optout_list" in disallowing


def test_a_photo_match_without_a_stored_copy_uses_the_manifest_phash(db: Path) -> None:
    """The row names no local file; the manifest's phash column alone finds the listed photo.

    A manifest row is an image the crawler collected, stored copy or not (``image.fetched``), so
    the opt-out rules judge it (see ``test_the_rules_fail_exactly_when_they_must``).
    """
    record = _optout_signal(db, CASES["photo-no-copy"].url)
    assert record is not None
    assert json.loads(record["parsed"])["distance"] == 0
    facts = stored_facts(db, CASES["photo-no-copy"].url, datetime.now(UTC))
    assert facts["image.fetched"] is True
    assert facts["usage.ai-train"] == "disallowed"


def test_the_dataset_counts_the_collected_matches(db: Path) -> None:
    (aggregates,) = query(db, "SELECT aggregates_json FROM runs")
    collected = [n for n, c in CASES.items() if c.kind is not None]
    assert json.loads(aggregates[0])["facts"]["dataset.optout_collected"] == len(collected)
    (dataset,) = query(
        db, "SELECT outcome FROM findings WHERE rule_id = 'GLOBAL-OPTOUT-ENFORCED-DATASET'"
    )
    assert dataset == ("fail",)


def test_received_dates_are_relative_to_today() -> None:
    """Guard the premise: the cases straddle the 30-day deadline on either side."""
    assert date.fromisoformat(day(10)) > TODAY - timedelta(days=30) > date.fromisoformat(day(60))
