"""Resuming: ``start_after=key`` yields exactly the suffix of a full read, and skips cheaply."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.errors import UsageError
from auditor.manifest import ColumnMapping, ManifestLimits, formats, iter_manifest, webdataset

from . import FIXTURE_MANIFESTS, read, tar_bytes

HOST = "https://photos.example.org"


@pytest.mark.parametrize(
    "name", ["basic.csv", "basic.jsonl", "basic.parquet", "hostile.jsonl", "img2dataset", "."]
)
def test_resuming_after_any_key_yields_the_rest_of_a_full_read(name: str) -> None:
    path = FIXTURE_MANIFESTS / name
    full = read(path)
    assert len(full) >= 5
    for position, item in enumerate(full):
        assert read(path, start_after=item.key) == full[position + 1 :], item.key


line = st.one_of(
    st.builds(lambda n: json.dumps({"url": f"{HOST}/{n}.jpg"}), st.integers(0, 99)),
    st.sampled_from(["", "   ", "[]", "{", "null", '{"url": "javascript:x"}', '"a,b"', "a,b,c"]),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.lists(line, max_size=15), kind=st.sampled_from(["jsonl", "csv"]), data=st.data())
def test_resume_is_a_suffix_for_generated_files(
    tmp_path_factory: pytest.TempPathFactory, body: list[str], kind: str, data: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("resume") / f"m.{kind}"
    header = json.dumps({"url": f"{HOST}/first.jpg"}) if kind == "jsonl" else "url"
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    full = read(path)
    if not full:
        return
    position = data.draw(st.integers(0, len(full) - 1))
    assert read(path, start_after=full[position].key) == full[position + 1 :]


def test_parquet_resume_never_reads_the_row_groups_before_it(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    urls = [f"{HOST}/{n}.jpg" for n in range(30)]
    pq.write_table(
        pa.table({"url": urls}), path, row_group_size=10, compression="none", use_dictionary=False
    )
    chunk = pq.ParquetFile(path).metadata.row_group(1).column(0)  # rows 10 to 19
    data = bytearray(path.read_bytes())
    start = chunk.data_page_offset
    data[start : start + chunk.total_compressed_size] = b"\xff" * chunk.total_compressed_size
    path.write_bytes(bytes(data))
    limits = ManifestLimits(batch_size=4)
    full = list(iter_manifest(path, ColumnMapping(), limits=limits))
    assert full[-1].key == "m.parquet" and "damaged from row 8 on" in str(full[-1])
    resumed = list(iter_manifest(path, ColumnMapping(), start_after="m.parquet#21", limits=limits))
    assert [item.key for item in resumed] == [f"m.parquet#{n}" for n in range(22, 30)]


def test_jsonl_resume_does_not_parse_the_lines_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(
        "".join(json.dumps({"url": f"{HOST}/{n}.jpg"}) + "\n" for n in range(100)),
        encoding="utf-8",
    )
    parsed: list[int] = []
    real = formats._parse_json_line

    def spy(raw: bytes, number: int) -> object:
        parsed.append(number)
        return real(raw, number)

    monkeypatch.setattr(formats, "_parse_json_line", spy)
    assert len(read(path, start_after="m.jsonl#97")) == 2
    assert parsed == [1, 99, 100]  # the first object (the column check), then the two read


def test_tar_resume_reads_no_metadata_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    members = []
    for n in range(20):
        members += [
            (f"{n:09d}.jpg", b"a"),
            (f"{n:09d}.json", json.dumps({"url": f"{HOST}/{n}"}).encode()),
        ]
    (folder / "00000.tar").write_bytes(tar_bytes(*members))
    read_members: list[str] = []
    real = webdataset.TarShard.read_member

    def spy(self: webdataset.TarShard, member: object) -> bytes | str:
        read_members.append(getattr(member, "name", ""))
        return real(self, member)  # type: ignore[arg-type]

    monkeypatch.setattr(webdataset.TarShard, "read_member", spy)
    assert len(read(folder, start_after="00000.tar#000000018")) == 1
    assert read_members == ["000000019.json"]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("nope.csv#0", "no such row key"),
        ("basic.csv#x", "no such row key"),
        ("basic.csv#-1", "no such row key"),
        ("basic.csv#6", "basic.csv now has 6 rows"),
        ("basic.parquet#9", "basic.parquet now has 6 rows"),
        ("img2dataset/00000.tar#999", "has no such sample"),
    ],
)
def test_a_resume_key_that_is_not_in_the_manifest_is_a_usage_error(key: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        read(FIXTURE_MANIFESTS, start_after=key)


def test_resuming_after_the_last_row_of_a_file_continues_with_the_next() -> None:
    items = read(FIXTURE_MANIFESTS, start_after="basic.csv#5")
    assert items[0].key == "basic.jsonl#0"


def test_resuming_after_a_file_level_problem_skips_that_file(tmp_path: Path) -> None:
    (tmp_path / "a.parquet").write_bytes(b"not parquet")
    (tmp_path / "b.csv").write_text(f"url\n{HOST}/b.jpg\n", encoding="utf-8")
    first, second = read(tmp_path)
    assert first.key == "a.parquet"
    assert read(tmp_path, start_after="a.parquet") == [second]
