"""Alembic environment for the auditor's store.

The auditor runs migrations itself (:func:`auditor.store.engine.migrate`) and hands this script
an open connection in ``config.attributes["connection"]``; the migrations then run inside that
connection's transaction. For development (``alembic revision --autogenerate``) a URL can be
given instead with ``-x url=sqlite:///audit.db`` or ``sqlalchemy.url`` in a private ini file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from auditor.store.schema import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("pass a database with -x url=sqlite:///path/to/audit.db")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit the migrations as SQL for a URL, without connecting."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the given connection, or on a new one for the URL."""
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    engine = create_engine(_url())
    try:
        with engine.begin() as new_connection:
            _run(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
