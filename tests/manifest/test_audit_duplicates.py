"""Two rows of one manifest with the same URL: one image (the first row) and a duplicate skip.

The manifest (in process, fixed clock, retention 30 days) has three pairs of duplicates:

- ``a.jpg``: row 0 collected in 2024 (expired), row 2 collected two days ago (kept), both in the
  first batch the writer buffers;
- ``b.png``: row 1 and row 3, each with its own stored copy;
- ``c.jpg``: row 4 and the last row, with 150 rows between them, so the earlier one is committed
  in an earlier batch than the later one (the writer finds it in the database, not its buffer).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from .test_audit_support import (
    HOST,
    RETENTION_RULES,
    audit,
    outcomes,
    query,
    tiny_image,
    write_config,
    write_csv,
)

A, B, C = f"{HOST}/dup/a.jpg", f"{HOST}/dup/b.png", f"{HOST}/dup/c.jpg"
FILLER = 150
LAST = 5 + FILLER


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("duplicates")
    (directory / "images").mkdir()
    (directory / "images" / "b1.png").write_bytes(tiny_image(1))
    (directory / "images" / "b2.png").write_bytes(tiny_image(2))
    rows: list[dict[str, str | None]] = [
        {"url": A, "collected_at": "2024-01-01", "caption": "first a"},
        {"url": B, "collected_at": "2026-11-20", "local_path": "images/b1.png"},
        {"url": A, "collected_at": "2026-11-20", "caption": "second a"},
        {"url": B, "collected_at": "2026-11-21", "local_path": "images/b2.png"},
        {"url": C, "collected_at": "2024-01-01", "caption": "first c"},
    ]
    rows += [{"url": f"{HOST}/filler/{n}.jpg", "collected_at": "2026-11-20"} for n in range(FILLER)]
    rows.append({"url": C, "collected_at": "2026-11-21", "caption": "second c"})
    path = directory / "audit.db"
    summary = audit(write_csv(directory / "m.csv", rows), write_config(directory), path)
    assert summary.status == "complete"
    return path


def test_each_url_is_one_image_row_from_the_first_row(db: Path) -> None:
    rows = {
        url: (key, collected, local)
        for url, key, collected, local in query(
            db,
            "SELECT url, source_key, fetched_at, local_path FROM images WHERE url LIKE ?",
            (f"{HOST}/dup/%",),
        )
    }
    assert rows == {
        A: ("m.csv#0", "2024-01-01T00:00:00Z", None),
        B: ("m.csv#1", "2026-11-20T00:00:00Z", "images/b1.png"),
        C: ("m.csv#4", "2024-01-01T00:00:00Z", None),
    }
    (count,) = query(db, "SELECT COUNT(*) FROM images")
    assert count == (3 + FILLER,)


def test_each_duplicate_is_a_skip_naming_both_rows_and_the_later_copy(db: Path) -> None:
    found = query(db, "SELECT url, kind, detail FROM skips WHERE reason = 'duplicate_url'")
    assert sorted(found) == sorted(
        [
            (A, "manifest", "row m.csv#2 has the same URL as row m.csv#0; the image is audited "
             "once, as row m.csv#0"),
            (B, "manifest", "row m.csv#3 (copy images/b2.png) has the same URL as row m.csv#1; "
             "the image is audited once, as row m.csv#1"),
            (C, "manifest", f"row m.csv#{LAST} has the same URL as row m.csv#4; the image is "
             "audited once, as row m.csv#4"),
        ]
    )  # fmt: skip


def test_the_kept_row_signals_belong_to_the_first_copy(db: Path) -> None:
    (sha,) = query(db, "SELECT sha256 FROM images WHERE url = ?", (B,))
    assert sha == (hashlib.sha256(tiny_image(1)).hexdigest(),)
    (signals,) = query(
        db,
        "SELECT COUNT(*) FROM signals s JOIN images i ON i.id = s.image_id WHERE i.url = ?",
        (A,),
    )
    (single,) = query(
        db,
        "SELECT COUNT(*) FROM signals s JOIN images i ON i.id = s.image_id WHERE i.url = ?",
        (f"{HOST}/filler/0.jpg",),
    )
    assert signals == single  # one row's signals, not both rows'


@pytest.mark.parametrize("url", [A, C], ids=["same-batch", "earlier-batch"])
def test_findings_are_those_of_the_row_that_is_kept(db: Path, url: str) -> None:
    """Rows 0 and 4 (2024, kept) expired; the later duplicates (2026-11-2x) are not audited."""
    found = outcomes(db, RETENTION_RULES)
    for rule in RETENTION_RULES:
        assert found[(rule, url)] == "fail", rule
    (recent,) = query(
        db, "SELECT COUNT(*) FROM findings WHERE image_url = ? AND message LIKE '% 1 days%'", (url,)
    )
    assert recent == (0,)


def test_the_run_counts_each_url_once(db: Path) -> None:
    (images,) = query(db, "SELECT COUNT(*) FROM images")
    assert query(db, "SELECT images FROM runs") == [images]
    stats = query(
        db,
        "SELECT passes + fails + reviews + insufficient FROM rule_stats WHERE rule_id = ?",
        (RETENTION_RULES[0],),
    )
    assert stats == [images]
