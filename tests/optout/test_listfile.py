"""The list file: entries round-trip, numbers are never reused, foreign or newer files refused."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from auditor.optout.listfile import SCHEMA_VERSION, OptOutListError, OptOutListFile
from tests.optout import ADDED_AT


def test_entries_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "optout.db"
    with OptOutListFile.open(path, create=True) as listed:
        added = listed.add(
            "phash", "b5a5bdc61a4b4a62", received=date(2026, 3, 1), added_at=ADDED_AT,
            reason="by email", source="jane.jpg",
        )  # fmt: skip
        listed.add("domain", "example.org", received=date(2026, 3, 2), added_at=ADDED_AT)
    with OptOutListFile.open(path, read_only=True) as listed:
        entries = listed.entries()
        assert entries[0] == added
        assert (added.id, added.received, added.added_at) == (
            1, "2026-03-01", "2026-11-01T09:00:00+00:00",
        )  # fmt: skip
        assert [e.kind for e in entries] == ["phash", "domain"]
        assert listed.find("domain", "example.org") == entries[1]
        assert listed.get(2) == entries[1]
        assert listed.find("domain", "example.com") is None


def test_a_target_already_listed_is_refused_with_its_entry(tmp_path: Path) -> None:
    path = tmp_path / "optout.db"
    with OptOutListFile.open(path, create=True) as listed:
        listed.add("url", "https://a.example/x.jpg", received=date(2026, 3, 1), added_at=ADDED_AT)
        with pytest.raises(OptOutListError, match=r"already on the list as entry 1, received"):
            listed.add(
                "url", "https://a.example/x.jpg", received=date(2026, 4, 1), added_at=ADDED_AT
            )


def test_removed_numbers_are_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "optout.db"
    with OptOutListFile.open(path, create=True) as listed:
        first = listed.add("domain", "a.example", received=date(2026, 3, 1), added_at=ADDED_AT)
        second = listed.add("domain", "b.example", received=date(2026, 3, 1), added_at=ADDED_AT)
        assert listed.remove(second.id)
        assert not listed.remove(second.id)
        third = listed.add("domain", "c.example", received=date(2026, 3, 1), added_at=ADDED_AT)
        assert (first.id, second.id, third.id) == (1, 2, 3)
        assert [e.value for e in listed.entries()] == ["a.example", "c.example"]


def test_a_missing_list_is_not_created_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "none.db"
    with pytest.raises(OptOutListError, match=r"no opt-out list at .*auditor optout add"):
        OptOutListFile.open(path)
    assert not path.exists()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "optout.db"
    OptOutListFile.open(path, create=True).close()
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE optout_meta SET value = ? WHERE key = 'schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )
    connection.close()
    with pytest.raises(OptOutListError, match=r"written by a newer auditor .*upgrade"):
        OptOutListFile.open(path, read_only=True)


def test_other_databases_and_files_are_refused(tmp_path: Path) -> None:
    audit_db = tmp_path / "audit.db"
    with sqlite3.connect(audit_db) as connection:
        connection.execute("CREATE TABLE runs (id INTEGER)")
    connection.close()
    with pytest.raises(OptOutListError, match="is not an opt-out list"):
        OptOutListFile.open(audit_db, create=True)
    text = tmp_path / "notes.txt"
    text.write_text("people who objected\n", encoding="utf-8")
    with pytest.raises(OptOutListError, match="is not an SQLite opt-out list"):
        OptOutListFile.open(text)
    with pytest.raises(OptOutListError, match="is a directory"):
        OptOutListFile.open(tmp_path)


def test_read_only_lists_cannot_be_changed(tmp_path: Path) -> None:
    path = tmp_path / "optout.db"
    OptOutListFile.open(path, create=True).close()
    with (
        OptOutListFile.open(path, read_only=True) as listed,
        pytest.raises(OptOutListError, match="cannot write to opt-out list"),
    ):
        listed.add("domain", "a.example", received=date(2026, 3, 1), added_at=ADDED_AT)
