"""Run the real auditor against hostile case sites and judge what it recorded.

A *case* is a folder ``fixtures/hostile/<family>/<case>/`` (``index.html`` plus an optional
``_site.yaml`` with hostile routes, see ``fixtures/sites/README.md``), completed at test time
by its payload builder (:mod:`tests.hostile.payloads`) and by two good resources every case
page must reference: ``/good.jpg`` (an ordinary photo) and ``/ok.html`` (an ordinary page).
Each case is served by its own :class:`~auditor.testing.SiteServer` on loopback; an optional
``_case.yaml`` (never served) names the address to bind (``host``) and target overrides.

Every crawled case is audited in **one** run (``tests/hostile/conftest.py``): starting the
auditor's worker processes costs seconds, and hostile cases side by side are the realistic
test anyway, since one case must not disturb another. :func:`audit` runs
:func:`auditor.audit.run_audit` with every case site as a target (small timeouts, so hostile
transports cost seconds, not minutes), writes a real SQLite file, and returns a
:class:`HostileRun` to query it. A case *survives* when the run finished within
:data:`RUN_BOUND` seconds without raising and the hostile resource was recorded with the
expected reason; it *lost data* when the good resources on its site were not all recorded.
:func:`verdict` records both as test properties (``scripts/hostile.py`` prints them as a
table) before asserting them.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditor.audit import AuditOptions, run_audit
from auditor.config import AuditConfig
from auditor.model import Finding, ImageRecord, PageRecord, SkipRecord
from auditor.policy import load_packs
from auditor.testing import SiteServer

from .payloads import GOOD_JPEG, PAYLOADS

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "hostile"

RUN_BOUND = 45.0
"""Seconds the audit of every case may take on a loaded 2-core machine (typically 10-20,
most of it starting the worker processes)."""

CRAWLED_FAMILIES = ("images", "html_text", "transport", "network_safety", "reports_injection")
"""Families whose cases are crawled (config_policy runs the CLI on bad files instead)."""

#: Small timeouts and caps: every hostile transport is cut within seconds, while an honest
#: response still arrives in time on a loaded 2-core machine.
CRAWL: dict[str, Any] = {
    "delay": 0,
    "connect_timeout": 2.0,
    "read_timeout": 3.0,
    "total_timeout": 5.0,
    "max_page_bytes": 2 * 1024 * 1024,
    "max_image_bytes": 4 * 1024 * 1024,
    "max_pages": 40,
    "max_depth": 50,
}

OK_PAGE = "<!DOCTYPE html><title>ok</title><p>an ordinary page</p>"
Record = Callable[[str, object], None]


class _QuietObserver:
    """Progress callbacks that do nothing: the test reads the store, not the progress."""

    def run_started(self, run_id: int, db: str) -> None:
        """Ignore."""

    def page_done(self, page: PageRecord) -> None:
        """Ignore."""

    def image_done(self, image: ImageRecord, findings: tuple[Finding, ...]) -> None:
        """Ignore."""

    def skipped(self, skip: SkipRecord) -> None:
        """Ignore."""


@dataclass
class HostileRun:
    """The finished audit of every case: its store, its wall time and its case servers."""

    db: Path
    elapsed: float
    servers: dict[str, SiteServer]
    error: str | None = None
    _rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def in_time(self) -> bool:
        """Whether the whole audit finished within :data:`RUN_BOUND`."""
        return self.elapsed < RUN_BOUND

    def url(self, case: str, path: str) -> str:
        """Absolute URL of ``path`` on the case's server."""
        return self.servers[case].url(path)

    def query(self, sql: str, *params: object) -> list[dict[str, Any]]:
        """Rows of a read-only query on the run's SQLite file."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(sql, params)]

    def skips(self, url: str) -> list[dict[str, Any]]:
        """Every skip recorded for ``url``."""
        return self.query("SELECT * FROM skips WHERE url = ?", url)

    def skip_reasons(self, url: str) -> set[str]:
        """The reasons of every skip recorded for ``url``."""
        return {row["reason"] for row in self.skips(url)}

    def image(self, url: str) -> dict[str, Any] | None:
        """The images row for ``url``, if the image was recorded."""
        rows = self.query("SELECT * FROM images WHERE url = ?", url)
        return rows[0] if rows else None

    def page(self, url: str) -> dict[str, Any] | None:
        """The pages row for ``url``, if the page was recorded."""
        rows = self.query("SELECT * FROM pages WHERE url = ?", url)
        return rows[0] if rows else None

    def lost(self, case: str) -> list[str]:
        """The good resources of the case's site that were not recorded as they should be."""
        missing = []
        for path in ("/", "/ok.html"):
            page = self.page(self.url(case, path))
            if page is None or page["status"] != 200:
                missing.append(f"page {path}: {page and page['status']}")
        image = self.image(self.url(case, "/good.jpg"))
        if (
            image is None
            or not image["fetched"]
            or image["extract_error"]
            or image["width"] is None
        ):
            missing.append(
                f"image /good.jpg: {image and (image['skip_reason'], image['extract_error'])}"
            )
        return missing


