"""E43 end to end: the real CLI consults a loopback registry API configured in audit.yaml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from auditor.testing.siteserver import SiteServer

from .test_registries import FakeApi, Reply

ROOT = Path(__file__).resolve().parents[2]
KEY = "e2e-secret-key-1234"


def test_registry_opt_out_reaches_the_verdict_and_the_key_stays_secret(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    jpeg = (ROOT / "fixtures" / "images" / "plain.jpg").read_bytes()
    for name in ("out.jpg", "free.jpg"):
        (site / name).write_bytes(jpeg)
    (site / "index.html").write_text('<img src="out.jpg"><img src="free.jpg">', encoding="utf-8")
    api = FakeApi().start()
    try:
        with SiteServer(site).start() as server:
            opted_out = server.url("/out.jpg")

            def respond(urls: list[str], headers: dict[str, str]) -> Reply:
                entries = [{"url": u, "optOut": u == opted_out, "optIn": False} for u in urls]
                return Reply(body=json.dumps(entries).encode())

            api.respond = respond
            config = tmp_path / "audit.yaml"
            config.write_text(
                f"targets: ['{server.url('/')}']\n"
                f"registries: {{spawning: {{endpoint: '{api.url}', api_key_env: E2E_KEY}}}}\n",
                encoding="utf-8",
            )
            db = tmp_path / "audit.db"
            env = {**os.environ, "E2E_KEY": KEY}
            base = [sys.executable, "-m", "auditor"]
            crawl = [*base, "crawl", "-c", str(config), "--db", str(db), "--delay", "0", "-q"]
            subprocess.run(crawl, check=True, capture_output=True, timeout=120, env=env)
            export = [*base, "export", "--db", str(db), "--what", "images"]
            out = subprocess.run(export, check=True, capture_output=True, text=True, timeout=60)
    finally:
        api.stop()
    images = {i["url"]: i for i in map(json.loads, out.stdout.splitlines())}
    assert images[opted_out]["usage"]["ai-train"] == "disallowed"
    assert images[server.url("/free.jpg")]["usage"]["ai-train"] == "unknown"
    [request] = api.received  # both URLs in one batch
    assert sorted(request.urls) == sorted(images)
    assert request.headers["authorization"] == f"API {KEY}"
    assert KEY.encode() not in db.read_bytes()
