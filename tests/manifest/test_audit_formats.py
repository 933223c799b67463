"""Every fixture manifest format, audited end to end through the CLI into a real SQLite file.

``auditor manifest PATH -c audit.yaml --db X`` on basic.csv, basic.jsonl, basic.parquet, the
img2dataset shard (webdataset tar + parquet) and the whole fixture folder; then the stored
images and skips, the ``export --what images`` objects and ``report --format md`` of each run.
The fixture rows are described in fixtures/manifests/make_manifests.py. Dates are checked only
where the outcome cannot change with today's date (2024-01-01 is past any 30-day limit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .test_audit_support import (
    HOST,
    MANIFESTS,
    RETENTION_RULES,
    cli,
    outcomes,
    query,
    skips,
    write_config,
)

BASIC = ("basic.csv", "basic.jsonl", "basic.parquet")
#: The live-source mechanisms a manifest cannot record (auditor/signals/collected.py LIVE_SLOTS).
ORIGIN_MECHANISMS = {"robots", "tdmrep.file", "ai_txt", "x_robots_tag", "tdmrep.header"}


@dataclass
class Run:
    db: Path
    stdout: str
    stderr: str
    exit_code: int
    images: dict[str, dict[str, Any]]  # the export, by URL
    report: str


def _run(name: str, workdir: Path) -> Run:
    db = workdir / f"{name.replace('/', '_') or 'folder'}.db"
    config = workdir / "audit.yaml"
    done = cli("manifest", MANIFESTS / name, "-c", config, "--db", db, "--workers", "1", "-q")
    exported = cli("export", "--db", db, "--what", "images", "--format", "jsonl")
    assert exported.exit_code == 0, exported.output
    report = cli("report", "--db", db, "--format", "md")
    assert report.exit_code == 0, report.output
    images = [json.loads(line) for line in exported.stdout.splitlines()]
    return Run(
        db, done.stdout, done.stderr, done.exit_code, {i["url"]: i for i in images}, report.stdout
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    workdir = tmp_path_factory.mktemp("formats")
    write_config(workdir)
    return {name: _run(name, workdir) for name in (*BASIC, "img2dataset", ".")}


def _images(db: Path) -> dict[str, tuple[Any, ...]]:
    rows = query(
        db,
        "SELECT url, fetched, skip_reason, fetched_at, source_key, local_path, extra_json "
        "FROM images",
    )
    return {row[0]: row[1:] for row in rows}


@pytest.mark.parametrize("name", BASIC)
def test_a_basic_manifest_is_audited_row_by_row(runs: dict[str, Run], name: str) -> None:
    run = runs[name]
    assert run.exit_code == 0, run.stderr
    assert "run 1 complete" in run.stdout
    assert query(run.db, "SELECT status, images, images_fetched, skips FROM runs") == [
        ("complete", 6, 4, 3)
    ]
    assert "export --db" in run.stdout and "--what deletions" in run.stdout
    images = _images(run.db)
    assert images == {
        f"{HOST}/gallery/photo.jpg": (
            1, None, "2024-01-01T00:00:00Z", f"{name}#0", "images/photo.jpg",
            json.dumps({"caption": "Street scene with a GPS-tagged camera",
                        "licence": "CC-BY-4.0"}, separators=(",", ":")),
        ),
        f"{HOST}/gallery/plain.jpg": (
            1, None, "2026-11-01T09:30:00Z", f"{name}#1", "images/plain.jpg",
            '{"caption":"Hills at dusk","licence":"all-rights-reserved"}',
        ),
        f"{HOST}/brand/graphic.png": (
            1, None, None, f"{name}#2", "images/graphic.png", '{"caption":"Logo"}',
        ),
        f"{HOST}/people/portrait.jpg": (
            1, None, None, f"{name}#3", "images/portrait.jpg",
            '{"caption":"Portrait","licence":"public-domain"}',
        ),
        f"{HOST}/remote/only.jpg": (
            1, "no_local_copy", "2026-06-15T06:00:00Z", f"{name}#4", None,
            '{"caption":"Collected, not kept","licence":"CC0-1.0"}',
        ),
        f"{HOST}/remote/second.jpg": (  # normalised from HTTPS://Photos.Example.org:443/...
            1, "no_local_copy", "2026-11-20T00:00:00Z", f"{name}#5", None,
            '{"licence":"CC-BY-SA-4.0"}',
        ),
    }  # fmt: skip
    recorded = skips(run.db)
    assert [(url, reason) for url, reason, _ in recorded] == [
        (f"{HOST}/people/portrait.jpg", "bad_value"),
        (f"{HOST}/remote/only.jpg", "no_local_copy"),
        (f"{HOST}/remote/second.jpg", "no_local_copy"),
    ]
    detail = recorded[0][2]
    assert detail is not None
    assert f"row {name}#3" in detail and "sometime last week" in detail


@pytest.mark.parametrize("name", BASIC)
def test_a_basic_manifest_gets_findings(runs: dict[str, Run], name: str) -> None:
    db = runs[name].db
    found = outcomes(db, RETENTION_RULES)
    for rule in RETENTION_RULES:
        assert found[(rule, f"{HOST}/gallery/photo.jpg")] == "fail"  # 2024-01-01, limit 30 days
        assert found[(rule, f"{HOST}/brand/graphic.png")] == "insufficient_data"  # no date
        assert found[(rule, f"{HOST}/people/portrait.jpg")] == "insufficient_data"  # malformed
    (by_subject,) = query(db, "SELECT COUNT(DISTINCT subject) FROM findings")
    assert by_subject[0] >= 3  # declaration, image and dataset rules all ran
    (faces,) = query(db, "SELECT faces FROM images WHERE url = ?", (f"{HOST}/people/portrait.jpg",))
    assert faces == (1,)  # the stored copy was read and examined


def test_the_three_basic_formats_store_the_same_audit(runs: dict[str, Run]) -> None:
    def comparable(run: Run) -> dict[str, dict[str, Any]]:
        return {
            url: {**image, "manifest": {**image["manifest"], "key": image["manifest"]["key"][-2:]}}
            for url, image in run.images.items()
        }

    csv, jsonl, parquet = (comparable(runs[name]) for name in BASIC)
    assert csv == jsonl == parquet
    findings = [
        sorted(query(runs[name].db, "SELECT fingerprint, outcome, message FROM findings"))
        for name in BASIC
    ]
    assert findings[0] == findings[1] == findings[2]


@pytest.mark.parametrize("name", BASIC)
def test_the_image_export_carries_the_manifest_row_and_when_signals_were_observed(
    runs: dict[str, Run], name: str
) -> None:
    photo = runs[name].images[f"{HOST}/gallery/photo.jpg"]
    assert photo["manifest"] == {
        "key": f"{name}#0",
        "local_path": "images/photo.jpg",
        "extra": {"caption": "Street scene with a GPS-tagged camera", "licence": "CC-BY-4.0"},
    }
    assert photo["fetched_at"] == "2024-01-01T00:00:00Z"
    assert photo["gps"] is True
    for image in runs[name].images.values():
        signals = image["signals"]
        assert signals
        assert {signal["observed"] for signal in signals} == {"collection"}
        by_mechanism = {signal["mechanism"]: signal for signal in signals}
        for mechanism in ORIGIN_MECHANISMS:
            assert by_mechanism[mechanism]["evaluation"] == "not_evaluated"
            assert by_mechanism[mechanism]["notes"] == ["not_in_manifest"]
        assert by_mechanism["optout_list"]["notes"] == ["no_optout_list_configured"]
        assert image["usage"]["ai-train"] == "unknown"  # no reservation seen is not permission


@pytest.mark.parametrize("name", [*BASIC, "img2dataset", "."])
def test_the_markdown_report_covers_the_manifest_run(runs: dict[str, Run], name: str) -> None:
    report = runs[name].report
    assert report.startswith("#")
    assert "RETENTION-EXPIRED" in report
    assert "Traceback" not in report


def test_img2dataset_output_is_audited_and_failed_downloads_are_not_images(
    runs: dict[str, Run],
) -> None:
    run = runs["img2dataset"]
    assert run.exit_code == 0, run.stderr
    assert "run 1 complete" in run.stdout
    assert query(run.db, "SELECT status, images, images_fetched, skips FROM runs") == [
        ("complete", 4, 4, 1)
    ]
    images = _images(run.db)
    assert sorted(images) == [
        f"{HOST}/dataset/{name}"
        for name in ("graphic.png", "photo.jpg", "plain.jpg", "portrait.jpg")
    ]
    photo = images[f"{HOST}/dataset/photo.jpg"]
    assert photo[:2] == (1, None)
    assert photo[3:5] == ("00000.tar#000000000", "00000.tar:000000000.jpg")
    extra = json.loads(photo[5])
    assert extra["status"] == "success" and extra["caption"] == "Street scene"
    assert skips(run.db) == [
        (
            f"{HOST}/dataset/missing.jpg",
            "not_collected",
            "row 00000.parquet#1: HTTP Error 404: Not Found",
        )
    ]
    assert f"{HOST}/dataset/missing.jpg" not in run.images
    (findings,) = query(
        run.db,
        "SELECT COUNT(*) FROM findings WHERE image_url = ?",
        (f"{HOST}/dataset/missing.jpg",),
    )
    assert findings == (0,)
    (faces,) = query(
        run.db, "SELECT faces FROM images WHERE url = ?", (f"{HOST}/dataset/portrait.jpg",)
    )
    assert faces == (1,)  # the re-encoded copy in the tar was read and examined


def test_a_folder_of_manifests_is_audited_file_by_file(runs: dict[str, Run]) -> None:
    run = runs["."]
    assert run.exit_code == 0, run.stderr
    images = _images(run.db)
    keys = {url: row[3] for url, row in images.items()}
    # Every basic.* file names the same six URLs: the first file read (basic.csv) is kept.
    assert keys[f"{HOST}/gallery/photo.jpg"] == "basic.csv#0"
    assert keys[f"{HOST}/dataset/photo.jpg"] == "img2dataset/00000.tar#000000000"
    assert images[f"{HOST}/dataset/photo.jpg"][4] == "img2dataset/00000.tar:000000000.jpg"
    assert images[f"{HOST}/gallery/photo.jpg"][4] == "images/photo.jpg"
    reasons = {reason for _url, reason, _detail in skips(run.db)}
    assert reasons == {"bad_row", "bad_value", "no_local_copy", "not_collected", "duplicate_url"}
    duplicates = [d for _u, r, d in skips(run.db) if r == "duplicate_url" and d]
    assert (
        "row basic.jsonl#0 (copy images/photo.jpg) has the same URL as row basic.csv#0"
        in (duplicates[0])
    )
    bad_rows = {url for url, reason, _detail in skips(run.db) if reason == "bad_row"}
    assert "hostile.jsonl#4" in bad_rows  # a javascript: URL, keyed by its row
