"""Resuming a manifest audit ends with the database an uninterrupted run writes.

A 300-row CSV (tiny local images on every tenth row, the rest without a stored copy, some old,
some with a malformed date, a few duplicate URLs and bad rows) is audited once without
interruption; then runs are interrupted (``KeyboardInterrupt`` from the observer, and a real
``SIGKILL`` of ``python -m auditor manifest``) and resumed, and the two databases are compared
table by table. Each row makes several records (an image, findings, skips), so with the writer's
batches of 500 records a checkpoint covers about 70 rows and the interruptions below land in the
middle of a batch: the rows after the checkpoint were prepared and partly buffered, never
committed.

Volatile fields left out of the comparison: row ids (``id``, ``run_id``, ``site_id``,
``image_id``), ``skips.at`` (the wall-clock time the skip was recorded) and
``run_checkpoints.updated_at``; for the SIGKILL runs (the CLI uses the real clock) also
``runs.started_at`` and ``runs.finished_at``, and their manifest has no ``collected_at``, so no
finding depends on the clock (``image.age_days`` appears in the retention findings' messages).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from auditor.errors import UsageError

from .test_audit_support import (
    HOST,
    Observer,
    audit,
    cli,
    query,
    run_cli,
    tiny_image,
    write_config,
    write_csv,
)

ROWS = 300
VOLATILE = {"id", "run_id", "site_id", "image_id", "page_id", "at", "updated_at"}


def build_manifest(directory: Path, rows: int = ROWS, *, dated: bool = True) -> Path:
    """Write the manifest and its images into ``directory``; return the manifest's path.

    ``dated=False`` leaves ``collected_at`` out (a clock-independent audit).
    """
    (directory / "images").mkdir(parents=True, exist_ok=True)
    records: list[dict[str, str | None]] = []
    for index in range(rows):
        row: dict[str, str | None] = {
            "url": f"{HOST}/r/{index}.jpg",
            "page_url": f"{HOST}/page/{index // 10}",
            "collected_at": "2024-05-01" if index % 3 == 0 else "2026-10-01T08:00:00Z",
            "caption": f"row {index}",
        }
        if index % 10 == 0:
            name = f"images/{index}.png"
            (directory / name).write_bytes(tiny_image(index))
            row["local_path"] = name
        if index % 47 == 5:
            row["collected_at"] = "not a date"
        if not dated:
            row["collected_at"] = None
        if index % 97 == 50:
            row["url"] = f"{HOST}/r/{index - 40}.jpg"  # a duplicate of an earlier row
        if index % 113 == 7:
            row["url"] = "javascript:alert(1)"  # a bad row
        records.append(row)
    return write_csv(directory / "m.csv", records)


def _table(connection: sqlite3.Connection, sql: str, drop: set[str]) -> list[dict[str, Any]]:
    cursor = connection.execute(sql)
    names = [column[0] for column in cursor.description]
    return [
        {name: value for name, value in zip(names, row, strict=True) if name not in drop}
        for row in cursor
    ]


def snapshot(db: Path, *, volatile: set[str] = VOLATILE) -> dict[str, Any]:
    """Everything a run stored, in a form that does not depend on ids or write order."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        images = _table(connection, "SELECT * FROM images", volatile)
        signals = _table(
            connection,
            "SELECT i.url AS image_url, s.* FROM signals s JOIN images i ON i.id = s.image_id",
            volatile,
        )
        contexts = _table(
            connection,
            "SELECT i.url AS image_url, c.* FROM image_contexts c JOIN images i "
            "ON i.id = c.image_id",
            volatile,
        )
        findings = _table(connection, "SELECT * FROM findings", volatile)
        skips = _table(connection, "SELECT * FROM skips", volatile)
        stats = _table(connection, "SELECT * FROM rule_stats", volatile)
        sites = _table(connection, "SELECT * FROM sites", volatile)
        runs = _table(connection, "SELECT * FROM runs", volatile | {"options_json"})
        checkpoints = _table(connection, "SELECT * FROM run_checkpoints", volatile)
    for finding in findings:
        finding["evidence_json"] = json.loads(finding["evidence_json"])
    for checkpoint in checkpoints:
        checkpoint["state_json"] = json.loads(checkpoint["state_json"])
    return {
        "images": {image["url"]: image for image in images},
        "signals": Counter(json.dumps(s, sort_keys=True) for s in signals),
        "contexts": Counter(json.dumps(c, sort_keys=True) for c in contexts),
        "findings": {finding["fingerprint"]: finding for finding in findings},
        "skips": Counter((s["url"], s["kind"], s["reason"], s["detail"]) for s in skips),
        "rule_stats": {(s["pack"], s["rule_id"]): s for s in stats},
        "sites": {site["origin"]: site for site in sites},
        "runs": runs,
        "checkpoints": checkpoints,
    }


