"""The crawl loads the GPS gazetteer off its event loop.

The first look-up of an EXIF position reads the gazetteer (1-2 s of CPU). Done on the crawling
process's event loop, it would hold up every request and reply for that long; the recorder
hands it to a thread first, and the jurisdiction estimate that follows finds it loaded. The
real audit of the demo site (whose harbour photo carries a London position) shows where it ran.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor import geo
from auditor.audit import AuditOptions, run_audit
from auditor.config import load_config
from auditor.model import Finding, ImageRecord, PageRecord, SkipRecord
from auditor.policy import load_packs
from auditor.testing import SiteServer

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "sites" / "demo"


class _Images:
    """Observer keeping the recorded images."""

    def __init__(self) -> None:
        self.images: dict[str, ImageRecord] = {}

    def run_started(self, run_id: int, db: str) -> None:
        """Not needed here."""

    def page_done(self, page: PageRecord) -> None:
        """Not needed here."""

    def image_done(self, image: ImageRecord, findings: tuple[Finding, ...]) -> None:
        self.images[image.url] = image

    def skipped(self, skip: SkipRecord) -> None:
        """Not needed here."""


@pytest.fixture
def gazetteer_loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names of the threads that read the gazetteer, starting from an unloaded one."""
    threads: list[str] = []
    read = geo._read_gazetteer

    def recorded(path: Path) -> Any:
        threads.append(threading.current_thread().name)
        return read(path)

    monkeypatch.setattr(geo, "_read_gazetteer", recorded)
    geo._load_gazetteer.cache_clear()
    yield threads
    geo._load_gazetteer.cache_clear()


def test_first_gps_lookup_loads_the_gazetteer_off_the_event_loop(
    tmp_path: Path, gazetteer_loads: list[str]
) -> None:
    observer = _Images()
    with SiteServer(DEMO).start() as server:
        config = tmp_path / "audit.yaml"
        text = (DEMO / "audit.yaml").read_text(encoding="utf-8")
        config.write_text(text.replace("http://127.0.0.1:8000/", server.url("/")), "utf-8")
        audit_config = load_config(config)
        options = AuditOptions(db=str(tmp_path / "audit.db"), workers=1)
        # run_audit runs its event loop in the calling thread.
        run_audit(audit_config, load_packs(audit_config.policies), options, observer)
        harbour = observer.images[server.url("/img/harbour.jpg")]
    assert harbour.gps_country == "GB"
    assert "UK" in harbour.jurisdictions
    assert len(gazetteer_loads) == 1
    assert gazetteer_loads[0] != threading.current_thread().name
