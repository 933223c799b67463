"""Retention on manifest rows: expired copies fail, kept ones do not, unknown dates never pass.

The orchestrator runs in process with a fixed clock (``NOW``, 2026-11-22T12:00Z), so every
age is exact. With ``crawler.retention_days: 30`` the image rules
``UK-GDPR-A05-1E-RETENTION-EXPIRED`` and ``EU-GDPR-A05-1E-RETENTION-EXPIRED`` fail past 30 days,
pass up to and including 30 days, and give ``insufficient_data`` when the row has no usable
``collected_at``. With no limit declared the declaration rules ``*-A05-1E-RETENTION`` fail and
every stored copy needs a decision (``review``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .test_audit_support import (
    HOST,
    RETENTION_DECLARED,
    RETENTION_RULES,
    audit,
    outcomes,
    query,
    tiny_image,
    write_config,
    write_csv,
)

ROWS: dict[str, str | None] = {
    "old": "2026-09-01T12:00:00Z",  # 82 days
    "just-expired": "2026-10-23T11:00:00Z",  # 30 days and an hour
    "on-the-day": "2026-10-23T12:00:00Z",  # exactly 30 days: not past the limit
    "recent": "2026-11-20",  # 2.5 days
    "offset": "2026-10-23T13:30:00+02:00",  # 30 days and half an hour, given in UTC+2
    "unix": "1767225600",  # 2026-01-01T00:00:00Z as Unix seconds
    "missing": None,
    "malformed": "last Tuesday",
}
EXPIRED = {"old", "just-expired", "offset", "unix"}
KEPT = {"on-the-day", "recent"}
UNKNOWN = {"missing", "malformed"}


def url(name: str) -> str:
    return f"{HOST}/kept/{name}.png"


def manifest(directory: Path) -> Path:
    (directory / "images").mkdir()
    rows = []
    for index, (name, collected) in enumerate(ROWS.items()):
        (directory / "images" / f"{name}.png").write_bytes(tiny_image(index))
        rows.append(
            {"url": url(name), "collected_at": collected, "local_path": f"images/{name}.png"}
        )
    rows.append({"url": f"{HOST}/not-kept/old.jpg", "collected_at": "2025-01-01"})
    return write_csv(directory / "m.csv", rows)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("limited")
    db = directory / "audit.db"
    summary = audit(manifest(directory), write_config(directory, retention_days=30), db)
    assert summary.status == "complete"
    return db


@pytest.fixture(scope="module")
def unlimited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("unlimited")
    db = directory / "audit.db"
    audit(manifest(directory), write_config(directory, retention_days=None), db)
    return db


def _evidence(db: Path, rule: str, image: str) -> dict[str, Any]:
    (row,) = query(
        db, "SELECT evidence_json FROM findings WHERE rule_id = ? AND image_url = ?", (rule, image)
    )
    evidence: dict[str, Any] = json.loads(row[0])
    return evidence


@pytest.mark.parametrize("name", sorted(EXPIRED))
def test_a_copy_kept_past_the_limit_fails_both_retention_rules(limited: Path, name: str) -> None:
    found = outcomes(limited, RETENTION_RULES)
    for rule in RETENTION_RULES:
        assert found.get((rule, url(name))) == "fail", rule


def test_the_failure_records_the_age_at_the_injected_clock(limited: Path) -> None:
    for rule in RETENTION_RULES:
        evidence = _evidence(limited, rule, url("old"))
        assert evidence["image.age_days"] == 82.0
        assert evidence["crawler.retention_days"] == 30
    (collected,) = query(limited, "SELECT fetched_at FROM images WHERE url = ?", (url("offset"),))
    assert collected == ("2026-10-23T11:30:00Z",)
    (message,) = query(
        limited,
        "SELECT message FROM findings WHERE rule_id = ? AND image_url = ?",
        (RETENTION_RULES[0], url("just-expired")),
    )
    assert "30.042 days ago" in message[0]


@pytest.mark.parametrize("name", sorted(KEPT))
def test_a_copy_within_the_limit_does_not_fail(limited: Path, name: str) -> None:
    found = outcomes(limited, RETENTION_RULES)
    for rule in RETENTION_RULES:
        assert (rule, url(name)) not in found  # passes are counted, not stored
    passes = query(
        limited, "SELECT passes FROM rule_stats WHERE rule_id IN (?, ?)", RETENTION_RULES
    )
    assert [count for (count,) in passes] == [len(KEPT), len(KEPT)]


@pytest.mark.parametrize("name", sorted(UNKNOWN))
def test_an_unknown_collection_time_is_insufficient_data_never_a_pass(
    limited: Path, name: str
) -> None:
    found = outcomes(limited, RETENTION_RULES)
    for rule in RETENTION_RULES:
        assert found.get((rule, url(name))) == "insufficient_data", rule


def test_the_malformed_date_is_also_a_bad_value_skip(limited: Path) -> None:
    (detail,) = query(
        limited,
        "SELECT detail FROM skips WHERE url = ? AND reason = 'bad_value'",
        (url("malformed"),),
    )
    assert "row m.csv#7" in detail[0] and "last Tuesday" in detail[0]


def test_a_row_without_a_stored_copy_is_judged_on_its_collection_time(limited: Path) -> None:
    """The crawler collected it (the manifest says so): the limit applies to it too."""
    found = outcomes(limited, RETENTION_RULES)
    for rule in RETENTION_RULES:
        assert found.get((rule, f"{HOST}/not-kept/old.jpg")) == "fail"


def test_the_run_counts_match_the_stored_outcomes(limited: Path) -> None:
    stats = dict(
        query(
            limited,
            "SELECT rule_id, fails || '/' || passes || '/' || insufficient FROM rule_stats "
            "WHERE rule_id IN (?, ?)",
            RETENTION_RULES,
        )
    )
    expected = f"{len(EXPIRED) + 1}/{len(KEPT)}/{len(UNKNOWN)}"
    assert stats == dict.fromkeys(RETENTION_RULES, expected)


def test_with_a_limit_declared_the_declaration_rules_pass(limited: Path) -> None:
    stored = query(
        limited,
        "SELECT rule_id FROM findings WHERE subject = 'declaration' AND rule_id IN (?, ?)",
        RETENTION_DECLARED,
    )
    assert stored == []


def test_without_a_limit_the_declaration_fails_and_every_copy_needs_a_decision(
    unlimited: Path,
) -> None:
    declared = dict(
        query(
            unlimited,
            "SELECT rule_id, outcome FROM findings WHERE subject = 'declaration' "
            "AND rule_id IN (?, ?)",
            RETENTION_DECLARED,
        )
    )
    assert declared == dict.fromkeys(RETENTION_DECLARED, "fail")
    found = outcomes(unlimited, RETENTION_RULES)
    for name in ROWS:
        for rule in RETENTION_RULES:
            assert found.get((rule, url(name))) == "review", (rule, name)
    assert "fail" not in found.values()