def assert_same(resumed: dict[str, Any], reference: dict[str, Any]) -> None:
    """Compare table by table, so a failure names the table that differs."""
    assert resumed.keys() == reference.keys()
    for table, expected in reference.items():
        assert resumed[table] == expected, table


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("resume")
    return build_manifest(directory), write_config(directory)


@pytest.fixture(scope="module")
def reference(workspace: tuple[Path, Path]) -> dict[str, Any]:
    manifest, config = workspace
    db = manifest.parent / "reference.db"
    summary = audit(manifest, config, db, window=8)
    assert summary.status == "complete"
    return snapshot(db)


def test_the_reference_run_spans_several_batches(reference: dict[str, Any]) -> None:
    """The premise of the resume tests: many records per row, several batches per run."""
    rows = ROWS - len([i for i in range(ROWS) if i % 113 == 7])
    records = len(reference["images"]) + len(reference["findings"]) + reference["skips"].total()
    assert records > 4 * 500
    assert records / rows > 5
    (checkpoint,) = reference["checkpoints"]
    assert checkpoint["rows"] == ROWS
    assert checkpoint["last_key"] == f"m.csv#{ROWS - 1}"
    reasons = Counter(reason for _url, _kind, reason, _detail in reference["skips"])
    assert {"bad_row", "bad_value", "no_local_copy", "duplicate_url"} <= reasons.keys()
    (run,) = reference["runs"]
    assert run["status"] == "complete"


@pytest.mark.parametrize(
    "interruptions",
    [
        pytest.param((1,), id="first-image-nothing-committed"),
        # mid-batch, then before the resumed run's first commit, then mid-batch again
        pytest.param((150, 2, 70), id="three-times"),
    ],
)
def test_interrupted_and_resumed_run_equals_an_uninterrupted_one(
    workspace: tuple[Path, Path],
    reference: dict[str, Any],
    tmp_path: Path,
    interruptions: tuple[int, ...],
) -> None:
    manifest, config = workspace
    db = tmp_path / "resumed.db"
    committed = [0]
    for number, after in enumerate(interruptions):
        with pytest.raises(KeyboardInterrupt):
            audit(manifest, config, db, window=8, observer=Observer(after), resume=number > 0)
        (status,) = query(db, "SELECT status FROM runs")
        assert status == ("interrupted",)
        stored = query(db, "SELECT rows FROM run_checkpoints")
        committed.append(stored[0][0] if stored else 0)
        # nothing committed is lost, and the rows after the checkpoint were not committed
        assert committed[-2] <= committed[-1] < ROWS
    summary = audit(manifest, config, db, window=8, resume=True)
    assert summary.status == "complete"
    assert summary.run_id == 1
    assert_same(snapshot(db), reference)


# -- a real SIGKILL -----------------------------------------------------------------------------


def _rows_committed(db: Path) -> int:
    try:
        found = query(db, "SELECT rows FROM run_checkpoints")
    except sqlite3.OperationalError:  # not created or not migrated yet
        return 0
    return int(found[0][0]) if found else 0


def _kill_when(command: list[str], db: Path, rows: int, cwd: Path) -> int:
    """Start the audit, SIGKILL it (with its worker processes) once ``rows`` are committed."""
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while (done := _rows_committed(db)) < rows:
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"the run ended before it could be killed: {stderr}")
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)  # the group is this test's own child and its workers
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    return done


