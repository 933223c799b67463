"""Tests for :mod:`auditor.manifest`, plus helpers that read manifests and build hostile ones."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from auditor.manifest import ColumnMapping, ManifestItem, ManifestRow, RowProblem, iter_manifest

FIXTURE_MANIFESTS = Path(__file__).resolve().parents[2] / "fixtures" / "manifests"


def read(
    path: Path,
    mapping: ColumnMapping | None = None,
    *,
    start_after: str | None = None,
    allow_outside: bool = False,
) -> list[ManifestItem]:
    """Read a whole manifest into a list (fine for the small manifests the tests build)."""
    items = iter_manifest(
        path, mapping or ColumnMapping(), start_after=start_after, allow_outside=allow_outside
    )
    return list(items)


def rows(items: list[ManifestItem]) -> list[ManifestRow]:
    return [item for item in items if isinstance(item, ManifestRow)]


def problems(items: list[ManifestItem]) -> list[RowProblem]:
    return [item for item in items if isinstance(item, RowProblem)]


def tar_bytes(*members: tuple[str, bytes] | tarfile.TarInfo) -> bytes:
    """An uncompressed tar of ``(name, data)`` regular files and ready-made (link) headers."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()
