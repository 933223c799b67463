"""Stream what a crawler already collected: :func:`iter_manifest` over a file or a folder.

The path is one manifest file (``.csv``, ``.tsv``, ``.jsonl``/``.ndjson``, ``.parquet``), an
img2dataset output folder, or a folder of manifests, read recursively in name order (hidden
entries skipped, symlinked folders not followed; img2dataset folders inside it are read as
such). The order of items is fixed by the files alone, which is what makes resuming exact:
``start_after=key`` yields precisely the items a full read yields after ``key``.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import UsageError
from auditor.extract.imagefacts import describe
from auditor.manifest.formats import Records, csv_records, jsonl_records, parquet_records
from auditor.manifest.mapping import FILE_FORMATS, ColumnMapping, detect
from auditor.manifest.model import ManifestItem, RowProblem
from auditor.manifest.values import DEFAULT_LIMITS, ManifestLimits, PathPolicy, RowBuilder
from auditor.manifest.webdataset import (
    Shard,
    TarShard,
    list_shards,
    shard_table_items,
    tar_items,
)

_DELIMITERS = {"csv": ",", "tsv": "\t"}
_MAX_DEPTH = 32


@dataclass(frozen=True)
class _Source:
    """One file read in turn; ``rel`` is its path from the root, the prefix of its keys."""

    kind: str  # a file format, "tar" or "shard" (an img2dataset shard's Parquet file)
    path: Path
    rel: str
    shard: Shard | None = None  # set for an img2dataset shard's Parquet file


def iter_manifest(
    path: Path,
    mapping: ColumnMapping,
    *,
    start_after: str | None = None,
    allow_outside: bool = False,
    limits: ManifestLimits = DEFAULT_LIMITS,
) -> Iterator[ManifestItem]:
    """Return an iterator over every row of the manifest(s) at ``path``, one item per key.

    ``start_after`` resumes after the item with that key (files before its file are not opened).
    A :class:`RowProblem` reports a row (or, keyed by a file alone, the rest of a file) that
    yields no row; reading carries on. Raises :class:`~auditor.errors.UsageError` at once when
    the path is not a manifest or the resume key names no file of it. While iterating, raises
    :class:`~auditor.errors.ConfigError` when a file lacks a column the mapping requires, and
    ``UsageError`` when the resume key's row is no longer in its file.
    """
    root, sources = _plan(path)
    first, position = _resume_point(sources, start_after, path)
    return _items(sources[first:], position, PathPolicy(root, allow_outside), mapping, limits)


def _items(
    sources: list[_Source],
    position: int | str | None,
    policy: PathPolicy,
    mapping: ColumnMapping,
    limits: ManifestLimits,
) -> Iterator[ManifestItem]:
    for number, source in enumerate(sources):
        builder = RowBuilder(mapping, policy, limits, os.path.realpath(source.path.parent))
        items = _read(source, builder, position if number == 0 else None)
        try:
            yield from items
        except OSError as exc:
            yield RowProblem(source.rel, f"{source.rel} cannot be read: {describe(exc)}")


def _plan(path: Path) -> tuple[str, list[_Source]]:
    """Return the real root folder and the files to read, in order."""
    kind = detect(path)
    formats = ", ".join(sorted(FILE_FORMATS))
    if kind is None:
        raise UsageError(f"{path} is not a manifest: give a {formats} file or a folder")
    if kind not in ("img2dataset", "directory"):
        return os.path.realpath(path.parent), [_Source(kind, path, path.name)]
    try:
        found = _shard_sources(path, "") if kind == "img2dataset" else _folder_sources(path, "", 0)
        sources = list(found)
    except OSError as exc:
        raise UsageError(f"{path} cannot be listed: {describe(exc)}") from None
    if not sources:
        raise UsageError(f"{path} holds no manifest ({formats}) and no img2dataset shards")
    return os.path.realpath(path), sources


def _shard_sources(folder: Path, prefix: str) -> Iterator[_Source]:
    for shard in list_shards(folder):
        if shard.tar is not None:
            yield _Source("tar", shard.tar, f"{prefix}{shard.tar.name}")
        if shard.parquet is not None:
            yield _Source("shard", shard.parquet, f"{prefix}{shard.parquet.name}", shard)


def _folder_sources(folder: Path, prefix: str, depth: int) -> Iterator[_Source]:
    """Walk a folder of manifests depth first in name order, without following folder links."""
    if depth > _MAX_DEPTH:
        raise UsageError(f"{folder} is nested more than {_MAX_DEPTH} folders deep")
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    entries = [entry for entry in entries if not entry.name.startswith(".")]
    for entry in entries:
        rel = f"{prefix}{entry.name}"
        kind = FILE_FORMATS.get(Path(entry.name).suffix.lower())
        if entry.is_dir(follow_symlinks=False):
            subfolder = Path(entry.path)
            if detect(subfolder) == "img2dataset":
                yield from _shard_sources(subfolder, f"{rel}/")
            else:
                yield from _folder_sources(subfolder, f"{rel}/", depth + 1)
        elif kind is not None and entry.is_file():
            yield _Source(kind, Path(entry.path), rel)


def _resume_point(
    sources: list[_Source], start_after: str | None, path: Path
) -> tuple[int, int | str | None]:
    """Return the index of the first source to read and the position to resume after in it.

    The position is a row index for table files and the whole key for tar samples (matched
    while walking the tar's headers); ``None`` means from the start.
    """
    if start_after is None:
        return 0, None
    for number, source in enumerate(sources):
        if source.rel == start_after:  # a problem that ended a whole file
            return number + 1, None
    rel, _, position = start_after.rpartition("#")
    for number, source in enumerate(sources):
        if source.rel != rel:
            continue
        if source.kind == "tar":
            return number, start_after
        if position.isascii() and position.isdigit():
            return number, int(position)
        break
    raise UsageError(f"cannot resume after {start_after!r}: no such row key in {path}")


def _read(source: _Source, builder: RowBuilder, after: int | str | None) -> Iterator[ManifestItem]:
    if source.kind == "tar":  # also part of a shard, read before the shard's Parquet file
        return _read_tar(source, builder, after if isinstance(after, str) else None)
    row_after = after if isinstance(after, int) else -1
    if source.shard is not None:
        return shard_table_items(source.shard, source.path, source.rel, builder, row_after)
    mapping, limits = builder.mapping, builder.limits
    records: Records
    if source.kind == "jsonl":
        records = jsonl_records(source.path, source.rel, mapping, limits, after=row_after)
    elif source.kind == "parquet":
        records = parquet_records(source.path, source.rel, mapping, limits, after=row_after)
    else:
        delimiter = _DELIMITERS[source.kind]
        records = csv_records(
            source.path, source.rel, mapping, limits, after=row_after, delimiter=delimiter
        )
    return (
        entry
        if isinstance(entry, RowProblem)
        else builder.build(f"{source.rel}#{entry[0]}", entry[1])
        for entry in records
    )


def _read_tar(source: _Source, builder: RowBuilder, after: str | None) -> Iterator[ManifestItem]:
    try:
        shard = TarShard.open(source.path, source.rel, builder.limits.max_metadata_bytes)
    except (tarfile.TarError, OSError) as exc:
        yield RowProblem(source.rel, f"{source.rel} cannot be read as a tar: {describe(exc)}")
        return
    with shard:
        yield from tar_items(shard, builder, after)
