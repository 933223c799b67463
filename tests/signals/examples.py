"""Harness for the reference's example cases, run through the real crawler on loopback.

Each case owns an origin (its own SiteServer: robots.txt, tdmrep.json, ai.txt, response headers
through ``_site.yaml`` routes) that hosts the case's images; one shared "pages" site has a page
per case that embeds them (with the case's page markup and page headers). One real CLI run audits
all cases at once, for the declared crawler token ``mybot``, and the tests read the exports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.testing.siteserver import SiteServer

ROOT = Path(__file__).resolve().parents[2]
JPEG = (ROOT / "fixtures" / "images" / "plain.jpg").read_bytes()
TOKEN = "mybot"


@dataclass(frozen=True)
class Case:
    """One example: the files and routes of its origin, and the page that embeds its images."""

    id: str
    images: Sequence[str]  # paths on the case origin, embedded by the case page
    files: Mapping[str, str | bytes] = field(default_factory=dict)  # path -> content
    routes: str = ""  # YAML list items under `routes:` of the case origin's _site.yaml
    page_head: str = ""  # markup inside the case page's <head>
    page_routes: str = ""  # YAML route items for the case page on the pages site


@dataclass
class Audit:
    """Exports of one run, indexed for the assertions."""

    servers: dict[str, SiteServer]
    pages: SiteServer
    images: dict[str, dict[str, Any]]
    signals: list[dict[str, Any]]

    def image(self, case: str, path: str) -> dict[str, Any]:
        """The exported image object of a case's image."""
        return self.images[self.servers[case].url(path)]

    def page_signals(self, case: str) -> list[dict[str, Any]]:
        """Signals recorded for the case page itself."""
        page = self.pages.url(f"/{case}.html")
        return [s for s in self.signals if s.get("page_url") == page and not s.get("image_url")]


def _write(root: Path, files: Mapping[str, str | bytes]) -> None:
    for path, content in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


def _cli(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@contextmanager
def audit_cases(
    tmp_path: Path, cases: Sequence[Case], *, total_timeout: float = 3
) -> Iterator[Audit]:
    """Serve every case, audit them in one CLI run, and yield the exports."""
    with ExitStack() as stack:
        servers: dict[str, SiteServer] = {}
        for case in cases:
            root = tmp_path / "origins" / case.id
            files = {path: JPEG for path in case.images if path != "/robots.txt"}
            files.update(case.files)
            if case.routes:
                files["_site.yaml"] = "routes:\n" + case.routes
            _write(root, files)
            servers[case.id] = stack.enter_context(SiteServer(root).start())
        pages_root = tmp_path / "pages"
        links = "".join(f'<a href="/{case.id}.html">{case.id}</a>' for case in cases)
        pages: dict[str, str | bytes] = {"index.html": f"<html><body>{links}</body></html>"}
        page_routes = "".join(case.page_routes for case in cases)
        if page_routes:
            pages["_site.yaml"] = "routes:\n" + page_routes
        for case in cases:
            imgs = "".join(f'<img src="{servers[case.id].url(p)}">' for p in case.images)
            pages[f"{case.id}.html"] = (
                f"<html><head>{case.page_head}</head><body>{imgs}</body></html>"
            )
        _write(pages_root, pages)
        pages_server = stack.enter_context(SiteServer(pages_root).start())
        config = tmp_path / "audit.yaml"
        config.write_text(
            f"crawler: {{name: examples, robots_tokens: [{TOKEN}]}}\n"
            f"targets: [{{url: '{pages_server.url('/')}', max_depth: 1}}]\n"
            f"crawl: {{delay: 0, total_timeout: {total_timeout}, read_timeout: {total_timeout}}}\n",
            encoding="utf-8",
        )
        db = str(tmp_path / "audit.db")
        _cli("crawl", "-c", str(config), "--db", db, "-q", "--workers", "1")
        images = {
            image["url"]: image
            for image in map(
                json.loads, _cli("export", "--db", db, "--what", "images").splitlines()
            )
        }
        signals = [
            json.loads(line)
            for line in _cli("export", "--db", db, "--what", "signals").splitlines()
        ]
        yield Audit(servers, pages_server, images, signals)
