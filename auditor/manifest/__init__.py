"""Manifest mode's reading side: stream the rows of what a crawler already collected.

:func:`iter_manifest` reads a CSV/TSV, JSONL or Parquet manifest, an img2dataset output folder
(its Parquet metadata and webdataset tar shards) or a folder of manifests, and yields one
:class:`ManifestRow` or :class:`RowProblem` per key, in a fixed order, so a run can resume
exactly after the last key it finished (docs/manifests.md). Nothing is loaded whole: memory is
bounded by one line, one Parquet batch or one tar header.

:mod:`auditor.manifest.mapping` (the ``manifest:`` settings of ``audit.yaml``) and
:mod:`auditor.manifest.model` import nothing heavy and are loaded with the package; the readers,
which need pyarrow, Pillow's text helpers and the URL normaliser, load on first use (PEP 562),
so ``auditor.config`` can validate the settings without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from auditor.manifest.mapping import ColumnMapping, ManifestFormat, ManifestSettings, detect
from auditor.manifest.model import (
    LocalImage,
    LocalImageError,
    ManifestItem,
    ManifestRow,
    RowProblem,
)

if TYPE_CHECKING:
    from auditor.manifest.readers import iter_manifest
    from auditor.manifest.values import DEFAULT_LIMITS, ManifestLimits

_LOCATIONS = {
    "iter_manifest": "readers",
    "DEFAULT_LIMITS": "values",
    "ManifestLimits": "values",
}


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use (PEP 562)."""
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'auditor.manifest' has no attribute {name!r}")
    return getattr(importlib.import_module(f"auditor.manifest.{module}"), name)


__all__ = [
    "DEFAULT_LIMITS",
    "ColumnMapping",
    "LocalImage",
    "LocalImageError",
    "ManifestFormat",
    "ManifestItem",
    "ManifestLimits",
    "ManifestRow",
    "ManifestSettings",
    "RowProblem",
    "detect",
    "iter_manifest",
]
