"""Opening the database: pragmas, migrations, views, full-text index, and every error path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from auditor.errors import StoreError
from auditor.model import Verdict
from auditor.store import head_revision, open_store
from auditor.store.engine import alembic_config
from auditor.store.schema import Base

from . import SITE, begin, image, new_store, populate

TABLES = {
    "runs",
    "sites",
    "pages",
    "images",
    "image_contexts",
    "signals",
    "findings",
    "rule_stats",
    "skips",
}


def _sqlite(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def test_a_new_file_is_created_in_wal_mode_with_every_table(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    new_store(tmp_path).close()
    with _sqlite(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        names = {
            row[0]: row[1]
            for row in connection.execute(
                "SELECT name, type FROM sqlite_master WHERE sql IS NOT NULL"
            )
        }
        version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert {name for name, kind in names.items() if kind == "table"} >= TABLES
    assert names["findings_by_severity"] == "view"
    assert names["images_without_permission"] == "view"
    assert names["signals_by_mechanism"] == "view"
    assert names["findings_fts"] == "table"  # the FTS virtual table
    assert version == (head_revision(),)


def test_store_connections_enforce_foreign_keys_and_set_pragmas(tmp_path: Path) -> None:
    with new_store(tmp_path) as store, store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_an_image_with_a_bad_run_id_is_refused(tmp_path: Path) -> None:
    with new_store(tmp_path) as store:
        run_id = begin(store)
        with store.engine.begin() as connection:
            site_id = connection.execute(
                text("INSERT INTO sites (run_id, origin) VALUES (:run, :origin) RETURNING id"),
                {"run": run_id, "origin": SITE},
            ).scalar()
        with pytest.raises(IntegrityError, match="FOREIGN KEY"), store.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO images (run_id, site_id, url, fetched) "
                    "VALUES (:run, :site, :url, 0)"
                ),
                {"run": run_id + 99, "site": site_id, "url": f"{SITE}/a.jpg"},
            )
        # Through the writer the same mistake is a StoreError, and nothing is half-written.
        writer = store.writer(run_id + 99)
        writer.add_image(image(f"{SITE}/a.jpg"))
        with pytest.raises(StoreError, match=r"cannot write run 100 .*FOREIGN KEY"):
            writer.flush()
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM images").scalar() == 0


def test_check_constraints_guard_enumerations(tmp_path: Path) -> None:
    with new_store(tmp_path) as store:
        run_id = begin(store)
        with pytest.raises(IntegrityError, match="CHECK"), store.engine.begin() as connection:
            connection.execute(
                text("UPDATE runs SET status = 'sealed-ish' WHERE id = :run"), {"run": run_id}
            )


def test_migrations_match_the_models(tmp_path: Path) -> None:
    with new_store(tmp_path) as store, store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: (
                    not (kind == "table" and str(name).startswith("findings_fts"))
                ),
            },
        )
        assert compare_metadata(context, Base.metadata) == []


def test_migrations_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    with new_store(tmp_path) as store:
        with store.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        with store.engine.connect() as connection:
            left = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                "AND name <> 'alembic_version'"
            ).all()
        assert left == []
    with open_store(tmp_path / "audit.db") as store:
        assert populate(store) == 1


def test_views_answer_the_common_questions(tmp_path: Path) -> None:
    with new_store(tmp_path) as store:
        run_id = populate(store)
        with store.engine.connect() as connection:
            severity = connection.exec_driver_sql(
                "SELECT severity, severity_rank, fails, reviews, insufficient_data, findings "
                "FROM findings_by_severity WHERE run_id = ? ORDER BY severity_rank DESC",
                (run_id,),
            ).all()
            without = connection.exec_driver_sql(
                "SELECT image_url, site, ai_train_usage FROM images_without_permission "
                "WHERE run_id = ? ORDER BY image_url",
                (run_id,),
            ).all()
    assert [tuple(row) for row in severity] == [
        ("critical", 4, 1, 0, 0, 1),
        ("high", 3, 2, 1, 0, 3),
        ("low", 1, 0, 0, 1, 1),
    ]
    assert [tuple(row) for row in without] == [
        ("https://cdn.example.net/b.jpg", "https://cdn.example.net", Verdict.DISALLOWED.value),
        (f"{SITE}/m.jpg", SITE, Verdict.UNKNOWN.value),
        (f"{SITE}/z.jpg", SITE, Verdict.DISALLOWED.value),
    ]


def test_findings_are_full_text_searchable(tmp_path: Path) -> None:
    with new_store(tmp_path) as store:
        populate(store)
        with store.engine.connect() as connection:
            hits = connection.exec_driver_sql(
                "SELECT findings.rule_id FROM findings_fts "
                "JOIN findings ON findings.id = findings_fts.rowid "
                "WHERE findings_fts MATCH 'crit' || '*' ORDER BY findings.id"
            ).all()
    assert [row[0] for row in hits] == ["R-CRIT"]


def test_reopening_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    with new_store(tmp_path) as store:
        run_id = populate(store)
    with open_store(tmp_path / "audit.db", create=False) as store:
        assert store.latest_run_id() == run_id
        assert len(list(store.iter_images(run_id))) == 3


def test_a_sqlalchemy_url_works_too(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'url.db'}") as store:
        assert populate(store) == 1
        assert store.where.startswith("sqlite:///")


def test_missing_database_without_create(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    with pytest.raises(StoreError) as error:
        open_store(path, create=False)
    assert str(error.value) == f"no database at {path}: run `auditor crawl` first or pass --db"
    assert not path.exists()


def test_empty_file_without_create_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(StoreError, match=r"no auditor database at .*run `auditor crawl` first"):
        open_store(path, create=False)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(b"this is not sqlite at all" * 100), "file is not a database"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE mine (x)").connection.commit(),
            "is not an auditor database",
        ),
    ],
    ids=["directory", "garbage", "foreign-sqlite"],
)
def test_things_that_are_not_our_database(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "thing.db"
    assert callable(make)
    make(path)
    with pytest.raises(StoreError, match=message) as error:
        open_store(path)
    assert "\n" not in str(error.value)


def test_missing_parent_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"directory .*missing does not exist"):
        open_store(tmp_path / "missing" / "audit.db")


def test_a_database_from_a_newer_auditor_is_refused(tmp_path: Path) -> None:
    new_store(tmp_path).close()
    with _sqlite(tmp_path / "audit.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match=r"newer auditor \(schema revision 9999\)"):
        open_store(tmp_path / "audit.db")


@pytest.mark.parametrize(
    "url",
    ["mysql://user@localhost/db", "postgresql+nosuchdriver://user:s3cret@localhost/db"],
)
def test_unsupported_or_uninstalled_backends(url: str) -> None:
    with pytest.raises(StoreError) as error:
        open_store(url)
    assert "s3cret" not in str(error.value)


def test_unreachable_postgres_is_one_line_without_password() -> None:
    with pytest.raises(StoreError, match="cannot open") as error:
        open_store("postgresql+psycopg://auditor:s3cret@127.0.0.1:1/audit")
    assert "s3cret" not in str(error.value)
    assert "\n" not in str(error.value)
