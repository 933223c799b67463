"""The :class:`Store`: one open audit database (see the package docstring for the API)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from auditor.errors import StoreError
from auditor.model import RunCounters, SkipRecord, SuppressionInfo, SuppressionStatus
from auditor.store.engine import describe_error, open_engine
from auditor.store.exports import ImageExport, PageExport, SignalExport, SiteExport
from auditor.store.reader import (
    get_run,
    iter_findings,
    iter_images,
    iter_pages,
    iter_signals,
    iter_sites,
    iter_skips,
    latest_run_id,
    rule_stats,
    run_summary,
    suppressions,
)
from auditor.store.rows import dumps
from auditor.store.run_records import Checkpoint, FindingExport, RuleStat, RunRow, RunSummary
from auditor.store.schema import (
    RUN_STATUSES,
    FindingRow,
    Image,
    Run,
    RunCheckpoint,
    Site,
    Skip,
    SuppressionRow,
)
from auditor.store.writer import StoreWriter

_T = TypeVar("_T")

#: Statuses :meth:`Store.finish_run` accepts.
FINAL_STATUSES = tuple(status for status in RUN_STATUSES if status != "running")


class Store:
    """An open audit database. Use :func:`open_store` to get one; close it when done."""

    def __init__(self, engine: Engine, *, where: str) -> None:
        """Wrap an engine whose database is already migrated (see :func:`open_store`)."""
        self._engine = engine
        self.where = where

    @classmethod
    def open(cls, target: str | Path, *, create: bool = True) -> Store:
        """Open the database at ``target``: the same as :func:`open_store`."""
        return open_store(target, create=create)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for tools that need raw access (tests, Datasette helpers)."""
        return self._engine

    # -- runs --------------------------------------------------------------------------------

    def begin_run(
        self,
        *,
        tool_version: str,
        started_at: str,
        config_hash: str,
        policy_hash: str,
        config_json: Mapping[str, Any],
        options_json: Mapping[str, Any],
    ) -> int:
        """Record a new run with status ``running`` and return its id."""
        values = {
            "tool_version": tool_version,
            "started_at": started_at,
            "status": "running",
            "config_hash": config_hash,
            "policy_hash": policy_hash,
            "config_json": dumps(config_json),
            "options_json": dumps(options_json),
        }
        try:
            with self._engine.begin() as connection:
                run_id = connection.execute(insert(Run).values(values).returning(Run.id)).scalar()
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot record the run in {self.where}: {describe_error(exc)}"
            ) from exc
        if run_id is None:  # pragma: no cover - RETURNING always yields the new id
            raise StoreError(f"cannot record the run in {self.where}: no id returned")
        return int(run_id)

    def writer(self, run_id: int, *, batch_size: int = 500) -> StoreWriter:
        """Return a batched writer for ``run_id`` (see :class:`StoreWriter`)."""
        return StoreWriter(self._engine, run_id, batch_size=batch_size)

    def finish_run(
        self,
        run_id: int,
        *,
        finished_at: str,
        status: str,
        counters: RunCounters,
        aggregates: Mapping[str, Any] | None = None,
    ) -> None:
        """Record the end of a run: its time, final status, counters and dataset aggregates."""
        if status not in FINAL_STATUSES:
            raise ValueError(f"run status {status!r}: expected one of {', '.join(FINAL_STATUSES)}")
        values = {
            "finished_at": finished_at,
            "status": status,
            "pages": counters.pages,
            "images": counters.images,
            "images_fetched": counters.images_fetched,
            "skips": counters.skips,
            "errors": counters.errors,
            "findings_json": dumps(counters.findings),
            "by_severity_json": dumps(counters.by_severity),
            "passes_json": dumps(counters.passes),
            "aggregates_json": None if aggregates is None else dumps(aggregates),
        }
        try:
            with self._engine.begin() as connection:
                updated = connection.execute(update(Run).where(Run.id == run_id).values(values))
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot record the end of run {run_id} in {self.where}: {describe_error(exc)}"
            ) from exc
        if updated.rowcount == 0:
            raise StoreError(f"no run {run_id} in {self.where}: call begin_run first")

    def unfinished_runs(self) -> list[RunRow]:
        """Return the runs that did not finish (``running`` or ``interrupted``), newest first.

        ``running`` is what a run killed outright (SIGKILL, power loss) leaves behind.
        """
        with self._reading() as connection:
            ids = connection.execute(
                select(Run.id)
                .where(Run.status.in_(("running", "interrupted")))
                .order_by(Run.id.desc())
            ).scalars()
            return [get_run(connection, int(run_id)) for run_id in ids]

    def checkpoint(self, run_id: int) -> Checkpoint | None:
        """Return where resumable run ``run_id`` stands; ``None`` before its first batch."""
        with self._reading() as connection:
            row = connection.execute(
                select(*RunCheckpoint.__table__.columns).where(RunCheckpoint.run_id == run_id)
            ).first()
        if row is None:
            return None
        return Checkpoint(
            run_id, row.last_key, row.rows, json.loads(row.state_json), row.updated_at
        )

    def reopen_run(self, run_id: int) -> None:
        """Mark an unfinished run ``running`` again, to resume it."""
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    update(Run).where(Run.id == run_id).values(status="running", finished_at=None)
                )
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot reopen run {run_id} in {self.where}: {describe_error(exc)}"
            ) from exc

    def image_urls(self, run_id: int) -> frozenset[str]:
        """Return the URL of every image ``run_id`` recorded (what a resumed crawl skips)."""
        with self._reading() as connection:
            urls = connection.execute(select(Image.url).where(Image.run_id == run_id)).scalars()
            return frozenset(str(url) for url in urls)

    def forget_page_skips(self, run_id: int) -> None:
        """Delete every skip of ``run_id`` but the images' (a resumed crawl records them again)."""
        try:
            with self._engine.begin() as connection:
                connection.execute(delete(Skip).where(Skip.run_id == run_id, Skip.kind != "image"))
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot update run {run_id} in {self.where}: {describe_error(exc)}"
            ) from exc

    def site_image_counts(self, run_id: int) -> Iterator[tuple[str, int]]:
        """Yield every site of ``run_id`` with how many images it has, in origin order."""
        query = (
            select(Site.origin, func.count(Image.id))
            .outerjoin(Image, Image.site_id == Site.id)
            .where(Site.run_id == run_id)
            .group_by(Site.origin)
            .order_by(Site.origin)
        )
        with self._reading() as connection:
            yield from self._stream((str(o), int(n)) for o, n in connection.execute(query))

    def latest_run_id(self) -> int | None:
        """Return the newest run's id, or ``None`` when there is no run."""
        with self._reading() as connection:
            return latest_run_id(connection)

    def run(self, run_id: int) -> RunRow:
        """Return the ``runs`` row of ``run_id``; :class:`StoreError` if there is none."""
        with self._reading() as connection:
            return get_run(connection, run_id)

    def run_summary(self, run_id: int) -> RunSummary:
        """Return counts of what ``run_id`` stored (pages, images, skips, findings)."""
        with self._reading() as connection:
            return run_summary(connection, run_id)

    def rule_stats(self, run_id: int) -> list[RuleStat]:
        """Return per-rule outcome counts of ``run_id``, ordered by pack and rule id."""
        with self._reading() as connection:
            return rule_stats(connection, run_id)

    def suppressions(self, run_id: int) -> tuple[SuppressionStatus, ...]:
        """Return the suppressions register ``auditor check`` recorded for ``run_id``."""
        with self._reading() as connection:
            return suppressions(connection, run_id)

    def record_gate(
        self,
        run_id: int,
        states: Mapping[str, tuple[str, SuppressionInfo | None]],
        register: Sequence[SuppressionStatus],
    ) -> None:
        """Store what a check decided: each finding's state (by fingerprint) and the register.

        Findings not named keep their state; the register replaces the run's earlier one, so
        checking a stored run again records the latest decision.
        """
        try:
            with self._engine.begin() as connection:
                for fingerprint, (state, suppression) in states.items():
                    connection.execute(
                        update(FindingRow)
                        .where(FindingRow.run_id == run_id, FindingRow.fingerprint == fingerprint)
                        .values(
                            state=state,
                            suppression_json=None
                            if suppression is None
                            else dumps(asdict(suppression)),
                        )
                    )
                connection.execute(delete(SuppressionRow).where(SuppressionRow.run_id == run_id))
                if register:
                    connection.execute(
                        insert(SuppressionRow),
                        [
                            {
                                "run_id": run_id,
                                "fingerprint": item.entry.fingerprint,
                                "rule_id": item.entry.rule,
                                "scope": item.entry.scope,
                                "reason": item.entry.reason,
                                "author": item.entry.author,
                                "created": item.entry.created,
                                "expires": item.entry.expires,
                                "approved_by": item.entry.approved_by,
                                "false_positive": item.entry.false_positive,
                                "status": item.status,
                                "matched": item.matched,
                            }
                            for item in register
                        ],
                    )
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot record the check of run {run_id} in {self.where}: {describe_error(exc)}"
            ) from exc

    # -- streams -----------------------------------------------------------------------------

    def iter_images(self, run_id: int) -> Iterator[ImageExport]:
        """Yield the run's images ordered by URL (streamed)."""
        return self._stream(iter_images(self._engine, run_id))

    def iter_pages(self, run_id: int) -> Iterator[PageExport]:
        """Yield the run's pages ordered by URL, with their page-level signals (streamed)."""
        return self._stream(iter_pages(self._engine, run_id))

    def iter_sites(self, run_id: int) -> Iterator[SiteExport]:
        """Yield the run's sites ordered by origin, with their origin-file records (streamed)."""
        return self._stream(iter_sites(self._engine, run_id))

    def iter_findings(self, run_id: int) -> Iterator[FindingExport]:
        """Yield the run's findings: severity (critical first), rule id, subject URL."""
        return self._stream(iter_findings(self._engine, run_id))

    def iter_signals(self, run_id: int) -> Iterator[SignalExport]:
        """Yield the run's image and page-level signals: subject URL, mechanism, source URL."""
        return self._stream(iter_signals(self._engine, run_id))

    def iter_skips(self, run_id: int) -> Iterator[SkipRecord]:
        """Yield the run's skips ordered by URL, kind and reason."""
        return self._stream(iter_skips(self._engine, run_id))

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Release every connection."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        """Return the store itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()

    # -- internals ---------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read {self.where}: {describe_error(exc)}") from exc

    def _stream(self, rows: Iterator[_T]) -> Iterator[_T]:
        try:
            yield from rows
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read {self.where}: {describe_error(exc)}") from exc


def open_store(target: str | Path, *, create: bool = True) -> Store:
    """Open (and with ``create``, create) the audit database at ``target`` and migrate it.

    ``target`` is a path to an SQLite file or, when it contains ``://``, a SQLAlchemy URL such
    as ``postgresql+psycopg://user@host/audit``. With ``create=False`` a missing database is a
    :class:`StoreError` ("no database at X: run `auditor crawl` first or pass --db"). An existing
    database is always brought to the newest schema revision.
    """
    engine, where = open_engine(target, create=create)
    return Store(engine, where=where)
