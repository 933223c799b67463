"""The opt-out list file: a small SQLite database of its own (SQLAlchemy Core).

It is kept apart from the audit database because it is the operator's record of people's
requests, not an audit result: it outlives runs, is edited between them (``auditor optout``), and
is shared with the crawler that must honour it. One table, ``optout_entries``, holds one row per
request target:

=========  ==================================================================================
id         entry number; never reused (``sqlite_autoincrement``), so a number quoted in
           evidence or correspondence keeps meaning the same request after removals
kind       ``url``, ``domain`` or ``phash``
value      the normalised URL, the lower-case ASCII domain without trailing dot, or the
           lower-case hex perceptual hash
reason     free text: who asked and why (optional)
received   ISO date the request was received: the erasure deadline runs from it
added_at   ISO date-time (UTC) the entry was written
source     for photos, the file NAME the hash was computed from; never the bytes or the path
=========  ==================================================================================

A photo is kept only as its perceptual hash: the bytes a person sent to be found by are personal
data the list has no need to hold. ``optout_meta`` records the schema version, so a file written
by a newer auditor is refused with a clear message instead of being misread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, get_args

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import NullPool

from auditor.errors import StoreError

__all__ = [
    "SCHEMA_VERSION",
    "EntryKind",
    "OptOutEntry",
    "OptOutListError",
    "OptOutListFile",
]

#: The schema this version writes and reads. A file with a higher number is refused.
SCHEMA_VERSION = 1
_FORMAT = "consent-auditor opt-out list"
_SQLITE_MAGIC = b"SQLite format 3\x00"

EntryKind = Literal["url", "domain", "phash"]
ENTRY_KINDS: tuple[str, ...] = get_args(EntryKind)

_metadata = MetaData()
entries_table = Table(
    "optout_entries",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("value", Text, nullable=False),
    Column("reason", Text),
    Column("received", String(10), nullable=False),
    Column("added_at", String(32), nullable=False),
    Column("source", Text),
    CheckConstraint(f"kind IN {ENTRY_KINDS!r}", name="optout_entries_kind"),
    UniqueConstraint("kind", "value", name="optout_entries_target"),
    sqlite_autoincrement=True,
)
meta_table = Table(
    "optout_meta",
    _metadata,
    Column("key", String(32), primary_key=True),
    Column("value", Text, nullable=False),
)


class OptOutListError(StoreError):
    """The opt-out list file cannot be opened, is not an opt-out list, or refuses a change."""


@dataclass(frozen=True)
class OptOutEntry:
    """One request on the list (the columns of ``optout_entries``)."""

    id: int
    kind: EntryKind
    value: str
    reason: str | None
    received: str
    added_at: str
    source: str | None = None


def _check_file(path: Path) -> None:
    """Refuse what SQLite would open as an empty database or misreport later."""
    if path.is_dir():
        raise OptOutListError(f"{path} is a directory: pass the opt-out list file")
    with path.open("rb") as stream:
        head = stream.read(len(_SQLITE_MAGIC))
    if head and head != _SQLITE_MAGIC:
        raise OptOutListError(f"{path} is not an SQLite opt-out list")


class OptOutListFile:
    """An open opt-out list; use :meth:`open` and close it (it is a context manager)."""

    def __init__(self, engine: Engine, path: Path) -> None:
        """Wrap an engine whose schema :meth:`open` has checked."""
        self._engine = engine
        self.path = path

    @classmethod
    def open(cls, path: Path, *, create: bool = False, read_only: bool = False) -> OptOutListFile:
        """Open ``path``, creating an empty list when ``create`` and it does not exist yet.

        ``read_only`` opens through SQLite's ``mode=ro``, so an audit can never change the list
        it checks against.
        """
        exists = path.exists()
        if exists:
            _check_file(path)
        elif not create:
            raise OptOutListError(
                f"no opt-out list at {path}: create it with `auditor optout add TARGET --list "
                f"{path}`, or fix optout_list in audit.yaml"
            )
        elif not path.parent.is_dir():
            raise OptOutListError(f"cannot create {path}: directory {path.parent} does not exist")
        target = path.resolve().as_uri() + ("?mode=ro" if read_only else "")

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(target, uri=True, timeout=30)

        engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                cls._prepare(connection, path, create=create)
        except OptOutListError:
            engine.dispose()
            raise
        except DBAPIError as exc:
            engine.dispose()
            raise OptOutListError(f"cannot open opt-out list {path}: {exc.orig}") from exc
        return cls(engine, path)

    @staticmethod
    def _prepare(connection: Connection, path: Path, *, create: bool) -> None:
        tables = set(inspect(connection).get_table_names())
        if not tables and create:
            _metadata.create_all(connection)
            connection.execute(
                insert(meta_table),
                [
                    {"key": "format", "value": _FORMAT},
                    {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                ],
            )
            return
        if meta_table.name not in tables or entries_table.name not in tables:
            raise OptOutListError(
                f"{path} is not an opt-out list (no {meta_table.name} table): pass the file "
                "`auditor optout add` created"
            )
        rows = {row.key: row.value for row in connection.execute(select(meta_table))}
        version = rows.get("schema_version", "")
        if not version.isdigit():
            raise OptOutListError(f"{path} has no valid opt-out list schema version")
        if int(version) > SCHEMA_VERSION:
            raise OptOutListError(
                f"{path} was written by a newer auditor (opt-out list schema {version}; this "
                f"version reads up to {SCHEMA_VERSION}): upgrade consent-auditor"
            )

    def close(self) -> None:
        """Release the file."""
        self._engine.dispose()

    def __enter__(self) -> OptOutListFile:
        """Return the open list."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the list."""
        self.close()

    @contextmanager
    def _connection(self, *, write: bool = False) -> Iterator[Connection]:
        try:
            with self._engine.begin() as connection:
                yield connection
        except DBAPIError as exc:
            if isinstance(exc, IntegrityError):
                raise
            action = "write to" if write else "read"
            raise OptOutListError(f"cannot {action} opt-out list {self.path}: {exc.orig}") from exc

    def entries(self) -> list[OptOutEntry]:
        """Every entry, oldest first."""
        with self._connection() as connection:
            rows = connection.execute(select(entries_table).order_by(entries_table.c.id))
            return [OptOutEntry(**row._asdict()) for row in rows]

    def get(self, entry_id: int) -> OptOutEntry | None:
        """Return the entry numbered ``entry_id``, if it is on the list."""
        with self._connection() as connection:
            row = connection.execute(
                select(entries_table).where(entries_table.c.id == entry_id)
            ).first()
        return OptOutEntry(**row._asdict()) if row is not None else None

    def find(self, kind: EntryKind, value: str) -> OptOutEntry | None:
        """Return the entry for a normalised target, if it is on the list."""
        with self._connection() as connection:
            row = connection.execute(
                select(entries_table).where(
                    entries_table.c.kind == kind, entries_table.c.value == value
                )
            ).first()
        return OptOutEntry(**row._asdict()) if row is not None else None

    def add(
        self,
        kind: EntryKind,
        value: str,
        *,
        received: date,
        added_at: datetime,
        reason: str | None = None,
        source: str | None = None,
    ) -> OptOutEntry:
        """Write a new entry; a target already on the list is refused (its date would change)."""
        entry = OptOutEntry(
            id=0,  # assigned by SQLite below
            kind=kind,
            value=value,
            reason=reason,
            received=received.isoformat(),
            added_at=added_at.isoformat(timespec="seconds"),
            source=source,
        )
        row = asdict(entry)
        del row["id"]
        try:
            with self._connection(write=True) as connection:
                statement = insert(entries_table).returning(entries_table.c.id)
                entry_id = connection.execute(statement, row).scalar_one()
        except IntegrityError:
            existing = self.find(kind, value)
            number = f" as entry {existing.id}, received {existing.received}" if existing else ""
            raise OptOutListError(
                f"{kind} {value} is already on the list{number}: remove it first to record "
                "another request date"
            ) from None
        return replace(entry, id=int(entry_id))

    def remove(self, entry_id: int) -> bool:
        """Delete an entry; return whether it was on the list."""
        with self._connection(write=True) as connection:
            result = connection.execute(delete(entries_table).where(entries_table.c.id == entry_id))
        return bool(result.rowcount)