def build_case(key: str, root: Path) -> Path:
    """Copy case ``family/case`` to ``root``, add the good resources and write its payloads."""
    source = FIXTURES / key
    shutil.copytree(source, root)
    index = (root / "index.html").read_text(encoding="utf-8")
    assert "/good.jpg" in index and "/ok.html" in index, f"{source}: must reference the good set"
    (root / "good.jpg").write_bytes(GOOD_JPEG)
    if not (root / "ok.html").exists():
        (root / "ok.html").write_text(OK_PAGE, encoding="utf-8")
    builder = PAYLOADS.get(key)
    if builder is not None:
        builder(root)
    return root


def cases(families: tuple[str, ...] = CRAWLED_FAMILIES) -> list[str]:
    """Every case key (``family/case``): the folders under ``fixtures/hostile/<family>/``."""
    return [
        f"{family}/{path.name}"
        for family in families
        for path in sorted((FIXTURES / family).iterdir())
        if path.is_dir()
    ]


def case_options(key: str) -> dict[str, Any]:
    """The case's ``_case.yaml`` (never served): ``host`` to bind, ``target`` overrides."""
    path = FIXTURES / key / "_case.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}


@contextmanager
def serve_cases(keys: list[str], tmp: Path) -> Iterator[dict[str, SiteServer]]:
    """Build and serve every case, each on its own server; stop them all on exit.

    Once every server listens, ``{case:KEY}`` in a case's ``index.html`` becomes the base URL
    of case KEY's server, so one case can reference another (files are read per request).
    """
    with ExitStack() as stack:
        servers = {}
        for key in keys:
            root = build_case(key, tmp / key)
            host = case_options(key).get("host", "127.0.0.1")
            servers[key] = stack.enter_context(SiteServer(root, host=host))
        for server in servers.values():
            index = server.root / "index.html"
            text = index.read_text(encoding="utf-8")
            for other, other_server in servers.items():
                text = text.replace(f"{{case:{other}}}", other_server.base_url)
            index.write_text(text, encoding="utf-8")
        yield servers


def audit(servers: dict[str, SiteServer], tmp: Path) -> HostileRun:
    """Run the real audit with every case server as a target, into a new SQLite store."""
    targets = [
        {"url": server.url("/"), **options.get("target", {})}
        for key, server in servers.items()
        if (options := case_options(key)).get("target", {}) is not False
    ]
    config = AuditConfig.model_validate(
        {
            "crawler": {"name": "hostile-suite"},
            "targets": targets,
            "policies": ["uk-gdpr"],
            "crawl": CRAWL,
        }
    )
    db = tmp / "audit.db"
    started = time.monotonic()
    error = None
    try:
        run_audit(
            config, load_packs(config.policies), AuditOptions(db=str(db), workers=2),
            _QuietObserver(),
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - the verdict reports any escape as not surviving
        error = f"{type(exc).__name__}: {exc}"
    return HostileRun(db, time.monotonic() - started, servers, error)


def verdict(
    record: Record,
    run: HostileRun,
    case: str,
    *,
    survived: bool,
    why: str,
    lost: list[str] | None = None,
    label: str = "",
) -> None:
    """Record the case's outcome for the summary table, then assert it.

    ``survived`` is the case's own check (the hostile resource recorded with the expected
    reason); the run's completion and time bound are added here. ``lost`` defaults to the
    standard good set of the case's site; ``label`` tells apart several checks of one case.
    """
    missing = run.lost(case) if lost is None else lost
    record_outcome(
        record, f"{case}.{label}" if label else case,
        survived=survived and run.error is None and run.in_time,
        data_lost=bool(missing), seconds=run.elapsed,
    )  # fmt: skip
    assert run.error is None, run.error
    assert run.in_time, f"the audit took {run.elapsed:.1f} s (bound {RUN_BOUND} s)"
    assert survived, why
    assert not missing, f"good resources not recorded: {missing}"


def record_outcome(
    record: Record, case: str, *, survived: bool, data_lost: bool, seconds: float
) -> None:
    """Attach a case's outcome to its test report, for the table of ``scripts/hostile.py``."""
    family, _, name = case.partition("/")
    record("hostile", {
        "family": family, "case": name, "survived": survived, "data_lost": data_lost,
        "seconds": round(seconds, 1),
    })  # fmt: skip
