"""img2dataset output folders: tar shards with their Parquet metadata, and the "files" layout."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditor.manifest import (
    ColumnMapping,
    LocalImageError,
    ManifestRow,
    RowProblem,
    detect,
)

from . import FIXTURE_MANIFESTS, problems, read, rows, tar_bytes

SHARD = FIXTURE_MANIFESTS / "img2dataset"
IMAGES = FIXTURE_MANIFESTS / "images"
HOST = "https://photos.example.org/dataset"


def meta(key: str, name: str, status: str = "success", **more: object) -> dict[str, object]:
    return {"url": f"{HOST}/{name}", "key": key, "status": status, "caption": name} | more


def shard_folder(
    tmp_path: Path, samples: list[tuple[str, bytes]], table: list[dict[str, object]] | None
) -> Path:
    """An img2dataset folder with one shard: ``00000.tar`` of ``samples`` and its Parquet file."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "00000.tar").write_bytes(tar_bytes(*samples))
    if table is not None:
        pq.write_table(pa.Table.from_pylist(table), folder / "00000.parquet")
    (folder / "00000_stats.json").write_text("{}", encoding="utf-8")
    return folder


def sample(
    key: str, name: str, image: bytes, *, json_first: bool = False
) -> list[tuple[str, bytes]]:
    members = [(f"{key}.jpg", image), (f"{key}.json", json.dumps(meta(key, name)).encode())]
    return members[::-1] if json_first else members


def test_the_fixture_shard_is_detected_and_read_with_its_bytes() -> None:
    assert detect(SHARD) == "img2dataset"
    items = read(SHARD)
    assert [item.key for item in items] == [
        "00000.tar#000000000",
        "00000.tar#000000002",
        "00000.tar#000000003",
        "00000.tar#000000004",
        "00000.parquet#1",  # the failed download: in the Parquet file only
    ]
    photo, plain, portrait, graphic, failed = rows(items)
    assert photo.url == f"{HOST}/photo.jpg"
    assert photo.local is not None and photo.local.label == "00000.tar:000000000.jpg"
    photo_bytes = photo.local.read(1 << 20)
    assert photo_bytes == (IMAGES / "photo.jpg").read_bytes()  # kept as downloaded, EXIF and all
    assert hashlib.sha256(photo_bytes).hexdigest() == photo.sha256
    assert (
        plain.local is not None and plain.local.read(1 << 20) == (IMAGES / "plain.jpg").read_bytes()
    )
    # Re-encoded at 256 pixels: the bytes are a JPEG, the claimed hash is the original's.
    assert portrait.local is not None
    resized = portrait.local.read(1 << 20)
    assert resized.startswith(b"\xff\xd8")
    assert portrait.sha256 == hashlib.sha256((IMAGES / "portrait.jpg").read_bytes()).hexdigest()
    assert portrait.extra["width"] == "256" and portrait.extra["original_width"] == "512"
    assert graphic.extra["caption"] == "Logo"
    assert failed.local is None and failed.problems == ()
    assert failed.extra["status"] == "failed_to_download"
    assert failed.extra["error_message"] == "HTTP Error 404: Not Found"


def test_members_of_a_sample_may_come_in_either_order(tmp_path: Path) -> None:
    image = (IMAGES / "plain.jpg").read_bytes()
    members = sample("000000000", "a.jpg", image) + sample(
        "000000001", "b.jpg", image, json_first=True
    )
    items = read(shard_folder(tmp_path, members, None))
    assert [row.url for row in rows(items)] == [f"{HOST}/a.jpg", f"{HOST}/b.jpg"]
    assert all(row.local is not None and row.local.read(1 << 20) == image for row in rows(items))


def test_the_caption_member_is_used_when_the_metadata_has_none(tmp_path: Path) -> None:
    members = [
        ("000000000.jpg", b"\xff\xd8"),
        ("000000000.json", json.dumps({"url": f"{HOST}/a.jpg"}).encode()),
        ("000000000.txt", b"a caption\n"),
    ]
    (row,) = rows(read(shard_folder(tmp_path, members, None)))
    assert row.extra == {"caption": "a caption"}


def test_parquet_rows_the_tar_lacks_are_kept_and_flagged(tmp_path: Path) -> None:
    members = [
        *sample("000000000", "a.jpg", b"\xff\xd8a"),
        ("000000002.jpg", b"\xff\xd8c"),  # no .json: its URL is only in the Parquet file
    ]
    table = [
        meta("000000000", "a.jpg"),
        meta("000000001", "b.jpg"),  # success, yet not in the tar
        meta("000000002", "c.jpg"),
        meta("000000003", "d.jpg", status="failed_to_resize", error_message="bad"),
    ]
    items = read(shard_folder(tmp_path, members, table))
    assert [item.key for item in items] == [
        "00000.tar#000000000",
        "00000.tar#000000002",
        "00000.parquet#1",
        "00000.parquet#2",
        "00000.parquet#3",
    ]
    assert items[1] == RowProblem("00000.tar#000000002", "no '000000002.json' member, so no URL")
    lacking = "listed as downloaded, but 00000.tar has no such sample"
    assert [row.problems for row in rows(items)[1:]] == [(lacking,), (lacking,), ()]


