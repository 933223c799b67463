"""The Datasette metadata shipped with the store, so an audit database opens usefully in Datasette.

``metadata.yml`` (package data next to this module) describes every table, view and column, sets
facets, sorts and label columns, and defines canned queries (conventions.md section 9). Datasette
keys that metadata by database name, which is the file name without its suffix; the shipped file
uses ``audit`` (``audit.db``, the CLI's default). For another file name,
:func:`datasette_metadata` returns the same metadata keyed by that name::

    datasette -i audit.db \
      -m "$(python -c 'import auditor.store.datasette as d; print(d.datasette_metadata_path())')"

No Datasette import happens here: Datasette is a viewer users install themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: The database name ``metadata.yml`` describes (``audit.db`` without its suffix).
DEFAULT_DATABASE = "audit"

_METADATA = Path(__file__).with_name("metadata.yml")


def datasette_metadata_path() -> Path:
    """Return the path of the shipped ``metadata.yml``, for ``datasette -m``."""
    return _METADATA


def datasette_metadata(database: str = DEFAULT_DATABASE) -> dict[str, Any]:
    """Return the shipped metadata with its tables keyed under ``database``.

    Datasette only applies database-level metadata to the database of that name, so a file not
    called ``audit.db`` needs the descriptions re-keyed to its own stem.
    """
    metadata: dict[str, Any] = yaml.safe_load(_METADATA.read_text(encoding="utf-8"))
    databases = metadata["databases"]
    databases[database] = databases.pop(DEFAULT_DATABASE)
    return metadata


__all__ = ["DEFAULT_DATABASE", "datasette_metadata", "datasette_metadata_path"]
