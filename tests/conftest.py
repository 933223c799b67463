"""Shared pytest fixtures. Keep this file small: put area-specific fixtures next to their tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from auditor.testing import SiteServer

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point ``XDG_CACHE_HOME`` (the gazetteer's cache) at a fresh directory for the session.

    Set in the environment, so CLI subprocesses inherit it: the suite never writes to, or
    depends on, the user's own cache.
    """
    cache = tmp_path_factory.mktemp("xdg-cache")
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


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
