"""`make demo`: serve the bundled demo site on loopback, audit it, write audit.db and report.md.

The demo site (fixtures/sites/demo) is served by the same real HTTP server the end-to-end tests
use; the audit runs through the installed `auditor` command exactly as a user would run it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from auditor.testing.siteserver import SiteServer

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "fixtures" / "sites" / "demo"
DB = ROOT / "audit.db"
REPORT = ROOT / "report.md"
PLACEHOLDER = "http://127.0.0.1:8000/"


def main() -> int:
    for stale in (DB, DB.with_name("audit.db-wal"), DB.with_name("audit.db-shm"), REPORT):
        stale.unlink(missing_ok=True)
    auditor = [sys.executable, "-m", "auditor"]
    with SiteServer(SITE).start() as server, tempfile.TemporaryDirectory() as scratch:
        print(f"demo site: {server.base_url}/ (serving {SITE.relative_to(ROOT)})")
        # The committed audit.yaml names a placeholder port; point it at the real one.
        config = Path(scratch) / "audit.yaml"
        text = (SITE / "audit.yaml").read_text(encoding="utf-8")
        config.write_text(text.replace(PLACEHOLDER, server.url("/")), encoding="utf-8")
        crawl = [*auditor, "crawl", "-c", str(config), "--db", str(DB), "--delay", "0"]
        status = subprocess.call(crawl)  # noqa: S603
    if status not in (0, 1):
        print(f"the demo audit failed with exit code {status}", file=sys.stderr)
        return status
    report = [*auditor, "report", "--db", str(DB), "--format", "md", "-o", str(REPORT)]
    if subprocess.call(report) != 0:  # noqa: S603
        return 1
    print(f"\ndatabase: {DB}\nreport:   {REPORT}")
    print(f"try: {BIN}auditor export --db audit.db --what findings | head")
    return 0


BIN = ".venv/bin/"

if __name__ == "__main__":
    sys.exit(main())