SIGKILL_ROWS = 2 * ROWS
"""Rows of the SIGKILL test's manifest: each kill comes at a resumed run's first commit, about
a fifth of the way in, so hundreds of rows remain and a slow poll on a busy machine cannot
let the run finish before the kill lands."""


@pytest.fixture(scope="module")
def cli_workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """The undated manifest, its audit.yaml and the snapshot of an uninterrupted CLI run."""
    directory = tmp_path_factory.mktemp("sigkill")
    manifest = build_manifest(directory, SIGKILL_ROWS, dated=False)
    config = write_config(directory)
    db = directory / "reference.db"
    done = cli("manifest", manifest, "-c", config, "--db", db, "--workers", "1", "-q")
    assert done.exit_code == 0, done.output
    return manifest, config, snapshot(db, volatile=VOLATILE | {"started_at", "finished_at"})


def test_sigkilled_three_times_and_resumed_from_the_cli_equals_an_uninterrupted_run(
    cli_workspace: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Killed once the first batch is committed, then twice more while resumed runs are going."""
    manifest, config, expected = cli_workspace
    db = tmp_path / "killed.db"
    command = [sys.executable, "-m", "auditor", "manifest", str(manifest), "-c", str(config),
               "--db", str(db), "--workers", "1", "-q"]  # fmt: skip
    committed = [_kill_when(command, db, 1, tmp_path)]
    for _ in range(2):  # each resumed run dies at its first commit past the previous one
        committed.append(_kill_when([*command, "--resume"], db, committed[-1] + 1, tmp_path))
        (status,) = query(db, "SELECT status FROM runs")
        assert status == ("running",)  # killed: nobody could mark it
    assert 0 < committed[0] < committed[1] < committed[2] < SIGKILL_ROWS // 2
    resumed = run_cli(*command[3:], "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "run 1 complete" in resumed.stdout
    assert query(db, "SELECT id, status FROM runs") == [(1, "complete")]
    assert_same(snapshot(db, volatile=VOLATILE | {"started_at", "finished_at"}), expected)


# -- refusing to resume -------------------------------------------------------------------------


def test_resume_with_nothing_to_resume_is_a_one_line_usage_error(tmp_path: Path) -> None:
    manifest = write_csv(tmp_path / "m.csv", [{"url": f"{HOST}/a.jpg"}])
    config = write_config(tmp_path)
    done = run_cli("manifest", manifest, "-c", config, "--db", tmp_path / "a.db", "--resume")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: no interrupted run of the manifest ")
    assert "run without --resume" in lines[0]
    assert "Traceback" not in done.stderr


def test_resume_after_the_config_changed_is_refused(tmp_path: Path) -> None:
    manifest = build_manifest(tmp_path, rows=40)
    config = write_config(tmp_path)
    db = tmp_path / "a.db"
    with pytest.raises(KeyboardInterrupt):
        audit(manifest, config, db, observer=Observer(1))
    write_config(tmp_path, retention_days=31)
    done = run_cli("manifest", manifest, "-c", config, "--db", db, "--resume")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "audit.yaml or the policy packs changed" in lines[0]
    assert query(db, "SELECT status FROM runs") == [("interrupted",)]  # still resumable as it was
    write_config(tmp_path)  # back to the configuration the run started with
    resumed = cli("manifest", manifest, "-c", config, "--db", db, "--resume", "--workers", "1")
    assert resumed.exit_code == 0, resumed.output
    assert query(db, "SELECT id, status FROM runs") == [(1, "complete")]


def test_resume_with_a_different_refetch_setting_is_refused(tmp_path: Path) -> None:
    manifest = build_manifest(tmp_path, rows=20)
    config = write_config(tmp_path)
    db = tmp_path / "a.db"
    with pytest.raises(KeyboardInterrupt):
        audit(manifest, config, db, observer=Observer(1))
    done = cli("manifest", manifest, "-c", config, "--db", db, "--resume", "--refetch")
    assert isinstance(done.exception, UsageError), done.output
    assert done.exception.exit_code == 2
    assert "without --refetch" in str(done.exception)
