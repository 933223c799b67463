"""Hostile manifests and shards: problems are reported, nothing raises or leaves the folder."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tarfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.manifest import LocalImageError, ManifestRow, RowProblem

from . import FIXTURE_MANIFESTS, problems, read, rows, tar_bytes

HOST = "https://photos.example.org"
OK = f"{HOST}/hostile/ok.jpg"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_the_hostile_fixture_yields_a_problem_or_a_safe_row_for_every_line() -> None:
    items = {item.key.partition("#")[2]: item for item in read(FIXTURE_MANIFESTS / "hostile.jsonl")}
    assert sorted(map(int, items)) == [n for n in range(22) if n != 19]  # 19 is blank

    def problem(line: int) -> str:
        item = items[str(line)]
        assert isinstance(item, RowProblem), item
        return item.message

    def row(line: int) -> ManifestRow:
        item = items[str(line)]
        assert isinstance(item, ManifestRow), item
        return item

    assert row(0).local is None and "leads outside" in row(0).problems[0]
    assert row(1).local is None and "is absolute" in row(1).problems[0]
    assert problem(2) == "line 3 is not a JSON object"
    assert problem(3) == "line 4 is not a JSON object"
    assert "only http and https" in problem(4)
    assert "control characters" in problem(5)
    assert row(6).extra == {"caption": "[31mred [0m evil next"}  # no escape, bidi or newline
    assert "is not JSON" in problem(7)
    assert problem(8) == "line 9 is not valid UTF-8"
    assert problem(9) == "line 10 nests too deeply"
    assert "is not JSON" in problem(10)  # an integer of 5000 digits
    assert len(row(11).problems) == 3 and row(11).sha256 is None and row(11).phash is None
    assert len(row(12).extra) == 32
    assert "is not a regular file" in row(13).problems[0]
    assert "not a usable path" in row(14).problems[0]
    assert problem(15) == "no 'url' value: the image URL is unknown"
    assert problem(16) == "'url' is not text: 42"
    assert "only http and https" in problem(17)
    assert "longer than 8192 characters" in problem(18)
    assert problem(20) == "line 21 is not a JSON object"
    assert problem(21) == "no 'url' value: the image URL is unknown"
    for item in items.values():
        text = item.message if isinstance(item, RowProblem) else " ".join(item.problems)
        assert "\x1b" not in text and "\n" not in text and len(text) < 400


def test_a_10_mb_line_is_skipped_without_holding_it(tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    shutil.copy(FIXTURE_MANIFESTS / "hostile.jsonl", path)
    with path.open("ab") as out:
        out.write(b'{"url": "' + OK.encode() + b'", "pad": "' + b"x" * (10 << 20) + b'"}\n')
        out.write(json.dumps({"url": f"{HOST}/after.jpg"}).encode() + b"\n")
    tracemalloc.start()
    try:
        items = read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert items[-2] == RowProblem("hostile.jsonl#22", "line 23 is over 1048576 bytes")
    assert isinstance(items[-1], ManifestRow) and items[-1].url == f"{HOST}/after.jpg"
    assert peak < 4 << 20  # the cap (1 MiB) plus a chunk, never the 10 MB


def test_a_10_mb_csv_line_is_a_problem_of_its_record(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    with path.open("wb") as out:
        out.write(f"url,caption\n{HOST}/1.jpg,{'y' * (10 << 20)}\n{HOST}/2.jpg,ok\n".encode())
    items = read(path)
    assert items[0] == RowProblem("m.csv#0", "line 2 is over 1048576 bytes")
    assert isinstance(items[1], ManifestRow) and items[1].extra == {"caption": "ok"}


def test_a_very_wide_header_costs_linear_time(tmp_path: Path) -> None:
    names = [f"c{n}" for n in range(100_000)]
    path = tmp_path / "m.csv"
    path.write_text(
        ",".join([*names, "url", "c5"]) + f"\n{',' * 100_000}{OK},x\n", encoding="utf-8"
    )
    (row,) = rows(read(path))
    assert row.url == OK
    assert len(row.extra) == 0  # the empty cells are left out, the repeated c5 is not read


def manifest_with_paths(folder: Path, *paths: str) -> Path:
    path = folder / "m.jsonl"
    lines = [json.dumps({"url": f"{HOST}/{n}.jpg", "local_path": p}) for n, p in enumerate(paths)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_symlinks_may_not_lead_out_of_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(b"secret")
    folder = tmp_path / "crawl"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "real.jpg").write_bytes(b"real")
    (folder / "images" / "escape.jpg").symlink_to(outside)
    (folder / "images" / "inside.jpg").symlink_to(folder / "images" / "real.jpg")
    (folder / "linked").symlink_to(tmp_path)  # a folder link leading out
    manifest = manifest_with_paths(
        folder,
        "images/escape.jpg",
        "images/inside.jpg",
        "linked/secret.jpg",
        "images/../images/real.jpg",
        str(outside),
    )
    escape, inside, linked, dotted, absolute = rows(read(manifest))
    assert escape.local is None and "leads outside" in escape.problems[0]
    assert linked.local is None and "leads outside" in linked.problems[0]
    assert absolute.local is None and "is absolute" in absolute.problems[0]
    assert inside.local is not None and inside.local.read(10) == b"real"
    assert inside.local.label == "images/real.jpg"
    assert dotted.local is not None and dotted.local.label == "images/real.jpg"
    allowed = rows(read(manifest, allow_outside=True))
    assert all(row.local is not None and row.problems == () for row in allowed)
    assert allowed[0].local is not None and allowed[0].local.label == str(outside)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.jpg")
    (row,) = rows(read(manifest_with_paths(tmp_path, "pipe.jpg")))
    assert row.local is None and "is not a regular file" in row.problems[0]


def test_a_local_file_swapped_after_the_read_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"a" * 50)
    (row,) = rows(read(manifest_with_paths(tmp_path, "a.jpg")))
    assert row.local is not None
    with pytest.raises(LocalImageError, match="over the 10-byte limit"):
        row.local.read(10)
    (tmp_path / "secret").write_bytes(b"secret")
    (tmp_path / "a.jpg").unlink()
    (tmp_path / "a.jpg").symlink_to(tmp_path / "secret")
    with pytest.raises(LocalImageError, match="cannot be opened"):
        row.local.read(100)
    (tmp_path / "a.jpg").unlink()
    with pytest.raises(LocalImageError, match="cannot be opened"):
        row.local.read(100)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "a.jpg")
        with pytest.raises(LocalImageError, match="not a regular file"):
            row.local.read(100)


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def test_tar_members_that_climb_out_or_link_are_refused(tmp_path: Path) -> None:
    metadata = json.dumps({"url": OK}).encode()
    device = tarfile.TarInfo("000000005.jpg")
    device.type = tarfile.CHRTYPE
    folder = tmp_path / "crawl" / "out"
    folder.mkdir(parents=True)
    (folder / "00000.tar").write_bytes(
        tar_bytes(
            ("../evil.json", metadata),
            ("/etc/cron.d/evil.json", metadata),
            ("dir/../../x.json", metadata),
            link("000000003.jpg", "/etc/passwd"),
            ("000000003.json", metadata),
            link("000000004.jpg", "000000003.json", tarfile.LNKTYPE),
            ("000000004.json", metadata),
            device,
            ("000000005.json", metadata),
            ("./000000006.jpg", b"\xff\xd8"),
            ("./000000006.json", metadata),
        )
    )
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    items = read(folder)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert [item.key for item in items] == [
        "00000.tar#..%2Fevil",
        "00000.tar#%2Fetc%2Fcron.d%2Fevil",
        "00000.tar#dir%2F..%2F..%2Fx",
        "00000.tar#000000003",
        "00000.tar#000000004",
        "00000.tar#000000005",
        "00000.tar#000000006",
    ]
    refused = problems(items)
    assert [p.message for p in refused] == [
        "member '../evil.json' is a path that climbs out with '..': refused",
        "member '/etc/cron.d/evil.json' is an absolute or Windows path: refused",
        "member 'dir/../../x.json' is a path that climbs out with '..': refused",
    ]
    symlinked, hardlinked, device_row, plain = rows(items)
    assert symlinked.local is None
    assert symlinked.problems[0] == "member '000000003.jpg' is a symbolic link: refused"
    assert hardlinked.problems[0] == "member '000000004.jpg' is a hard link: refused"
    assert device_row.problems[0] == "member '000000005.jpg' is a device or FIFO: refused"
    assert plain.local is not None and plain.local.read(10) == b"\xff\xd8"


def test_oversized_metadata_members_are_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    huge = json.dumps({"url": OK, "pad": "x" * (2 << 20)}).encode()
    (folder / "00000.tar").write_bytes(tar_bytes(("0.jpg", b"a"), ("0.json", huge)))
    (item,) = read(folder)
    assert item == RowProblem("00000.tar#0", "member '0.json' is over 1048576 bytes")


lines = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from([b"", b"null", b"[]", b"{", b'"x"', b"\xff\xfe", b"\x00", b"\r", b'"a,b']),
        st.builds(
            lambda url, path: json.dumps({"url": url, "local_path": path}).encode(),
            st.sampled_from([OK, "javascript:x", "", "http://[::1", f"{HOST}/\u202e"]),
            st.sampled_from(["../x", "/etc/passwd", "m.jsonl", "", ".", "\x00", "a/../../b"]),
        ),
    ),
    max_size=12,
)


@FUZZ
@given(body=lines)
def test_random_jsonl_lines_never_raise_or_escape(
    tmp_path_factory: pytest.TempPathFactory, body: list[bytes]
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "m.jsonl"
    path.write_bytes(json.dumps({"url": OK}).encode() + b"\n" + b"\n".join(body))
    items = read(path)
    check_items(items, folder)


@FUZZ
@given(body=lines)
def test_random_csv_lines_never_raise_or_escape(
    tmp_path_factory: pytest.TempPathFactory, body: list[bytes]
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "m.csv"
    out = io.StringIO()
    csv.writer(out).writerow(["url", "local_path"])
    path.write_bytes(out.getvalue().encode() + b"\n".join(body))
    items = read(path)
    check_items(items, folder)


def check_items(items: list[ManifestRow | RowProblem], folder: Path) -> None:
    assert len({item.key for item in items}) == len(items)
    for row in rows(items):
        assert row.url.startswith(("http://", "https://"))
        if row.local is not None:
            assert row.local.path.resolve().is_relative_to(folder.resolve())
