"""Record readers for CSV/TSV, JSONL and Parquet files: streaming, capped and resumable.

Each reader yields ``(index, record)`` pairs, ``index`` being the row's 0-based position in the
file (the ``#n`` of its key), or a :class:`RowProblem` for a row it cannot parse. Rows up to and
including ``after`` are skipped as cheaply as the format allows: JSONL lines are not parsed,
CSV records are parsed but not built, and Parquet row groups and batches are skipped by their
row counts without being decoded. Memory stays bounded by one line (CSV, JSONL) or one batch
(Parquet), never by the file.

A file whose columns do not include the mapped URL column (or another column the configuration
names) raises :class:`~auditor.errors.ConfigError` listing the columns it has: that is a
configuration mistake to fix once, not a problem with every row.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from auditor.errors import ConfigError, Problem, UsageError
from auditor.extract.imagefacts import clean_text, describe
from auditor.manifest.mapping import ColumnMapping
from auditor.manifest.model import RowProblem
from auditor.manifest.values import ManifestLimits

Record = Mapping[str, object]
Records = Iterator[tuple[int, Record] | RowProblem]

_BOM: Final = b"\xef\xbb\xbf"
_SHOWN_COLUMNS: Final = 20
_SKIP_CHUNK: Final = 1 << 16
_PARQUET_BUFFER: Final = 1 << 20  # stream column chunks through 1 MiB instead of loading them
_ARROW_ERRORS = (pa.ArrowException, OSError, ValueError)
_CONVERSION_ERRORS = (pa.ArrowException, ValueError, OverflowError)  # Arrow value -> Python


def check_columns(path: Path, available: Sequence[str], required: Mapping[str, str]) -> None:
    """Raise ConfigError unless each required ``{field: column}`` occurs exactly once."""
    counts = Counter(available)
    problems = []
    for field, column in required.items():
        if counts[column] == 0:
            problems.append(
                f"no column '{column}' for {field}; its columns are {_listing(available)}. "
                f"Set manifest.columns.{field} in audit.yaml to the right one"
            )
        elif counts[column] > 1:
            problems.append(f"the column '{column}' appears {counts[column]} times")
    if problems:
        raise ConfigError([Problem(str(path), None, message) for message in problems])


def pick_columns(
    available: Sequence[str], mapping: ColumnMapping, limits: ManifestLimits, usable: Sequence[bool]
) -> list[str]:
    """Return the columns to read: the mapped ones present, then the first usable extras.

    A name that occurs more than once is never read (a required one was refused already by
    :func:`check_columns`): which copy is meant cannot be told.
    """
    counts = Counter(available)
    mapped = set(mapping.columns().values())
    wanted = [name for name in available if name in mapped and counts[name] == 1]
    extras = 0
    for name, ok in zip(available, usable, strict=True):
        if extras >= limits.max_extra_columns:
            break
        if ok and name not in mapped and counts[name] == 1:
            wanted.append(name)
            extras += 1
    return wanted


def _listing(names: Sequence[str]) -> str:
    shown = [repr(clean_text(name, 60) or "") for name in names[:_SHOWN_COLUMNS]]
    more = len(names) - len(shown)
    return (", ".join(shown) or "none") + (f" and {more} more" if more > 0 else "")


def resume_missed(rel: str, after: int, rows: int) -> UsageError:
    """Build the error for a resume key past the end of its file, which changed since that run."""
    return UsageError(
        f"cannot resume after {rel}#{after}: {rel} now has {rows} rows; it changed since the "
        "interrupted run, so start again without resuming"
    )


class _Lines:
    """The physical lines of a byte stream, each decoded on its own, with its problem noted.

    ``csv.reader`` pulls lines from this iterator as it needs them, so ``problem`` describes the
    lines of the record it returns next. A line over the cap is read past in chunks and replaced
    by an empty line: no single line costs more memory than the cap.
    """

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.number = 0
        self.problem: str | None = None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = self.read()
        if raw is None:
            raise StopIteration
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.problem = self.problem or f"line {self.number} is not valid UTF-8"
            return raw.decode("utf-8", "replace")

    def read(self) -> bytes | None:
        """Return the next line as bytes (an empty line if it was too long), ``None`` at the end."""
        line = self.stream.readline(self.limit + 1)
        if not line:
            return None
        self.number += 1
        if self.number == 1:
            line = line.removeprefix(_BOM)
        if len(line) > self.limit and not line.endswith(b"\n"):
            while (rest := self.stream.readline(_SKIP_CHUNK)) and not rest.endswith(b"\n"):
                pass
            self.problem = self.problem or f"line {self.number} is over {self.limit} bytes"
            return b"\n"
        return line

    def take_problem(self) -> str | None:
        """Return the problem noted since the last call, and forget it."""
        problem, self.problem = self.problem, None
        return problem


#: The largest CSV field read (bytes of text), whatever another library set the limit to.
CSV_FIELD_LIMIT = 128 * 1024


def csv_records(
    path: Path,
    rel: str,
    mapping: ColumnMapping,
    limits: ManifestLimits,
    *,
    after: int,
    delimiter: str,
) -> Records:
    """Read a CSV or TSV file with a header row; ``#n`` counts the records after the header.

    A field over :data:`CSV_FIELD_LIMIT` (Python's default, 128 KiB) is a problem with that
    record. ``csv.field_size_limit`` is process-wide and other libraries raise it on import
    (``reverse_geocode`` sets it to ``sys.maxsize``), which would let one quoted field spanning
    many lines grow without bound; so it is set for the duration of the read and put back after.
    """
    previous = csv.field_size_limit(CSV_FIELD_LIMIT)
    try:
        yield from _csv_records(path, rel, mapping, limits, after=after, delimiter=delimiter)
    finally:
        csv.field_size_limit(previous)


def _csv_records(
    path: Path,
    rel: str,
    mapping: ColumnMapping,
    limits: ManifestLimits,
    *,
    after: int,
    delimiter: str,
) -> Records:
    with path.open("rb") as stream:
        lines = _Lines(stream, limits.max_line_bytes)
        reader = csv.reader(lines, delimiter=delimiter)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            yield RowProblem(rel, f"{rel}: the header row cannot be read: {exc}")
            return
        problem = lines.take_problem()
        if header is None or problem:
            yield RowProblem(rel, f"{rel}: {problem or 'the file is empty'}")
            return
        names = [name.strip() for name in header]
        check_columns(path, names, mapping.required())
        wanted = set(pick_columns(names, mapping, limits, [True] * len(names)))
        plan = [(name, i) for i, name in enumerate(names) if name in wanted]
        index = -1
        while True:
            try:
                cells = next(reader, None)
            except csv.Error as exc:
                index += 1
                lines.take_problem()
                if index > after:
                    yield RowProblem(f"{rel}#{index}", f"line {reader.line_num}: {exc}")
                continue
            if cells is None:
                break
            index += 1
            problem = lines.take_problem()
            if index <= after:
                continue
            if problem:
                yield RowProblem(f"{rel}#{index}", problem)
            elif cells:  # csv.reader returns [] for a blank line
                yield index, {name: cells[i] for name, i in plan if i < len(cells)}
    if index < after:
        raise resume_missed(rel, after, index + 1)


def jsonl_records(
    path: Path, rel: str, mapping: ColumnMapping, limits: ManifestLimits, *, after: int
) -> Records:
    """Read a JSONL file, one JSON object per line; ``#n`` is the line number minus one.

    The first object (read even while skipping) must have the URL key, which catches a wrong
    ``url`` mapping at once. Other keys are optional per object, as JSONL writers leave out null
    values; a later object without a URL is a problem of its own row.
    """
    checked = False
    index = -1
    with path.open("rb") as stream:
        lines = _Lines(stream, limits.max_line_bytes)
        while (raw := lines.read()) is not None:
            index += 1
            problem = lines.take_problem()
            if (index <= after and checked) or not (problem or raw.strip()):
                continue  # skipped, or a blank line
            value: Any = None
            if not problem:
                value, problem = _parse_json_line(raw, lines.number)
            if not checked and isinstance(value, dict):
                check_columns(path, list(value), {"url": mapping.url})
                checked = True
            if index <= after:
                continue
            if problem:
                yield RowProblem(f"{rel}#{index}", problem)
            elif not isinstance(value, dict):
                yield RowProblem(f"{rel}#{index}", f"line {lines.number} is not a JSON object")
            else:
                yield index, value
    if index < after:
        raise resume_missed(rel, after, index + 1)


def _parse_json_line(raw: bytes, number: int) -> tuple[Any, str | None]:
    """Return ``(value, None)`` or ``(None, problem)`` for one non-blank line."""
    try:
        return json.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, f"line {number} is not valid UTF-8"
    except RecursionError:
        return None, f"line {number} nests too deeply"
    except ValueError as exc:
        return None, f"line {number} is not JSON: {clean_text(str(exc), 120)}"


def _usable_extra(kind: Any) -> bool:
    """Whether a Parquet column can be an extra fact: scalar text, numbers, flags and times.

    Binary columns (img2dataset's ``jpg`` in its parquet output format) and nested ones are
    never read unless mapped: one cell could hold a whole image or an unbounded list.
    """
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    checks = (
        pa.types.is_string,
        pa.types.is_large_string,
        pa.types.is_integer,
        pa.types.is_floating,
        pa.types.is_boolean,
        pa.types.is_timestamp,
        pa.types.is_date,
        pa.types.is_decimal,
    )
    return any(check(kind) for check in checks)


class _Unreadable:
    """Stands for a Parquet cell Python cannot represent (a timestamp past year 9999 ...)."""

    def __repr__(self) -> str:
        return "<unreadable Parquet value>"


UNREADABLE: Final = _Unreadable()


def _batch_records(batch: Any) -> list[dict[str, object]]:
    """Convert a record batch to dicts; a cell that cannot be converted becomes UNREADABLE.

    The fast path converts the whole batch at once; only a batch holding such a cell pays for
    the column-by-column, then cell-by-cell, fallback, so one bad cell spoils one value, not
    the rest of the file.
    """
    try:
        return list(batch.to_pylist())
    except _CONVERSION_ERRORS:
        columns: list[list[object]] = []
        for column in batch.columns:
            try:
                columns.append(list(column.to_pylist()))
            except _CONVERSION_ERRORS:
                columns.append([_cell(column, n) for n in range(len(column))])
        names = list(batch.schema.names)
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _cell(column: Any, number: int) -> object:
    try:
        return column[number].as_py()
    except _CONVERSION_ERRORS:
        return UNREADABLE


def parquet_records(
    path: Path,
    rel: str,
    mapping: ColumnMapping,
    limits: ManifestLimits,
    *,
    after: int,
    also: Sequence[str] = (),
) -> Records:
    """Read a Parquet file a batch at a time, only the mapped columns, extras and ``also``.

    Row groups wholly before the resume point are never read, and batches before it are
    counted, not converted. A file that cannot be opened or decoded part way ends with a
    :class:`RowProblem` keyed by the file alone.
    """
    start = after + 1
    try:
        table = pq.ParquetFile(str(path), pre_buffer=False, buffer_size=_PARQUET_BUFFER)
    except _ARROW_ERRORS as exc:
        yield RowProblem(rel, f"{rel} cannot be read as Parquet: {describe(exc)}")
        return
    with table:
        schema = table.schema_arrow
        names: list[str] = list(schema.names)
        check_columns(path, names, mapping.required())
        usable = [_usable_extra(schema.field(i).type) for i in range(len(names))]
        wanted = pick_columns(names, mapping, limits, usable)
        wanted += [name for name in also if name in names and name not in wanted]
        groups: list[int] = []  # the row groups that end after the resume point
        index = total = 0  # index: the first row of the first group read
        for group in range(table.metadata.num_row_groups):
            rows = int(table.metadata.row_group(group).num_rows)
            if total + rows > start:
                if not groups:
                    index = total
                groups.append(group)
            total += rows
        if after >= total:
            raise resume_missed(rel, after, total)
        if not groups:
            return
        batches = table.iter_batches(
            batch_size=limits.batch_size, row_groups=groups, columns=wanted, use_threads=False
        )
        while True:
            try:
                batch = next(batches, None)
                if batch is None:
                    return
                rows = int(batch.num_rows)
                records = _batch_records(batch) if index + rows > start else []
            except _ARROW_ERRORS as exc:
                yield RowProblem(rel, f"{rel} is damaged from row {index} on: {describe(exc)}")
                return
            for offset, record in enumerate(records):
                if index + offset >= start:
                    yield index + offset, record
            index += rows