def test_a_name_that_repeats_apart_from_its_first_members_is_refused(tmp_path: Path) -> None:
    members = [
        *sample("000000000", "a.jpg", b"a"),
        *sample("000000001", "b.jpg", b"b"),
        *sample("000000000", "again.jpg", b"c"),
    ]
    folder = shard_folder(tmp_path, members, None)
    items = read(folder)
    assert [item.key for item in items] == [
        "00000.tar#000000000",
        "00000.tar#000000001",
        "00000.tar#000000000;2",
    ]
    assert isinstance(items[2], RowProblem) and "occurs again" in items[2].message
    folder = tmp_path / "out"
    assert read(folder, start_after=items[1].key) == items[2:]
    assert read(folder, start_after=items[0].key) == items[1:]


def test_a_damaged_tar_keeps_the_samples_before_the_damage(tmp_path: Path) -> None:
    folder = shard_folder(
        tmp_path,
        [*sample("000000000", "a.jpg", b"a" * 600), *sample("000000001", "b.jpg", b"b")],
        None,
    )
    shard = folder / "00000.tar"
    with tarfile.open(shard) as tar:
        second = tar.getmembers()[2].offset  # the header of sample 000000001's first member
    shard.write_bytes(shard.read_bytes()[:second] + b"\x01" * 512)
    items = read(folder)
    assert isinstance(items[0], ManifestRow)
    assert items[-1].key == "00000.tar" and isinstance(items[-1], RowProblem)
    assert "damaged" in items[-1].message


def test_a_shard_that_is_not_a_tar_is_one_problem(tmp_path: Path) -> None:
    folder = shard_folder(tmp_path, [], [meta("000000000", "a.jpg", status="failed_to_download")])
    (folder / "00000.tar").write_bytes(b"\x1f\x8b compressed or garbage")
    items = read(folder)
    assert isinstance(items[0], RowProblem) and items[0].key == "00000.tar"
    assert "cannot be read as a tar" in items[0].message
    assert isinstance(items[1], ManifestRow) and items[1].key == "00000.parquet#0"


def test_a_shard_changed_after_scanning_is_reported_when_read(tmp_path: Path) -> None:
    folder = shard_folder(tmp_path, sample("000000000", "a.jpg", b"\xff\xd8" * 1000), None)
    (row,) = rows(read(folder))
    assert row.local is not None
    with pytest.raises(LocalImageError, match="over the 100 limit"):
        row.local.read(100)
    (folder / "00000.tar").write_bytes(b"")
    with pytest.raises(LocalImageError, match="truncated"):
        row.local.read(1 << 20)


def test_the_files_output_format(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    (folder / "00000").mkdir(parents=True)
    shutil.copy(IMAGES / "plain.jpg", folder / "00000" / "000000000.jpg")
    (folder / "00000" / "000000000.json").write_text("{}", encoding="utf-8")
    table = [
        meta("000000000", "plain.jpg"),
        meta("000000001", "gone.jpg"),  # success, but the file is missing
        meta("../../etc/passwd", "evil.jpg"),
    ]
    pq.write_table(pa.Table.from_pylist(table), folder / "00000.parquet")
    (folder / "00000_stats.json").write_text("{}", encoding="utf-8")
    plain, gone, evil = rows(read(folder))
    assert plain.local is not None and plain.local.label == "00000/000000000.jpg"
    assert plain.local.read(1 << 20) == (IMAGES / "plain.jpg").read_bytes()
    assert gone.local is None and "has no image named '000000001'" in gone.problems[0]
    assert evil.local is None and "is not a file name" in evil.problems[0]


def test_the_parquet_output_format_reads_no_image_bytes(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    table = pa.Table.from_pylist([meta("000000000", "a.jpg") | {"jpg": b"\xff\xd8" * 50}])
    pq.write_table(table, folder / "00000.parquet")
    (folder / "00000_stats.json").write_text("{}", encoding="utf-8")
    (row,) = rows(read(folder))
    assert row.local is None and "jpg" not in row.extra


def test_an_img2dataset_folder_inside_a_folder_of_manifests(tmp_path: Path) -> None:
    shutil.copytree(SHARD, tmp_path / "crawl" / "shards")
    keys = [item.key for item in read(tmp_path)]
    assert keys[0] == "crawl/shards/00000.tar#000000000"
    assert keys[-1] == "crawl/shards/00000.parquet#1"


def test_the_mapping_applies_to_img2dataset_metadata(tmp_path: Path) -> None:
    record = {"url": f"{HOST}/a.jpg", "page": f"{HOST}/", "fetched": "2025-01-01"}
    members = [("000000000.jpg", b"a"), ("000000000.json", json.dumps(record).encode())]
    mapping = ColumnMapping(page_url="page", collected_at="fetched")
    (row,) = rows(read(shard_folder(tmp_path, members, None), mapping))
    assert (row.page_url, row.collected_at) == (f"{HOST}/", "2025-01-01T00:00:00Z")


def test_shards_are_read_in_number_order(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    for number in ("2", "10", "01"):
        pq.write_table(
            pa.Table.from_pylist([meta("0", f"{number}.jpg", status="failed_to_download")]),
            folder / f"{number}.parquet",
        )
        (folder / f"{number}_stats.json").write_text("{}", encoding="utf-8")
    assert [item.key for item in read(folder)] == ["01.parquet#0", "2.parquet#0", "10.parquet#0"]
    assert problems(read(folder)) == []
