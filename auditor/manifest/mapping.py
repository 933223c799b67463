"""Which manifest columns mean what, and what kind of manifest a path holds.

:class:`ManifestSettings` is the ``manifest:`` section of ``audit.yaml``; its ``columns`` map the
auditor's fields to the manifest's column names. The defaults are the names img2dataset and most
crawlers write (``url``, ``sha256`` ...), so a manifest that uses them needs no configuration.
A field set to ``null`` is never looked for. Columns named explicitly must exist in every CSV and
Parquet file (a misspelt name is a configuration error, not a column of ``None``); columns left at
their defaults are used when present.

This module imports nothing heavy: ``auditor.config`` imports it to validate ``audit.yaml``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ColumnName = Annotated[str, Field(min_length=1, max_length=200)]

ManifestFormat = Literal["csv", "tsv", "jsonl", "parquet", "img2dataset", "directory"]
"""How :func:`detect` classifies a path; ``directory`` is a folder of manifest files."""

FILE_FORMATS: dict[str, ManifestFormat] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
"""Manifest file suffixes (compared in lower case) and the format each one means."""

# img2dataset names every output after its shard number: 00000.parquet, 00000.tar, 00000/ (the
# "files" output format) and 00000_stats.json (written once the shard is complete).
IMG2DATASET_MARKER = re.compile(r"\d+(?:_stats\.json|\.tar)")


class ColumnMapping(BaseModel):
    """Manifest column names for each field the auditor reads; ``None``: the manifest has none.

    ``local_path`` holds a path to the image file, relative to the manifest file's folder.
    Every column not named here is kept as an extra fact.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: ColumnName = "url"
    page_url: ColumnName | None = "page_url"
    collected_at: ColumnName | None = "collected_at"
    sha256: ColumnName | None = "sha256"
    phash: ColumnName | None = "phash"
    local_path: ColumnName | None = "local_path"

    @model_validator(mode="after")
    def _one_field_per_column(self) -> ColumnMapping:
        """Refuse two fields read from one column: the mapping would be ambiguous."""
        seen: dict[str, str] = {}
        for name, column in self.columns().items():
            if column in seen:
                raise ValueError(f"'{seen[column]}' and '{name}' both name the column '{column}'")
            seen[column] = name
        return self

    def columns(self) -> dict[str, str]:
        """Return ``{field: column}`` for every field that names a column."""
        mapped = {name: getattr(self, name) for name in type(self).model_fields}
        return {name: column for name, column in mapped.items() if column is not None}

    def required(self) -> dict[str, str]:
        """Return ``{field: column}`` for the columns every CSV and Parquet file must have.

        ``url`` always; any other field only when the configuration names its column, because a
        default name that is absent simply means the manifest does not record that field.
        """
        explicit = self.model_fields_set | {"url"}
        return {name: column for name, column in self.columns().items() if name in explicit}


class ManifestSettings(BaseModel):
    """The ``manifest:`` section of ``audit.yaml`` (docs/manifests.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: ColumnMapping = ColumnMapping()
    allow_outside: bool = False
    """Let local paths point outside the manifest's folder (absolute paths, ``..``, symlinks)."""


def detect(path: Path) -> ManifestFormat | None:
    """Return the kind of manifest at ``path``, or ``None`` if it is none the auditor reads.

    A folder is an img2dataset output folder when it holds a shard's ``NNNNN.tar`` or
    ``NNNNN_stats.json`` next to its other files; any other folder is read as a folder of manifest
    files. Only names are looked at, never contents, so this is cheap on huge folders.
    """
    if path.is_dir():
        with os.scandir(path) as entries:
            if any(IMG2DATASET_MARKER.fullmatch(entry.name) for entry in entries):
                return "img2dataset"
        return "directory"
    if path.is_file():
        return FILE_FORMATS.get(path.suffix.lower())
    return None
