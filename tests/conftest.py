"""Shared pytest fixtures. Keep this file small: put area-specific fixtures next to their tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from auditor.testing import SiteServer

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The repository's ``fixtures/`` directory."""
    return FIXTURES_DIR


@pytest.fixture
def site_server(fixtures_dir: Path) -> Iterator[Callable[[str | Path], SiteServer]]:
    """Factory: ``site_server("demo")`` starts a SiteServer for ``fixtures/sites/demo``.

    A :class:`~pathlib.Path` is served as given (e.g. a scenario built under ``tmp_path``). Every
    server started through the factory is stopped at teardown.
    """
    started: list[SiteServer] = []

    def start(site: str | Path) -> SiteServer:
        root = site if isinstance(site, Path) else fixtures_dir / "sites" / site
        server = SiteServer(root).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
