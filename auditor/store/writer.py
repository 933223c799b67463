"""The batched writer: pipeline records in, bulk ``INSERT`` statements out.

:class:`StoreWriter` turns each record into plain row dictionaries as soon as it is added (so a
bad value fails at the call that passed it, not at a later flush) and buffers them. Every
``batch_size`` records, and on :meth:`~StoreWriter.flush` / :meth:`~StoreWriter.close`, it writes
the whole buffer in **one transaction** with Core ``insert()`` executemany statements, never the
ORM unit of work.

Image and page ids. ``image_contexts`` and ``signals`` rows need the id of their image, and
page-level signals (:attr:`~auditor.model.PageRecord.signals`) the id of their page. The writer
inserts each batch of images and of pages with ``INSERT ... RETURNING id, url`` (SQLAlchemy's
"insertmanyvalues" sends it as a few multi-row statements) and maps ids back by URL, which is
unique per run; the signals of the whole batch then go in one executemany. It does not ask for
RETURNING rows in parameter order: on SQLite that would make SQLAlchemy fall back to one
statement per row. Ids are therefore assigned by the database, so several writers (processes,
shards, machines on PostgreSQL) can add to the same database without coordinating id ranges.

Idempotence, so that a resumed or re-evaluated run can write again:

- sites: unique per (run, origin); :meth:`~StoreWriter.add_site` sets the four columns of each
  origin file it is given (a later record of the same kind replaces them, other kinds are left
  as they are), and a site first seen on a page or image is created with empty file columns;
- pages: unique per (run, url); a later record replaces the earlier one together with its
  page-level signals;
- images: unique per (run, url); a later record replaces the earlier one together with its
  contexts and signals;
- findings: unique per (run, fingerprint); a duplicate is ignored (the first one stays);
- rule stats: unique per (run, pack, rule); a later call replaces the counts;
- skips are plain records: every call adds a row.

:meth:`~StoreWriter.stored_key` tells a manifest audit whether a URL is already recorded (buffered
or stored), so a repeated URL is recorded once, as its first row.

Resumable runs (``auditor manifest``) add each manifest row's records inside :meth:`unit`, so no
automatic flush splits a row, and register a progress snapshot with :meth:`track_progress`; it
is written to ``run_checkpoints`` in the same transaction as every batch, so what is stored and
where the run stands never disagree. A unit that raises leaves the writer *torn*: its buffer is
dropped instead of written, and the resumed run redoes everything after the last checkpoint.

A writer is not thread-safe; use one per thread or process.

Records become rows in :mod:`auditor.store.rows`; this module buffers and writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase

from auditor.errors import StoreError
from auditor.model import (
    Finding,
    ImageRecord,
    OriginFileRecord,
    PageRecord,
    SkipRecord,
)
from auditor.store.engine import WRITE_OPTION, describe_error
from auditor.store.fulltext import findings_high_water, index_findings_after
from auditor.store.rows import (
    Row,
    RuleMeta,
    context_row,
    finding_row,
    image_row,
    page_row,
    rule_stat_row,
    signal_row,
    site_columns,
)
from auditor.store.schema import (
    FindingRow,
    Image,
    Page,
    RuleStatRow,
    RunCheckpoint,
    Signal,
    Site,
    Skip,
)
from auditor.store.schema import ImageContext as ImageContextRow


class StoreWriter:
    """Buffers one run's records and writes them in batches (see the module docstring).

    Use it as a context manager, or call :meth:`close`; both flush what is left. When the
    ``with`` block ends with an exception, the buffer is still written (so an interrupted run
    keeps what it found); if that write fails too, its error is attached to the original
    exception as a note rather than replacing it.
    """

    def __init__(self, engine: Engine, run_id: int, *, batch_size: int = 500) -> None:
        """Prepare a writer for ``run_id``; nothing is written until the first flush."""
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self._engine = engine
        self.run_id = run_id
        self.batch_size = batch_size
        self._closed = False
        self._site_ids: dict[str, int] = {}
        self._sites: dict[str, Row] = {}  # origin -> file columns to set ({}: just the site)
        self._pages: dict[str, tuple[str, Row, list[Row]]] = {}  # url -> (origin, row, signals)
        self._images: dict[str, tuple[str, Row, list[Row], list[Row]]] = {}
        self._skips: list[Row] = []
        self._findings: dict[str, Row] = {}
        self._rule_stats: dict[tuple[str, str], Row] = {}
        self._units = 0  # depth of open unit() blocks: no automatic flush inside one
        self._torn = False  # a unit raised: the buffer holds part of it and must not be written
        self._progress: Callable[[], Row] | None = None

    # -- units and progress ------------------------------------------------------------------

    @contextmanager
    def unit(self) -> Iterator[None]:
        """Add the records of one unit of work (a manifest row) so no flush can split them.

        If the block raises, the writer is torn: nothing more is written by it (see the module
        docstring), because the buffer may hold half a unit.
        """
        self._check_open()
        self._units += 1
        try:
            yield
        except BaseException:
            self._torn = True
            raise
        finally:
            self._units -= 1
        self._added()

    def track_progress(self, snapshot: Callable[[], Row]) -> None:
        """Write ``snapshot()`` (``last_key``, ``rows``, ``state_json``) with every flush.

        It is called inside the flush's transaction, after the buffered records, so it must
        describe exactly the units added so far; it is never called inside a unit.
        """
        self._progress = snapshot

    # -- adding ------------------------------------------------------------------------------

    def add_site(self, origin: str, files: Iterable[OriginFileRecord]) -> None:
        """Record an origin and how its origin files were obtained.

        Each record's ``kind`` (``robots``, ``tdmrep`` or ``ai_txt``; anything else is a
        ``ValueError``) selects the four ``sites`` columns it fills. A later call for the origin
        updates the kinds it names and leaves the others as they were; no files just records
        the origin.
        """
        self._check_open()
        columns = site_columns(files)
        self._sites.setdefault(origin, {}).update(columns)
        self._added()

    def add_page(self, page: PageRecord) -> None:
        """Record a crawled page with its page-level signals (a later record replaces both)."""
        self._check_open()
        row = page_row(page)
        signals = [signal_row(signal) for signal in page.signals]
        self._need_site(page.site)
        self._pages[page.url] = (page.site, row, signals)
        self._added()

    def add_image(self, image: ImageRecord) -> None:
        """Record an image with its page contexts and signals (a later record replaces it)."""
        self._check_open()
        row = image_row(image)
        contexts = [context_row(context) for context in image.contexts]
        signals = [signal_row(signal) for signal in image.signals]
        self._need_site(image.site)
        self._images[image.url] = (image.site, row, contexts, signals)
        self._added()

    def add_skip(self, skip: SkipRecord) -> None:
        """Record a URL the run did not process."""
        self._check_open()
        self._skips.append(
            {
                "url": skip.url,
                "kind": skip.kind,
                "reason": skip.reason,
                "detail": skip.detail,
                "at": skip.at,
            }
        )
        self._added()

    def add_findings(self, findings: Iterable[Finding]) -> None:
        """Record findings; a fingerprint already stored for the run is ignored."""
        self._check_open()
        for finding in findings:
            row = finding_row(finding)
            self._findings.setdefault(finding.fingerprint, row)
            self._added()

    def add_rule_stats(
        self,
        stats: Mapping[tuple[str, str], Mapping[str, int]],
        *,
        rules: Mapping[tuple[str, str], RuleMeta],
    ) -> None:
        """Record per-rule outcome counts, passes included.

        ``stats`` maps ``(pack, rule_id)`` to ``{outcome: count}`` with outcome keys from
        :class:`~auditor.model.Outcome` (missing ones count 0). ``rules`` maps the same keys to
        the rule's title and severity (the compiled rules themselves fit :class:`RuleMeta`);
        every key of ``stats`` must be in it. A later call for a rule replaces its counts.
        """
        self._check_open()
        for (pack, rule_id), counts in stats.items():
            rule = rules.get((pack, rule_id))
            if rule is None:
                raise ValueError(f"rule stats for {pack}/{rule_id}: no title and severity given")
            self._rule_stats[(pack, rule_id)] = rule_stat_row(pack, rule_id, counts, rule)
            self._added()

    # -- writing -----------------------------------------------------------------------------

    def stored_key(self, url: str) -> str | None:
        """Return the manifest row key an image of ``url`` was recorded with, buffered or stored.

        ``None`` when the run has no image of that URL, or only a crawled one (no row key).
        """
        buffered = self._images.get(url)
        if buffered is not None:
            key = buffered[1].get("source_key")
            return None if key is None else str(key)
        try:
            with self._engine.connect() as connection:
                key = connection.execute(
                    select(Image.source_key).where(Image.run_id == self.run_id, Image.url == url)
                ).scalar()
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot read run {self.run_id} from the database: {describe_error(exc)}"
            ) from exc
        return None if key is None else str(key)

    @property
    def pending(self) -> int:
        """How many records are buffered and not yet written."""
        return (
            len(self._pages)
            + len(self._images)
            + len(self._skips)
            + len(self._findings)
            + len(self._rule_stats)
        )

    def flush(self) -> None:
        """Write everything buffered, in one transaction; raises :class:`StoreError` on failure.

        On failure the buffer is kept, so a later flush retries it (e.g. after a lock timeout).
        """
        if self._torn:
            raise StoreError(
                f"run {self.run_id}: a unit of work failed part way, so the buffered records were "
                "not written; resume the run to redo them"
            )
        if not self._sites and not self.pending:
            return
        try:
            with self._engine.connect() as connection:
                connection.execution_options(**{WRITE_OPTION: True})
                with connection.begin():
                    site_ids = self._write_sites(connection)
                    self._write_pages(connection, site_ids)
                    self._write_images(connection, site_ids)
                    self._insert(connection, Skip, self._with_run(self._skips))
                    self._write_findings(connection)
                    self._write_rule_stats(connection)
                    self._write_progress(connection)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot write run {self.run_id} to the database: {describe_error(exc)}"
            ) from exc
        self._site_ids.update(site_ids)
        self._sites.clear()
        self._pages.clear()
        self._images.clear()
        self._skips.clear()
        self._findings.clear()
        self._rule_stats.clear()

    def close(self) -> None:
        """Flush and stop accepting records (calling it again does nothing)."""
        if self._closed:
            return
        self.flush()
        self._closed = True

    def __enter__(self) -> Self:
        """Return the writer itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Flush and close; see the class docstring for what happens after an exception."""
        if exc is None:
            self.close()
            return
        if self._torn:
            self._closed = True
            exc.add_note("buffered records were dropped: a unit of work failed part way")
            return
        try:
            self.close()
        except StoreError as error:
            exc.add_note(f"buffered records were not written: {error}")
            self._closed = True

    # -- internals ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this StoreWriter is closed")

    def _added(self) -> None:
        if not self._units and self.pending >= self.batch_size:
            self.flush()

    def _need_site(self, origin: str) -> None:
        if origin not in self._site_ids and origin not in self._sites:
            self._sites[origin] = {}

    def _with_run(self, rows: Iterable[Row]) -> list[Row]:
        return [{**row, "run_id": self.run_id} for row in rows]

    @staticmethod
    def _insert(connection: Connection, model: type[DeclarativeBase], rows: list[Row]) -> None:
        if rows:
            connection.execute(insert(model), rows)

    def _write_sites(self, connection: Connection) -> dict[str, int]:
        # One upsert per set of columns (executemany needs the same keys in every row); rows
        # without columns only make sure the site exists.
        groups: dict[tuple[str, ...], list[Row]] = {}
        for origin, columns in self._sites.items():
            key = tuple(sorted(columns))
            groups.setdefault(key, []).append({"origin": origin, "run_id": self.run_id, **columns})
        for key in sorted(groups):
            _upsert(connection, Site, groups[key], ("run_id", "origin"), key)
        wanted = {origin for origin, _row, _signals in self._pages.values()}
        wanted.update(origin for origin, *_rest in self._images.values())
        wanted.update(self._sites)
        missing = sorted(wanted - self._site_ids.keys())
        site_ids = dict(self._site_ids)
        for chunk in _chunks(missing, 500):
            found = connection.execute(
                select(Site.origin, Site.id).where(
                    Site.run_id == self.run_id, Site.origin.in_(chunk)
                )
            )
            site_ids.update({str(origin): int(site_id) for origin, site_id in found})
        return site_ids

    def _write_pages(self, connection: Connection, site_ids: Mapping[str, int]) -> None:
        if not self._pages:
            return
        urls = list(self._pages)
        # Replace semantics, as for images: a page stored by an earlier flush goes, with its
        # page-level signals (ON DELETE CASCADE), before the new record is inserted.
        for chunk in _chunks(urls, 500):
            connection.execute(delete(Page).where(Page.run_id == self.run_id, Page.url.in_(chunk)))
        rows = [
            {**row, "run_id": self.run_id, "site_id": site_ids[origin]}
            for origin, row, _signals in self._pages.values()
        ]
        returned = connection.execute(insert(Page).returning(Page.id, Page.url), rows)
        page_ids = {url: page_id for page_id, url in returned}
        signals: list[Row] = []
        for url, (_origin, _row, page_signals) in self._pages.items():
            page_id = page_ids[url]
            signals.extend(
                {**signal, "page_id": page_id, "run_id": self.run_id} for signal in page_signals
            )
        self._insert(connection, Signal, signals)

    def _write_images(self, connection: Connection, site_ids: Mapping[str, int]) -> None:
        if not self._images:
            return
        urls = list(self._images)
        # Replace semantics: an image stored by an earlier flush goes, with its contexts and
        # signals (ON DELETE CASCADE), before the new record is inserted.
        for chunk in _chunks(urls, 500):
            connection.execute(
                delete(Image).where(Image.run_id == self.run_id, Image.url.in_(chunk))
            )
        rows = [
            {**row, "run_id": self.run_id, "site_id": site_ids[origin]}
            for origin, row, _contexts, _signals in self._images.values()
        ]
        returned = connection.execute(insert(Image).returning(Image.id, Image.url), rows)
        image_ids = {url: image_id for image_id, url in returned}
        contexts: list[Row] = []
        signals: list[Row] = []
        for url, (_origin, _row, image_contexts, image_signals) in self._images.items():
            image_id = image_ids[url]
            contexts.extend({**context, "image_id": image_id} for context in image_contexts)
            signals.extend(
                {**signal, "image_id": image_id, "run_id": self.run_id} for signal in image_signals
            )
        self._insert(connection, ImageContextRow, contexts)
        self._insert(connection, Signal, signals)

    def _write_findings(self, connection: Connection) -> None:
        if not self._findings:
            return
        high_water = findings_high_water(connection)
        _upsert(
            connection,
            FindingRow,
            self._with_run(self._findings.values()),
            ("run_id", "fingerprint"),
            (),
        )
        if high_water is not None:
            index_findings_after(connection, high_water)

    def _write_progress(self, connection: Connection) -> None:
        if self._progress is None:
            return
        row = {**self._progress(), "run_id": self.run_id, "updated_at": _now()}
        columns = [column for column in row if column != "run_id"]
        _upsert(connection, RunCheckpoint, [row], ("run_id",), columns)

    def _write_rule_stats(self, connection: Connection) -> None:
        rows = self._with_run(self._rule_stats.values())
        columns = (
            [column for column in rows[0] if column not in ("run_id", "pack", "rule_id")]
            if rows
            else []
        )
        _upsert(connection, RuleStatRow, rows, ("run_id", "pack", "rule_id"), columns)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert(
    connection: Connection,
    model: type[DeclarativeBase],
    rows: list[Row],
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert ``rows``; on a conflict over ``keys`` update ``update`` columns, or do nothing.

    ``rows`` must not repeat a key (PostgreSQL refuses to update one row twice per statement);
    the writer's buffers are keyed so they never do.
    """
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect == "sqlite":
        lite = sqlite.insert(model)
        if update:
            lite = lite.on_conflict_do_update(
                index_elements=list(keys), set_={column: lite.excluded[column] for column in update}
            )
        else:
            lite = lite.on_conflict_do_nothing(index_elements=list(keys))
        connection.execute(lite, rows)
    elif dialect == "postgresql":
        pg = postgresql.insert(model)
        if update:
            pg = pg.on_conflict_do_update(
                index_elements=list(keys), set_={column: pg.excluded[column] for column in update}
            )
        else:
            pg = pg.on_conflict_do_nothing(index_elements=list(keys))
        connection.execute(pg, rows)
    else:  # pragma: no cover - open_store refuses other backends
        raise StoreError(f"unsupported database backend {dialect}: use SQLite or PostgreSQL")
