"""The findings' full-text index (SQLite FTS5), filled by the writer a batch at a time (0007)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import Connection

from auditor.store import Store, open_store
from auditor.store.engine import alembic_config, create_store_engine, migrate

from . import SITE, begin, finding


def _check(connection: Connection) -> None:
    """FTS5's own check that the index holds exactly the content table's rows (raises if not).

    With ``rank`` 1 it also compares the index with the content table, so a finding indexed
    twice or not at all fails it (queries alone would not show a duplicate).
    """
    connection.exec_driver_sql(
        "INSERT INTO findings_fts (findings_fts, rank) VALUES ('integrity-check', 1)"
    )


def _search(store: Store, term: str) -> list[str]:
    with store.engine.connect() as connection:
        _check(connection)
        rows = connection.exec_driver_sql(
            "SELECT findings.image_url FROM findings_fts "
            "JOIN findings ON findings.id = findings_fts.rowid "
            "WHERE findings_fts MATCH ? ORDER BY findings.id",
            (term,),
        ).all()
    return [str(row[0]) for row in rows]


def _write(store: Store, run_id: int, count: int, *, word: str, batch_size: int = 3) -> None:
    with store.writer(run_id, batch_size=batch_size) as writer:
        for number in range(count):
            writer.add_findings(
                [finding("R-X", image_url=f"{SITE}/{word}{number}.jpg", message=f"{word} found")]
            )


def _triggers(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        ).all()
    return [str(row[0]) for row in rows]


def test_findings_of_every_batch_are_indexed_once(tmp_path: Path) -> None:
    with open_store(tmp_path / "audit.db") as store:
        run_id = begin(store)
        _write(store, run_id, 10, word="alpha")
        _write(store, run_id, 10, word="alpha")  # the same fingerprints again: ignored
        _write(store, run_id, 4, word="beta", batch_size=500)
        assert len(_search(store, "alpha")) == 10
        assert _search(store, "beta") == [f"{SITE}/beta{n}.jpg" for n in range(4)]
        assert _triggers(store) == ["findings_fts_ad", "findings_fts_au"]


def test_updates_and_deletes_keep_the_index_exact(tmp_path: Path) -> None:
    with open_store(tmp_path / "audit.db") as store:
        run_id = begin(store)
        _write(store, run_id, 3, word="alpha")
        with store.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE findings SET state = 'suppressed'")
            connection.exec_driver_sql(
                "UPDATE findings SET message = 'gamma found' WHERE image_url LIKE '%alpha0.jpg'"
            )
        assert _search(store, "gamma") == [f"{SITE}/alpha0.jpg"]
        assert len(_search(store, "alpha")) == 2
        with store.engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM runs")  # cascades to the findings
        assert _search(store, "found") == []


def test_upgrading_from_0006_keeps_the_index_and_stops_the_insert_trigger(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    engine, where = create_store_engine(path, create=True)
    try:
        migrate(engine, where=where, create=True, revision="0006")
    finally:
        engine.dispose()
    with open_store(path) as store:
        run_id = begin(store)
        _write(store, run_id, 5, word="alpha")
        assert len(_search(store, "alpha")) == 5
        assert "findings_fts_ai" not in _triggers(store)
        _write(store, run_id, 5, word="beta")
        assert len(_search(store, "found")) == 10


def test_a_database_downgraded_to_0006_is_indexed_by_its_trigger_alone(tmp_path: Path) -> None:
    with open_store(tmp_path / "audit.db") as store:
        run_id = begin(store)
        _write(store, run_id, 4, word="alpha")
        with store.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0006")
        assert _triggers(store) == ["findings_fts_ad", "findings_fts_ai", "findings_fts_au"]
        _write(store, run_id, 4, word="beta")  # the writer sees the trigger and stays out
        assert len(_search(store, "found")) == 8
