"""Manifests are streamed: reading 200,000 rows needs no more memory than reading a few.

``tracemalloc`` sees Python's allocations; Arrow allocates outside it, so Parquet is also
checked with ``pyarrow.total_allocated_bytes()`` sampled while reading. tracemalloc makes every
allocation several times slower, so the 200k-row reads stub out the per-row builder (pure
per-row work, checked on its own below) and measure the readers: the part that could load a
whole dataset.
"""

from __future__ import annotations

import csv
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditor.manifest import ColumnMapping, ManifestRow, RowProblem, iter_manifest
from auditor.manifest.values import RowBuilder

ROWS = 200_000
PYTHON_PEAK = 2 << 20  # bytes traced by tracemalloc
ARROW_PEAK = 16 << 20  # one batch, one column chunk buffer and one decompressed page


def url(n: int) -> str:
    return f"https://img{n % 97}.example.org/set/{n}.jpg"


def write_csv(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["url", "caption"])
        writer.writerows([url(n), f"caption {n}"] for n in range(count))


def write_jsonl(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(
            json.dumps({"url": url(n), "caption": f"caption {n}"}) + "\n" for n in range(count)
        )


def write_parquet(path: Path, count: int) -> None:
    """One row group for the whole file: the worst case for a reader that loads row groups."""
    schema = pa.schema([("url", pa.string()), ("caption", pa.string())])
    with pq.ParquetWriter(path, schema) as writer:
        chunk = 20_000
        for start in range(0, count, chunk):
            numbers = range(start, min(count, start + chunk))
            table = pa.table(
                {"url": [url(n) for n in numbers], "caption": [f"caption {n}" for n in numbers]},
                schema=schema,
            )
            writer.write_table(table, row_group_size=count)


WRITERS: dict[str, Callable[[Path, int], None]] = {
    "csv": write_csv,
    "jsonl": write_jsonl,
    "parquet": write_parquet,
}


def data_bytes(path: Path) -> int:
    """The size of the rows: Parquet's uncompressed size, the file size for text formats."""
    if path.suffix == ".parquet":
        metadata = pq.ParquetFile(path).metadata
        return sum(metadata.row_group(n).total_byte_size for n in range(metadata.num_row_groups))
    return path.stat().st_size


def measure(path: Path) -> tuple[int, int, int]:
    """Read ``path`` fully; return (items, tracemalloc peak, Arrow peak) in bytes."""
    count = arrow_peak = 0
    tracemalloc.start()
    try:
        for _ in iter_manifest(path, ColumnMapping()):
            count += 1
            if count % 5_000 == 0:
                arrow_peak = max(arrow_peak, pa.total_allocated_bytes())
        python_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return count, python_peak, arrow_peak


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_readers_stream_200k_rows_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    path = tmp_path / f"big.{kind}"
    WRITERS[kind](path, ROWS)
    assert data_bytes(path) > 4 * PYTHON_PEAK  # the rows could not fit in the budget

    def stub(self: RowBuilder, key: str, record: object, local: object = None) -> RowProblem:
        return RowProblem(key, "")

    monkeypatch.setattr(RowBuilder, "build", stub)
    count, python_peak, arrow_peak = measure(path)
    assert count == ROWS
    assert python_peak < PYTHON_PEAK
    assert arrow_peak < ARROW_PEAK


def test_building_rows_keeps_nothing_from_one_row_to_the_next(tmp_path: Path) -> None:
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    write_jsonl(small, 1_000)
    write_jsonl(large, 10_000)
    assert isinstance(next(iter_manifest(small, ColumnMapping())), ManifestRow)
    _, small_peak, _ = measure(small)
    count, large_peak, _ = measure(large)
    assert count == 10_000
    assert large_peak < small_peak + 64 * 1024  # ten times the rows, no more memory
