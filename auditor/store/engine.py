"""Opening the database: engine creation, SQLite pragmas and the migrations runner.

A target is either a filesystem path (an SQLite file) or a SQLAlchemy URL (anything containing
``://``, e.g. ``postgresql+psycopg://user@host/audit``). SQLite connections get:

- ``journal_mode=WAL`` (readers never block the writer), ``synchronous=NORMAL`` (durable at
  checkpoints, safe against application crashes), ``foreign_keys=ON`` and ``busy_timeout``;
- SQLAlchemy-controlled transactions (the sqlite3 driver's legacy mode is switched off and
  SQLAlchemy emits ``BEGIN`` itself), so DDL in migrations is transactional and a failed
  migration leaves nothing half-applied. Connections carrying the ``auditor_write`` execution
  option begin with ``BEGIN IMMEDIATE``: they take the write lock up front and wait up to the
  busy timeout for it, instead of failing when another process wrote in between.

Migrations are alembic scripts in ``migrations/`` run programmatically (no ``alembic.ini``); every
open brings the database to the newest revision inside one transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from auditor.errors import StoreError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

#: How long a connection waits for another process's write lock before failing, in ms.
BUSY_TIMEOUT_MS = 30_000

#: Execution option that makes a SQLite transaction take the write lock at ``BEGIN``.
WRITE_OPTION = "auditor_write"

SUPPORTED_BACKENDS = frozenset({"sqlite", "postgresql"})

_NO_DB_HINT = "run `auditor crawl` first or pass --db"


def describe_error(exc: BaseException) -> str:
    """Return the first line of the most useful message of ``exc`` (the DBAPI's, if any)."""
    inner: BaseException = exc
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        inner = exc.orig
    text = str(inner).strip() or type(inner).__name__
    return text.splitlines()[0]


def create_store_engine(target: str | Path, *, create: bool) -> tuple[Engine, str]:
    """Return an engine for ``target`` and a printable name for it (password hidden).

    Raises :class:`StoreError` when the target cannot be a database (a missing file with
    ``create=False``, a directory, a missing parent directory, an unknown URL or driver).
    """
    text = str(target)
    if "://" in text:
        return _url_engine(text)
    return _sqlite_engine(Path(text).expanduser(), create=create), str(target)


def _url_engine(text: str) -> tuple[Engine, str]:
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise StoreError(
            f"invalid database URL {text!r}: use e.g. postgresql+psycopg://user@host/db"
        ) from exc
    shown = url.render_as_string(hide_password=True)
    backend = url.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise StoreError(f"unsupported database {shown}: use an SQLite file or PostgreSQL")
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(
            f"cannot open {shown}: database driver not installed ({describe_error(exc)}); "
            "install it, e.g. `pip install psycopg`"
        ) from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open {shown}: {describe_error(exc)}") from exc
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine, shown


def _sqlite_engine(path: Path, *, create: bool) -> Engine:
    if path.is_dir():
        raise StoreError(f"{path} is a directory: pass the path of a database file with --db")
    if not path.exists():
        if not create:
            raise StoreError(f"no database at {path}: {_NO_DB_HINT}")
        if not path.parent.is_dir():
            raise StoreError(
                f"cannot create database {path}: directory {path.parent} does not exist"
            )
    engine = create_engine(URL.create("sqlite", database=str(path)))
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 driver (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an alembic configuration for the packaged migrations (no ``alembic.ini``).

    With ``connection``, ``env.py`` runs the migrations on it, inside its transaction.
    """
    config = Config()
    # ConfigParser interpolation: a literal % in the path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the newest migration revision shipped with this version of the auditor."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise StoreError("the auditor ships no database migrations: reinstall it")
    return head


def migrate(engine: Engine, *, where: str, create: bool, revision: str = "head") -> None:
    """Bring the database to the newest revision (or to ``revision``), in one transaction.

    A database that has tables but no alembic revision is someone else's: it is refused rather
    than altered. So is one written by a newer auditor (an unknown revision). With
    ``create=False`` an empty database is refused too: there is nothing to read.

    ``revision`` is for tests and tools that need a database as an older auditor left it (for
    example ``"0001"``, to check that upgrading keeps data). It only ever upgrades: a database
    already at or past ``revision`` is left as it is.
    """
    script = ScriptDirectory.from_config(alembic_config())
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            current = MigrationContext.configure(connection).get_current_revision()
            if current is None:
                tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
                if tables:
                    raise StoreError(
                        f"{where} is not an auditor database (it has tables but no "
                        f"alembic_version): pass another --db"
                    )
                if not create:
                    raise StoreError(f"no auditor database at {where}: {_NO_DB_HINT}")
            else:
                try:
                    script.get_revision(current)
                except CommandError as exc:
                    raise StoreError(
                        f"{where} was written by a newer auditor (schema revision {current}): "
                        "upgrade the auditor to read it"
                    ) from exc
            command.upgrade(alembic_config(connection), revision)


def open_engine(target: str | Path, *, create: bool) -> tuple[Engine, str]:
    """Create the engine for ``target``, check it works and migrate it to the newest revision.

    Every SQLAlchemy, alembic or OS error becomes a :class:`StoreError` with one actionable line.
    """
    try:
        engine, where = create_store_engine(target, create=create)
    except OSError as exc:
        raise StoreError(f"cannot open database {target}: {describe_error(exc)}") from exc
    try:
        migrate(engine, where=where, create=create)
    except StoreError:
        engine.dispose()
        raise
    except (SQLAlchemyError, CommandError, OSError) as exc:
        engine.dispose()
        raise StoreError(f"cannot open database {where}: {describe_error(exc)}") from exc
    return engine, where
