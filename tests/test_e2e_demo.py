"""End to end: the real CLI audits the demo site served on loopback, into a real SQLite file.

One crawl per module (it takes a few seconds); the tests then read the exports and the database
the way a user or a pipeline would. The expectations come from the demo site's README
(fixtures/sites/README.md) and the specs it encodes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from auditor.testing.siteserver import SiteServer

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "sites" / "demo"
IMAGES = ROOT / "fixtures" / "images"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


@dataclass
class DemoAudit:
    server: SiteServer
    db: Path
    crawl: subprocess.CompletedProcess[str]
    images: dict[str, dict[str, Any]]
    findings: list[dict[str, Any]]

    def image(self, path: str) -> dict[str, Any]:
        return self.images[self.server.url(path)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoAudit]:
    workdir = tmp_path_factory.mktemp("demo")
    with SiteServer(DEMO).start() as server:
        config = workdir / "audit.yaml"
        text = (DEMO / "audit.yaml").read_text(encoding="utf-8")
        config.write_text(text.replace("http://127.0.0.1:8000/", server.url("/")), "utf-8")
        db = workdir / "audit.db"
        crawl = run_cli(
            "crawl", "-c", str(config), "--db", str(db), "--delay", "0", "--workers", "1"
        )
        images_out = run_cli("export", "--db", str(db), "--what", "images")
        findings_out = run_cli("export", "--db", str(db), "--what", "findings")
        assert images_out.returncode == 0, images_out.stderr
        assert findings_out.returncode == 0, findings_out.stderr
        images = [json.loads(line) for line in images_out.stdout.splitlines()]
        findings = [json.loads(line) for line in findings_out.stdout.splitlines()]
        yield DemoAudit(server, db, crawl, {i["url"]: i for i in images}, findings)


def test_crawl_succeeds_and_summarises(demo: DemoAudit) -> None:
    assert demo.crawl.returncode == 0, demo.crawl.stderr
    assert "complete" in demo.crawl.stdout
    assert "findings:" in demo.crawl.stdout
    assert "Traceback" not in demo.crawl.stderr


def test_summary_counts_match_the_store(demo: DemoAudit) -> None:
    [line] = [ln for ln in demo.crawl.stdout.splitlines() if ln.startswith("findings: ")]
    counts = Counter(f["outcome"] for f in demo.findings)
    expected = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    assert line.startswith(f"findings: {expected} (")
    assert Counter(f["subject"] for f in demo.findings)["declaration"] >= 2


def test_auditor_identifies_itself_and_reads_robots_first(demo: DemoAudit) -> None:
    requests = demo.server.requests
    assert requests, "the server saw no requests"
    assert requests[0][1] == "/robots.txt"
    assert all(headers["user-agent"].startswith("ConsentAuditor/") for _, _, headers in requests)
    assert sum(1 for _, path, _ in requests if path == "/robots.txt") == 1


def test_auditor_obeys_its_own_robots_group(demo: DemoAudit) -> None:
    paths = {path for _, path, _ in demo.server.requests}
    assert "/private/admin.html" not in paths
    assert demo.server.url("/img/admin-draft.jpg") not in demo.images
    with sqlite3.connect(demo.db) as db:
        reasons = dict(db.execute("SELECT url, reason FROM skips"))
    assert reasons[demo.server.url("/private/admin.html")] == "robots_disallowed"


def test_every_reference_kind_is_discovered(demo: DemoAudit) -> None:
    expected = {
        "/img/harbour.jpg",  # img, og:image, JSON-LD
        "/img/harbour-small.jpg",  # srcset
        "/img/harbour.webp",  # picture source
        "/img/boats.gif",  # data-src
        "/img/banner.png",  # inline style background
        "/img/full/harbour-2000.jpg",  # link to an image file
        "/img/team.png",
        "/img/lighthouse.jpg",
        "/img/pier.jpg",
    }
    assert {demo.server.url(path) for path in expected} <= set(demo.images)


def test_fetched_image_facts(demo: DemoAudit) -> None:
    harbour = demo.image("/img/harbour.jpg")
    data = (DEMO / "img" / "harbour.jpg").read_bytes()
    assert harbour["fetched"] is True
    assert harbour["status"] == 200
    assert harbour["content_type"] == "image/jpeg"
    assert harbour["sha256"] == hashlib.sha256(data).hexdigest()
    assert (harbour["width"], harbour["height"]) == (640, 480)
    assert harbour["gps"] is True
    assert harbour["faces"] == 0  # a harbour scene: detection ran and found no one
    assert harbour["face_boxes"] == []
    assert harbour["gps_country"] == "GB"  # the EXIF position (London), looked up offline
    assert len(harbour["phash"]) == 16
    assert set(harbour["page_urls"]) >= {demo.server.url("/"), demo.server.url("/gallery.html")}
    assert harbour["jurisdictions"]["UK"] == 1.0


def test_images_without_gps_say_false(demo: DemoAudit) -> None:
    assert demo.image("/img/lighthouse.jpg")["gps"] is False


def test_declared_crawler_verdict_comes_from_its_own_group(demo: DemoAudit) -> None:
    unreleased = demo.image("/img/private/unreleased.jpg")
    # The auditor (group *) may fetch it; AcmeImageBot's own group disallows it.
    assert unreleased["fetched"] is True
    assert unreleased["usage"]["crawl"] == "disallowed"
    assert unreleased["usage"]["ai-train"] == "disallowed"  # crawl disallowed implies the rest
    [signal] = [s for s in unreleased["signals"] if s["mechanism"] == "robots"]
    assert signal["token"] == "AcmeImageBot"
    assert signal["raw_value"].startswith("Disallow: /img/private/")
    allowed = demo.image("/img/harbour.jpg")["usage"]
    assert allowed["crawl"] == "allowed"
    assert allowed["ai-train"] == "unknown"  # no evidence is not permission


def test_failures_are_listed_not_lost(demo: DemoAudit) -> None:
    missing = demo.image("/img/missing.jpg")
    assert (missing["fetched"], missing["status"], missing["skip_reason"]) == (
        False,
        404,
        "http_error",
    )
    assert demo.image("/img/broken.jpg")["extract_error"] == "truncated"
    fake = demo.image("/img/fake.jpg")
    assert fake["fetched"] is True
    assert fake["format"] is None
    assert fake["extract_error"] == "not_an_image"
    moved = demo.image("/img/moved.jpg")
    assert moved["fetched"] is True
    assert (
        moved["sha256"] == hashlib.sha256((IMAGES / "photo-resized.jpg").read_bytes()).hexdigest()
    )


def _findings(demo: DemoAudit, rule_id: str) -> list[dict[str, Any]]:
    return [f for f in demo.findings if f["rule_id"] == rule_id]


def test_declaration_findings(demo: DemoAudit) -> None:
    [lawful] = _findings(demo, "UK-GDPR-A06-LAWFUL-BASIS")
    assert (lawful["outcome"], lawful["subject"]) == ("fail", "declaration")
    [retention] = _findings(demo, "UK-GDPR-A05-1E-RETENTION")
    assert retention["outcome"] == "fail"
    assert not _findings(demo, "UK-GDPR-A35-DPIA")  # a DPIA is declared


def test_image_findings(demo: DemoAudit) -> None:
    exif = {f["image_url"] for f in _findings(demo, "UK-GDPR-A05-1C-MINIMISATION-EXIF")}
    assert demo.server.url("/img/harbour.jpg") in exif
    assert demo.server.url("/img/lighthouse.jpg") not in exif
    finding = _findings(demo, "UK-GDPR-A05-1C-MINIMISATION-EXIF")[0]
    assert finding["evidence"]
    assert len(finding["fingerprint"]) == 32


def test_passes_are_counted_not_stored(demo: DemoAudit) -> None:
    assert all(f["outcome"] in {"fail", "review", "insufficient_data"} for f in demo.findings)
    with sqlite3.connect(demo.db) as db:
        passes = db.execute(
            "SELECT passes FROM rule_stats WHERE rule_id = 'UK-GDPR-A35-DPIA'"
        ).fetchone()
    assert passes == (1,)


def test_run_provenance(demo: DemoAudit) -> None:
    with sqlite3.connect(demo.db) as db:
        row = db.execute(
            "SELECT status, tool_version, config_hash, policy_hash, finished_at FROM runs"
        ).fetchone()
        journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    status, version, config_hash, policy_hash, finished = row
    assert status == "complete"
    assert version
    assert len(config_hash) == 64
    assert len(policy_hash) == 64
    assert finished
    assert journal == "wal"


def test_markdown_report(demo: DemoAudit, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    result = run_cli("report", "--db", str(demo.db), "--format", "md", "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "UK-GDPR-A06-LAWFUL-BASIS" in text
    assert "not legal advice" in text.lower()


def test_csv_export(demo: DemoAudit) -> None:
    result = run_cli("export", "--db", str(demo.db), "--what", "findings", "--format", "csv")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0]
    assert header.startswith("rule_id,")
