"""The crawl loads the GPS gazetteer off its event loop, and looks positions up on it afterwards.

The first look-up of an EXIF position reads the gazetteer (1-2 s of CPU). Done on the crawling
process's event loop, it would hold up every request and reply for that long; the recorder
hands it to a thread first, and the jurisdiction estimate that follows finds it loaded. Once it
is loaded a look-up takes well under a millisecond, less than a thread hand-over, so it runs on
the loop. Real audits of the demo site (whose harbour photo carries a London position) show
where each ran.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor import geo, recorder
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


@pytest.fixture
def gps_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the threads the recorder's GPS look-ups ran in."""
    threads: list[str] = []
    lookup = recorder.gps_region

    def recorded(lat: float, lon: float) -> tuple[str | None, str | None]:
        threads.append(threading.current_thread().name)
        return lookup(lat, lon)

    monkeypatch.setattr(recorder, "gps_region", recorded)
    return threads


def _audit_demo(tmp_path: Path, name: str) -> ImageRecord:
    """Audit the demo site on loopback; return its harbour photo's record."""
    observer = _Images()
    with SiteServer(DEMO).start() as server:
        config = tmp_path / f"{name}.yaml"
        text = (DEMO / "audit.yaml").read_text(encoding="utf-8")
        config.write_text(text.replace("http://127.0.0.1:8000/", server.url("/")), "utf-8")
        audit_config = load_config(config)
        options = AuditOptions(db=str(tmp_path / f"{name}.db"), workers=1)
        # run_audit runs its event loop in the calling thread.
        run_audit(audit_config, load_packs(audit_config.policies), options, observer)
        return observer.images[server.url("/img/harbour.jpg")]


def test_first_gps_lookup_loads_the_gazetteer_off_the_event_loop(
    tmp_path: Path, gazetteer_loads: list[str], gps_lookups: list[str]
) -> None:
    first = _audit_demo(tmp_path, "first")
    assert first.gps_country == "GB"
    assert "UK" in first.jurisdictions
    assert len(gazetteer_loads) == 1
    assert gazetteer_loads[0] != threading.current_thread().name
    assert gps_lookups[0] == gazetteer_loads[0]  # looked up while others may wait for the load
    first_run = len(gps_lookups)

    second = _audit_demo(tmp_path, "second")  # same process: the gazetteer is loaded
    assert second.gps_country == "GB"
    assert len(gazetteer_loads) == 1
    assert gps_lookups[first_run:] == [threading.current_thread().name] * first_run
