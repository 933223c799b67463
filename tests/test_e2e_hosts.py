"""Two real hosts: pages on one, images on a "CDN" with its own robots.txt.

Scope limits which pages are crawled; images embedded in in-scope pages are examined wherever
they are hosted, each under its own origin's robots.txt (optout-signals.md section 0, rule 1).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from auditor.testing.siteserver import SiteServer

ROOT = Path(__file__).resolve().parents[1]
JPEG = (ROOT / "fixtures" / "images" / "plain.jpg").read_bytes()


def build_cdn(root: Path) -> None:
    (root / "robots.txt").write_text(
        "User-agent: AcmeImageBot\nDisallow: /blocked/\n\n"
        "User-agent: ConsentAuditor\nDisallow: /secret/\n",
        encoding="utf-8",
    )
    for path in ("blocked/a.jpg", "ok/b.jpg", "secret/c.jpg"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(JPEG)
    (root / "page.html").write_text("<p>never crawled: out of scope</p>", encoding="utf-8")


def build_site(root: Path, cdn: str) -> None:
    # The page host forbids AcmeImageBot everything: that must not leak onto the CDN's images.
    (root / "robots.txt").write_text("User-agent: AcmeImageBot\nDisallow: /\n", encoding="utf-8")
    (root / "index.html").write_text(
        f'<img src="{cdn}/blocked/a.jpg"><img src="{cdn}/ok/b.jpg">'
        f'<img src="{cdn}/secret/c.jpg"><a href="{cdn}/page.html">cdn page</a>'
        '<a href="/deep/1.html">deeper</a>',
        encoding="utf-8",
    )
    (root / "deep").mkdir()
    (root / "deep" / "1.html").write_text('<a href="2.html">2</a>', encoding="utf-8")
    (root / "deep" / "2.html").write_text("<p>depth 2</p>", encoding="utf-8")


Audit = tuple[SiteServer, SiteServer, dict[str, Any]]


def audit(tmp_path: Path, *extra: str) -> Audit:
    cdn_root, site_root = tmp_path / "cdn", tmp_path / "site"
    cdn_root.mkdir()
    site_root.mkdir()
    build_cdn(cdn_root)
    with SiteServer(cdn_root).start() as cdn:
        build_site(site_root, cdn.base_url)
        config = tmp_path / "audit.yaml"
        with SiteServer(site_root).start() as site:
            config.write_text(
                f"crawler: {{name: acme, robots_tokens: [AcmeImageBot]}}\n"
                f"targets: ['{site.url('/')}']\n",
                encoding="utf-8",
            )
            db = str(tmp_path / "audit.db")
            base = [sys.executable, "-m", "auditor"]
            crawl = [*base, "crawl", "-c", str(config), "--db", db, "--delay", "0", "-q", *extra]
            subprocess.run(crawl, check=True, capture_output=True, timeout=120)
            export = [*base, "export", "--db", db, "--what", "images"]
            out = subprocess.run(export, check=True, capture_output=True, text=True, timeout=60)
            images = {i["url"]: i for i in map(json.loads, out.stdout.splitlines())}
            return site, cdn, images


@pytest.fixture(scope="module")
def default_audit(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    return audit(tmp_path_factory.mktemp("hosts"))


def test_images_are_judged_by_their_own_origin(default_audit: Audit) -> None:
    site, cdn, images = default_audit
    assert images[cdn.url("/ok/b.jpg")]["usage"]["crawl"] == "allowed"
    assert images[cdn.url("/blocked/a.jpg")]["usage"]["crawl"] == "disallowed"
    [signal] = [s for s in images[cdn.url("/ok/b.jpg")]["signals"] if s["mechanism"] == "robots"]
    assert signal["source_url"] == cdn.url("/robots.txt")
    assert signal["applies_to"] == cdn.url("/ok/b.jpg")
    assert images[cdn.url("/ok/b.jpg")]["page_urls"] == [site.url("/")]


def test_an_image_the_auditor_may_not_fetch_is_still_listed(default_audit: Audit) -> None:
    _, cdn, images = default_audit
    secret = images[cdn.url("/secret/c.jpg")]
    assert (secret["fetched"], secret["skip_reason"]) == (False, "robots_disallowed")
    assert secret["sha256"] is None
    assert secret["usage"]["crawl"] == "allowed"  # AcmeImageBot's group says nothing about it
    assert not any(path == "/secret/c.jpg" for _, path, _ in cdn.requests)


def test_scope_keeps_pages_on_the_target_host(default_audit: Audit) -> None:
    site, cdn, _ = default_audit
    assert not any(path == "/page.html" for _, path, _ in cdn.requests)
    assert any(path == "/deep/2.html" for _, path, _ in site.requests)


def test_max_depth_limits_pages(tmp_path: Path) -> None:
    site, _, _ = audit(tmp_path, "--max-depth", "1")
    paths = {path for _, path, _ in site.requests}
    assert "/deep/1.html" in paths
    assert "/deep/2.html" not in paths
