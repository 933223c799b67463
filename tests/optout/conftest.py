"""Fixtures for the opt-out tests: real list files written through the real list API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from auditor.optout.listfile import EntryKind, OptOutListFile
from tests.optout import ADDED_AT

Entry = tuple[EntryKind, str, str]  # kind, value, received
MakeList = Callable[[list[Entry]], Path]


@pytest.fixture
def make_list(tmp_path: Path) -> MakeList:
    """Write the given entries to a fresh list file and return its path."""

    def make(entries: list[Entry]) -> Path:
        path = tmp_path / f"optout-{len(list(tmp_path.iterdir()))}.db"
        with OptOutListFile.open(path, create=True) as listed:
            for kind, value, received in entries:
                listed.add(kind, value, received=date.fromisoformat(received), added_at=ADDED_AT)
        return path

    return make
