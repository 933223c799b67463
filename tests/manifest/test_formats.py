"""CSV/TSV, JSONL and Parquet manifests: the same rows from each, column mapping, odd input."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditor.errors import ConfigError, UsageError
from auditor.manifest import ColumnMapping, ManifestLimits, ManifestRow, RowProblem, iter_manifest

from . import FIXTURE_MANIFESTS, problems, read, rows

BASIC = ["basic.csv", "basic.jsonl", "basic.parquet"]
HOST = "https://photos.example.org"


def keyless(items: list[ManifestRow]) -> list[ManifestRow]:
    return [dataclasses.replace(row, key="") for row in items]


def test_each_format_yields_the_same_rows() -> None:
    results = {name: read(FIXTURE_MANIFESTS / name) for name in BASIC}
    for name, items in results.items():
        assert [item.key for item in items] == [f"{name}#{n}" for n in range(6)]
        assert all(isinstance(item, ManifestRow) for item in items)
    first, *others = (keyless(rows(items)) for items in results.values())
    assert all(other == first for other in others)


def test_basic_rows_are_normalised_and_checked() -> None:
    photo, plain, graphic, portrait, remote, second = rows(read(FIXTURE_MANIFESTS / "basic.csv"))
    assert photo.url == f"{HOST}/gallery/photo.jpg"
    assert photo.page_url == f"{HOST}/gallery/"
    assert photo.collected_at == "2024-01-01T00:00:00Z"
    assert plain.collected_at == "2026-11-01T09:30:00Z"
    assert graphic.collected_at is None and graphic.problems == ()
    assert portrait.collected_at is None
    assert portrait.problems == (
        "'collected_at' 'sometime last week' is not an ISO 8601 date-time",
    )
    assert remote.collected_at == "2026-06-15T06:00:00Z"  # +02:00 to UTC
    assert second.url == f"{HOST}/remote/second.jpg"  # scheme, host, port and dot segments
    assert second.collected_at == "2026-11-20T00:00:00Z"
    assert photo.phash is not None and len(photo.phash) == 16
    assert photo.extra == {
        "caption": "Street scene with a GPS-tagged camera",
        "licence": "CC-BY-4.0",
    }
    assert graphic.extra == {"caption": "Logo"}  # empty cells are left out
    assert [row.local.label if row.local else None for row in (photo, remote)] == [
        "images/photo.jpg",
        None,
    ]


def test_local_bytes_are_read_lazily_and_match_the_claimed_hash() -> None:
    for row in rows(read(FIXTURE_MANIFESTS / "basic.jsonl")):
        if row.local is None:
            continue
        data = row.local.read(1 << 20)
        assert data == (FIXTURE_MANIFESTS / row.local.label).read_bytes()
        if row.sha256 is not None:
            assert hashlib.sha256(data).hexdigest() == row.sha256


def write_csv(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def test_renamed_columns_follow_the_mapping(tmp_path: Path) -> None:
    manifest = write_csv(
        tmp_path / "crawl.csv",
        "image_url,fetched_at,digest,referrer,file\n"
        f"{HOST}/a.jpg,2025-02-03T04:05:06Z,{'AB' * 32},{HOST}/page,a.jpg\n",
    )
    (tmp_path / "a.jpg").write_bytes(b"jpeg")
    mapping = ColumnMapping(
        url="image_url",
        collected_at="fetched_at",
        sha256="digest",
        page_url="referrer",
        local_path="file",
    )
    (row,) = rows(read(manifest, mapping))
    assert (row.url, row.collected_at, row.sha256, row.page_url) == (
        f"{HOST}/a.jpg",
        "2025-02-03T04:05:06Z",
        "ab" * 32,
        f"{HOST}/page",
    )
    assert row.local is not None and row.local.read(10) == b"jpeg"
    assert row.extra == {}


def test_a_field_set_to_none_is_not_read_and_its_column_becomes_a_fact() -> None:
    mapping = ColumnMapping(local_path=None, phash=None)
    photo = rows(read(FIXTURE_MANIFESTS / "basic.parquet", mapping))[0]
    assert photo.local is None and photo.phash is None
    assert photo.extra["local_path"] == "images/photo.jpg"
    assert "phash" in photo.extra


@pytest.mark.parametrize("name", BASIC)
def test_a_missing_url_column_is_a_configuration_error(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read(FIXTURE_MANIFESTS / name, ColumnMapping(url="image_url"))
    message = str(caught.value)
    assert name in message
    assert "no column 'image_url' for url; its columns are 'url', 'page_url'" in message
    assert "Set manifest.columns.url in audit.yaml" in message
    assert "'page_url'" in message and "'licence'" in message  # the columns it does have
    assert caught.value.exit_code == 2


def test_a_named_optional_column_must_exist_but_a_default_one_need_not(tmp_path: Path) -> None:
    manifest = write_csv(tmp_path / "m.csv", f"url\n{HOST}/a.jpg\n")
    assert len(rows(read(manifest))) == 1  # page_url, collected_at ... are simply absent
    with pytest.raises(ConfigError, match="no column 'fetched_at' for collected_at"):
        read(manifest, ColumnMapping(collected_at="fetched_at"))


def test_a_mapped_column_that_appears_twice_is_ambiguous(tmp_path: Path) -> None:
    manifest = write_csv(tmp_path / "m.csv", f"url,url\n{HOST}/a.jpg,{HOST}/b.jpg\n")
    with pytest.raises(ConfigError, match="the column 'url' appears 2 times"):
        read(manifest)


def test_tsv_with_a_byte_order_mark_and_crlf_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv"
    path.write_bytes(b"\xef\xbb\xbfurl\tcaption\r\n" + f"{HOST}/a.jpg\tone, two\r\n".encode())
    (row,) = rows(read(path))
    assert row.url == f"{HOST}/a.jpg"
    assert row.extra == {"caption": "one, two"}


def test_csv_rows_with_bad_bytes_or_oversized_fields_are_problems_and_reading_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(
        b"url,caption\n"
        + f"{HOST}/1.jpg,fine\n".encode()
        + f"{HOST}/2.jpg,caf\xe9\n".encode("latin-1")
        + f'{HOST}/3.jpg,"{"x" * 200_000}"\n'.encode()
        + b"\n"
        + f'{HOST}/5.jpg,"multi\nline"\n'.encode()
        + f"{HOST}/6.jpg\n".encode()  # fewer cells than the header
    )
    items = read(path)
    assert [item.key for item in items] == [f"m.csv#{n}" for n in (0, 1, 2, 4, 5)]
    assert problems(items) == [
        RowProblem("m.csv#1", "line 3 is not valid UTF-8"),
        RowProblem("m.csv#2", "line 4: field larger than field limit (131072)"),
    ]
    assert rows(items)[1].extra == {"caption": "multi line"}
    assert rows(items)[2].extra == {}


def test_an_empty_csv_is_a_problem_of_the_whole_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "empty.csv", "")
    assert read(path) == [RowProblem("empty.csv", "empty.csv: the file is empty")]


def test_jsonl_values_of_every_json_type(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    record = {
        "url": f"{HOST}/a.jpg",
        "collected_at": 1_704_067_200,  # Unix seconds
        "width": 640,
        "nsfw": False,
        "score": 0.25,
        "tags": ["a", "b"],
        "meta": {"z": 1, "a": None},
        "empty": "",
        "nothing": None,
    }
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (row,) = rows(read(path))
    assert row.collected_at == "2024-01-01T00:00:00Z"
    assert row.extra == {
        "width": "640",
        "nsfw": "false",
        "score": "0.25",
        "tags": '["a","b"]',
        "meta": '{"a":null,"z":1}',
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-06T07:08:09.123456+01:00", "2024-05-06T06:08:09Z"),
        ("2024-05-06 07:08:09", "2024-05-06T07:08:09Z"),  # naive: read as UTC
        ("20240506", "2024-05-06T00:00:00Z"),
        ("1704067200", "2024-01-01T00:00:00Z"),
        ("1704067200.5", "2024-01-01T00:00:00Z"),
        (1_704_067_200.9, "2024-01-01T00:00:00Z"),
        ("  2024-01-01  ", "2024-01-01T00:00:00Z"),
        ("yesterday", None),
        ("2024-13-01", None),
        (True, None),
        (-5, None),
        (1e300, None),
        ("9" * 70, None),
        ("0001-01-01T00:00:00+01:00", None),  # before datetime's range once in UTC
    ],
)
def test_collected_at_forms(tmp_path: Path, value: object, expected: str | None) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"url": f"{HOST}/a.jpg", "collected_at": value}), encoding="utf-8")
    (row,) = rows(read(path))
    assert row.collected_at == expected
    assert bool(row.problems) == (expected is None)


def test_hashes_are_validated_and_lower_cased(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    cases = [
        {"sha256": "SHA256:" + "AB" * 32, "phash": "B5A5BDC61A4B4A62"},
        {"sha256": "ab" * 31, "phash": "b5a5bdc61a4b4a6"},  # one digit short each
        {"sha256": 7, "phash": "0" * 64},  # a 16x16 phash is fine
    ]
    path.write_text(
        "".join(
            json.dumps({"url": f"{HOST}/{n}.jpg", **case}) + "\n" for n, case in enumerate(cases)
        ),
        encoding="utf-8",
    )
    good, short, odd = rows(read(path))
    assert (good.sha256, good.phash, good.problems) == ("ab" * 32, "b5a5bdc61a4b4a62", ())
    assert (short.sha256, short.phash, len(short.problems)) == (None, None, 2)
    assert (odd.sha256, odd.phash, odd.problems) == (None, "0" * 64, ("'sha256' is not text: 7",))


def test_extra_columns_are_capped_in_number_and_length(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    record = {"url": f"{HOST}/a.jpg", "long": "y" * 5_000} | {f"c{i:03d}": "v" for i in range(100)}
    path.write_text(json.dumps(record), encoding="utf-8")
    (row,) = rows(read(path))
    limits = ManifestLimits()
    assert len(row.extra) == limits.max_extra_columns
    assert len(row.extra["long"]) == limits.max_extra_chars


def write_parquet(path: Path, table: pa.Table, **options: object) -> Path:
    pq.write_table(table, path, **options)
    return path


def test_parquet_typed_columns(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"x").digest()
    table = pa.table(
        {
            "url": [f"{HOST}/a.jpg"],
            "collected_at": pa.array(
                [datetime(2024, 1, 1, 1, 0, tzinfo=UTC)], pa.timestamp("ms", tz="Europe/Paris")
            ),
            "sha256": pa.array([digest], pa.binary(32)),
            "taken": pa.array([date(2023, 5, 1)], pa.date32()),
            "width": pa.array([640], pa.int32()),
            "jpg": pa.array([b"\xff\xd8" * 100], pa.binary()),  # img2dataset's image bytes
            "tags": pa.array([["a"]], pa.list_(pa.string())),
            "licence": pa.array(["CC0"]).dictionary_encode(),
        }
    )
    (row,) = rows(read(write_parquet(tmp_path / "m.parquet", table)))
    assert row.collected_at == "2024-01-01T01:00:00Z"
    assert row.sha256 == digest.hex()
    assert row.extra == {"taken": '"2023-05-01"', "width": "640", "licence": "CC0"}


def test_a_parquet_cell_python_cannot_hold_spoils_only_its_value(tmp_path: Path) -> None:
    times = pa.array([0, 2**62, 86_400_000], pa.timestamp("ms"))  # 2**62 ms: past year 9999
    table = pa.table({"url": [f"{HOST}/{n}.jpg" for n in range(3)], "collected_at": times})
    first, bad, last = rows(read(write_parquet(tmp_path / "m.parquet", table)))
    assert (first.collected_at, last.collected_at) == (
        "1970-01-01T00:00:00Z",
        "1970-01-02T00:00:00Z",
    )
    assert bad.collected_at is None
    assert bad.problems == (
        "'collected_at' <unreadable Parquet value> is not an ISO 8601 date-time",
    )


def test_parquet_rows_across_row_groups_and_batches(tmp_path: Path) -> None:
    urls = [f"{HOST}/{n}.jpg" for n in range(50)]
    path = write_parquet(tmp_path / "m.parquet", pa.table({"url": urls}), row_group_size=7)
    items = list(iter_manifest(path, ColumnMapping(), limits=ManifestLimits(batch_size=3)))
    assert [item.key for item in items] == [f"m.parquet#{n}" for n in range(50)]
    assert [row.url for row in rows(items)] == urls


def test_a_file_that_is_not_parquet_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    path.write_bytes(b"PAR1 not really")
    (item,) = read(path)
    assert isinstance(item, RowProblem) and item.key == "m.parquet"
    assert "cannot be read as Parquet" in item.message


def test_a_folder_of_manifests_is_read_in_name_order(tmp_path: Path) -> None:
    for name in ("b.jsonl", "a/z.csv", "a/b/y.parquet", ".hidden/x.csv", "c.txt", "a.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "b.jsonl").write_text(json.dumps({"url": f"{HOST}/b.jpg"}), encoding="utf-8")
    write_csv(tmp_path / "a.csv", f"url\n{HOST}/a.jpg\n")
    write_csv(tmp_path / "a" / "z.csv", f"url\n{HOST}/z.jpg\n")
    write_parquet(tmp_path / "a" / "b" / "y.parquet", pa.table({"url": [f"{HOST}/y.jpg"]}))
    write_csv(tmp_path / ".hidden" / "x.csv", f"url\n{HOST}/x.jpg\n")
    (tmp_path / "c.txt").write_text("not a manifest", encoding="utf-8")
    keys = [item.key for item in read(tmp_path)]
    assert keys == ["a/b/y.parquet#0", "a/z.csv#0", "a.csv#0", "b.jsonl#0"]


def test_the_fixture_folder_reads_every_manifest_in_it() -> None:
    items = read(FIXTURE_MANIFESTS)
    files = list(dict.fromkeys(item.key.rpartition("#")[0] for item in items))
    assert files == [
        "basic.csv",
        "basic.jsonl",
        "basic.parquet",
        "hostile.jsonl",
        "img2dataset/00000.tar",
        "img2dataset/00000.parquet",
    ]
    assert len({item.key for item in items}) == len(items)


@pytest.mark.parametrize("name", ["missing.csv", "notes.txt", "empty-folder"])
def test_what_is_not_a_manifest_is_a_usage_error(tmp_path: Path, name: str) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "empty-folder").mkdir()
    with pytest.raises(UsageError) as caught:
        iter_manifest(tmp_path / name, ColumnMapping())  # at the call, before any row is read
    assert caught.value.exit_code == 2
    assert name in str(caught.value)


def test_the_field_cap_holds_when_another_library_raised_the_csv_limit(tmp_path: Path) -> None:
    """reverse_geocode raises csv.field_size_limit to sys.maxsize on import; the cap must hold."""
    path = tmp_path / "m.csv"
    path.write_bytes(b"url,caption\n" + f'{HOST}/3.jpg,"{"x" * 200_000}"\n'.encode())
    previous = csv.field_size_limit(sys.maxsize)
    try:
        (item,) = read(path)
        assert csv.field_size_limit() == sys.maxsize  # put back as it was found
    finally:
        csv.field_size_limit(previous)
    assert item == RowProblem("m.csv#0", "line 2: field larger than field limit (131072)")
