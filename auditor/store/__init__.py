"""The audit database: SQLAlchemy models, migrations, a batched writer and the queries.

SQLite (one file, WAL) is the default; PostgreSQL serves teams and clusters. The schema is built
for Datasette: integer primary keys, declared foreign keys, ``CHECK`` constraints on every
enumeration, the views ``open_findings``, ``findings_by_severity``,
``expiring_suppressions``, ``images_without_permission`` and ``signals_by_mechanism``, a
full-text index over findings, and descriptive metadata for Datasette
(:func:`auditor.store.datasette.datasette_metadata_path`, docs/datasette.md). It stores metadata
and hashes, never image bytes. ``auditor check`` records each finding's gate state and the
suppressions register with the run (:meth:`Store.record_gate`).

Public API::

    store = open_store("audit.db")                 # or "postgresql+psycopg://..."; migrates
    run_id = store.begin_run(tool_version=..., started_at=..., config_hash=..., ...)
    with store.writer(run_id) as writer:           # batched; flushes on exit
        writer.add_site(origin, [OriginFileRecord("robots", ...), ...])
        writer.add_page(page); writer.add_image(image); writer.add_skip(skip)
        writer.add_findings(findings)
        writer.add_rule_stats(stats, rules=rules)
    store.finish_run(run_id, finished_at=..., status="complete", counters=counters)
    for image in store.iter_images(run_id): image.to_json()   # DESIGN 4.3 shapes
    for page in store.iter_pages(run_id): page.to_record()    # PageRecord, signals included
    store.close()

Modules: :mod:`~auditor.store.schema` (tables), :mod:`~auditor.store.engine` (opening, pragmas,
migrations runner), :mod:`~auditor.store.writer` (batched inserts, id assignment, idempotence
rules), :mod:`~auditor.store.rows` (records to rows, the JSON encoding),
:mod:`~auditor.store.reader` (queries, orders), :mod:`~auditor.store.exports` and
:mod:`~auditor.store.run_records` (the records queries return), :mod:`~auditor.store.row_decoders`
(rows to records) and :mod:`~auditor.store.facts_json` (embedded facts to and from JSON).
``migrations/`` holds the
alembic scripts, run programmatically: users never need an ``alembic.ini``.

Errors: every failure to open, migrate or write is a :class:`~auditor.errors.StoreError` with one
actionable line; an unknown run id is one too. Passing a value the model forbids (an outcome of
``pass`` as a finding, an unknown purpose) is a programming error and raises ``ValueError`` at the
``add_*`` call; evidence that JSON cannot represent raises ``TypeError`` there.

Semantics worth knowing (details in :mod:`~auditor.store.writer`): sites, pages and images are
unique per run and a later record replaces an earlier one (an image together with its contexts
and signals, a page together with its page-level signals; ``add_site`` updates the origin files
it names); a finding whose fingerprint the run already has is ignored; ``add_rule_stats``
replaces a rule's counts. ``gps`` is NULL when EXIF was not examined and ``faces`` is NULL until
face detection exists, and ``xmp``/``c2pa`` are NULL when not examined: NULL means "not
evaluated", never "none". A signal belongs to an image or to a page (page-level signals), never
both; in ``export --what signals`` page-level signals have ``image_url`` null and ``page_url`` set.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditor.store.database import FINAL_STATUSES, Store, open_store
    from auditor.store.engine import head_revision
    from auditor.store.exports import (
        ExifExport,
        ImageExport,
        PageExport,
        SignalExport,
        SiteExport,
    )
    from auditor.store.rows import RuleMeta
    from auditor.store.run_records import (
        Checkpoint,
        FindingExport,
        RuleStat,
        RunRow,
        RunSummary,
    )
    from auditor.store.writer import StoreWriter

#: Where each public name lives. The package imports its modules only when a name is first
#: used, so code that needs only the plain records (reports, the CI gate's declaration-only
#: mode) does not pay for SQLAlchemy and alembic at start-up.
_LOCATIONS = {
    "FINAL_STATUSES": "database",
    "Store": "database",
    "open_store": "database",
    "head_revision": "engine",
    "ExifExport": "exports",
    "ImageExport": "exports",
    "PageExport": "exports",
    "SignalExport": "exports",
    "SiteExport": "exports",
    "RuleMeta": "rows",
    "Checkpoint": "run_records",
    "FindingExport": "run_records",
    "RuleStat": "run_records",
    "RunRow": "run_records",
    "RunSummary": "run_records",
    "StoreWriter": "writer",
}


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use (PEP 562)."""
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'auditor.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"auditor.store.{module}"), name)


__all__ = [
    "FINAL_STATUSES",
    "Checkpoint",
    "ExifExport",
    "FindingExport",
    "ImageExport",
    "PageExport",
    "RuleMeta",
    "RuleStat",
    "RunRow",
    "RunSummary",
    "SignalExport",
    "SiteExport",
    "Store",
    "StoreWriter",
    "head_revision",
    "open_store",
]
