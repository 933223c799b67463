"""A full disk or a read-only database: one clear error, and never a corrupt file.

Both run on a small tmpfs mounted for the test (a real filesystem that really fills up or is
really read-only; file permissions would not do, since tests may run as root). Mounting needs
privileges, so without them the tests are skipped and say so.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.errors import StoreError
from auditor.model import ImageRecord, RunCounters
from auditor.store import open_store


def _mount(point: Path, size: str) -> bool:
    point.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
        capture_output=True, check=False,
    )  # fmt: skip
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    point = tmp_path / "disk"
    if not _mount(point, "1m"):
        pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN); cannot simulate a full disk")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


def _image(n: int) -> ImageRecord:
    # Large, incompressible header values fill the disk quickly.
    filler = uuid.uuid4().hex * 60
    return ImageRecord(
        f"https://a.example/{n}.jpg", "https://a.example", (), fetched=False,
        skip_reason="http_error", fetched_at=None, headers=(("etag", filler),),
    )  # fmt: skip


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def test_a_full_disk_is_a_store_error_and_keeps_what_was_committed(small_disk: Path) -> None:
    db = small_disk / "audit.db"
    with open_store(db) as store:
        run_id = store.begin_run(
            tool_version="t", started_at="2026-11-22T00:00:00+00:00", config_hash="c",
            policy_hash="p", config_json={}, options_json={},
        )  # fmt: skip
        committed = 0
        full = pytest.raises(StoreError, match=r"cannot write run \d+ .*(full|disk)")
        with full as caught, store.writer(run_id, batch_size=10) as writer:
            for n in range(100_000):
                writer.add_image(_image(n))
                if writer.pending == 0:
                    committed = n + 1
        assert str(caught.value).count("\n") == 0  # one line
        assert committed > 0
    assert _integrity(db) == "ok"
    with sqlite3.connect(db) as connection:
        (stored,) = connection.execute("SELECT COUNT(*) FROM images").fetchone()
    assert stored >= committed  # every committed batch is still there


def test_the_cli_says_so_in_one_line_and_exits_2(small_disk: Path, tmp_path: Path) -> None:
    db = small_disk / "audit.db"
    with open_store(db) as store:  # create it, then fill the rest of the disk
        store.begin_run(
            tool_version="t", started_at="2026-11-22T00:00:00+00:00", config_hash="c",
            policy_hash="p", config_json={}, options_json={},
        )  # fmt: skip
    ballast = small_disk / "ballast"
    with ballast.open("wb") as stream, pytest.raises(OSError, match="No space"):
        while True:
            stream.write(b"\0" * 65536)
            stream.flush()
    done = subprocess.run(
        [sys.executable, "-m", "auditor", "export", "--db", str(db), "--what", "images"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    # Opening a WAL database may need to write its shared-memory file: on a full disk that
    # can fail, but only ever as one line, exit 2.
    assert done.returncode in (0, 2), done.stderr
    if done.returncode:
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    crawl = subprocess.run(
        [sys.executable, "-m", "auditor", "crawl", "http://127.0.0.1:9/", "--db", str(db), "-q"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    lines = crawl.stderr.strip().splitlines()
    assert crawl.returncode == 2, crawl.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), crawl.stderr
    assert "full" in lines[0] or "disk" in lines[0]
    assert "Traceback" not in crawl.stderr
    ballast.unlink()
    assert _integrity(db) == "ok"


def test_a_read_only_database_is_one_clear_error(tmp_path: Path) -> None:
    point = tmp_path / "ro"
    if not _mount(point, "4m"):
        pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN); cannot simulate read-only media")
    try:
        db = point / "audit.db"
        with open_store(db) as store:
            store.finish_run(
                store.begin_run(
                    tool_version="t", started_at="2026-11-22T00:00:00+00:00", config_hash="c",
                    policy_hash="p", config_json={}, options_json={},
                ),
                finished_at="2026-11-22T00:00:01+00:00", status="complete",
                counters=RunCounters(),
            )  # fmt: skip
        remount = ["mount", "-o", "remount,ro", str(point)]
        assert subprocess.run(remount, capture_output=True, check=False).returncode == 0
        crawl = subprocess.run(
            [sys.executable, "-m", "auditor", "crawl", "http://127.0.0.1:9/", "--db", str(db)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        lines = crawl.stderr.strip().splitlines()
        assert crawl.returncode == 2, crawl.stderr
        assert len(lines) == 1 and lines[0].startswith("error: "), crawl.stderr
        assert "read" in lines[0].lower()
        assert "Traceback" not in crawl.stderr
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
