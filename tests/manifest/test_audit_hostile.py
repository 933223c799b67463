"""The hostile fixture manifest, audited end to end: the run completes and bad rows are skips.

A copy of fixtures/manifests/hostile.jsonl (paths escaping the folder, non-objects,
javascript:/data: URLs, control characters, bad JSON and UTF-8, deep nesting, huge numbers,
too many columns, bad hashes and dates), with the 10 MB line the readers must survive and one
row with a URL of its own (so its image is not replaced by a later duplicate) but too many and
too long extra columns with control characters appended, next to a copy of the fixture images
(so ``images`` is a folder and ``images/photo.jpg`` exists).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import Result

from .test_audit_support import HOST, MANIFESTS, cli, copy_fixture_images, query, write_config

OK = f"{HOST}/hostile/ok.jpg"
WIDE = f"{HOST}/hostile/wide.jpg"
#: Line numbers (from 0) of the rows the reader drops, and a word of each message.
BAD_ROWS = {
    2: "not a JSON object",
    3: "not a JSON object",
    4: "only http and https",
    5: "control characters",
    7: "not JSON",
    8: "not valid UTF-8",
    9: "nests too deeply",
    10: "not JSON",
    15: "no 'url' value",
    16: "not text",
    17: "only http and https",
    18: "longer than",
    20: "not a JSON object",
    21: "no 'url' value",
    22: "over 1048576 bytes",  # the 10 MB line
}
#: Rows kept with a value refused (``bad_value``), and a word of each message.
BAD_VALUES = {
    0: "outside the manifest's folder",
    1: "absolute",
    11: "not an ISO 8601 date-time",
    13: "not a regular file",
    14: "not a usable path",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    directory = tmp_path_factory.mktemp("hostile")
    copy_fixture_images(directory)
    manifest = directory / "hostile.jsonl"
    shutil.copy(MANIFESTS / "hostile.jsonl", manifest)
    with manifest.open("ab") as out:
        out.write(b'{"url": "' + OK.encode() + b'", "caption": "' + b"x" * 10_000_000 + b'"}\n')
        wide: dict[str, object] = {
            "url": WIDE,
            "caption": "\x1b[2J\u202e" + "y" * 5000 + "\r\nnext",
        }
        wide |= {f"c{n:02d}": n for n in range(40)}
        out.write(json.dumps(wide).encode() + b"\n")
    db = directory / "audit.db"
    done = cli("manifest", manifest, "-c", write_config(directory), "--db", db, "--workers", "1")
    return db, done


def test_the_run_completes(run: tuple[Path, Result]) -> None:
    db, done = run
    assert done.exit_code == 0, done.output
    assert done.exception is None
    assert "Traceback" not in done.output
    assert query(db, "SELECT status FROM runs") == [("complete",)]
    assert query(db, "SELECT rows, last_key FROM run_checkpoints") == [(23, "hostile.jsonl#23")]


def test_every_dropped_row_is_a_bad_row_skip_keyed_by_its_row(run: tuple[Path, Result]) -> None:
    db, _ = run
    found = dict(query(db, "SELECT url, detail FROM skips WHERE reason = 'bad_row'"))
    assert set(found) == {f"hostile.jsonl#{line}" for line in BAD_ROWS}
    for line, word in BAD_ROWS.items():
        assert word in found[f"hostile.jsonl#{line}"], line
    assert all(len(detail) < 500 for detail in found.values())  # one line, not the row


def test_refused_values_are_bad_value_skips_and_the_row_is_kept(run: tuple[Path, Result]) -> None:
    db, _ = run
    details = [d for (d,) in query(db, "SELECT detail FROM skips WHERE reason = 'bad_value'")]
    for line, word in BAD_VALUES.items():
        assert any(f"row hostile.jsonl#{line}:" in d and word in d for d in details), line
    # No local path escaped: the image rows (collected, per the manifest) have no stored copy,
    # and nothing was read.
    assert query(db, "SELECT url, fetched, local_path, skip_reason FROM images ORDER BY url") == [
        (OK, 1, None, "no_local_copy"),
        (WIDE, 1, None, "no_local_copy"),
    ]
    assert query(db, "SELECT images_fetched FROM runs") == [(0,)]


def test_extra_columns_are_capped_and_cleaned(run: tuple[Path, Result]) -> None:
    db, _ = run
    (extra,) = query(db, "SELECT extra_json FROM images WHERE url = ?", (WIDE,))
    columns = json.loads(extra[0])
    assert len(columns) == 32  # at most 32 extra columns per row
    assert 990 <= len(columns["caption"]) <= 1000  # values cut at 1,000 characters
    assert columns["caption"].lstrip().startswith("[2J")  # the escape character is gone


def test_nothing_stored_carries_control_characters(run: tuple[Path, Result]) -> None:
    db, _ = run
    texts = query(db, "SELECT url || ' ' || coalesce(detail, '') FROM skips")
    texts += query(db, "SELECT url || ' ' || coalesce(extra_json, '') FROM images")
    texts += query(db, "SELECT message FROM findings")
    for (text,) in texts:
        assert not any(ord(ch) < 32 or ch in "\x7f\u202e" for ch in text), text[:200]
