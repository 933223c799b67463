"""The one audit of every crawled hostile case, shared by the family modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import HostileRun, audit, cases, serve_cases


@pytest.fixture(scope="session")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileRun]:
    """Serve every case, audit them all in one run, and keep the servers up for inspection."""
    tmp = tmp_path_factory.mktemp("hostile")
    with serve_cases(cases(), tmp) as servers:
        yield audit(servers, tmp)
