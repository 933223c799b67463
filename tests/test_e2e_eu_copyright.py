"""Signals become legal findings: a TDM reservation on a crawled image fails DSM Art 4(3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from auditor.testing.siteserver import SiteServer

ROOT = Path(__file__).resolve().parents[1]


def test_reserved_images_fail_the_dsm_reservation_rule(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    jpeg = (ROOT / "fixtures" / "images" / "plain.jpg").read_bytes()
    for name in ("reserved.jpg", "open.jpg", "noai.jpg"):
        (site / name).write_bytes(jpeg)
    (site / "index.html").write_text(
        '<img src="reserved.jpg"><img src="open.jpg"><img src="noai.jpg">', encoding="utf-8"
    )
    (site / "_site.yaml").write_text(
        "routes:\n"
        "  - {path: /reserved.jpg, headers: ['tdm-reservation: 1']}\n"
        "  - {path: /noai.jpg, headers: ['X-Robots-Tag: noai']}\n",
        encoding="utf-8",
    )
    with SiteServer(site).start() as server:
        config = tmp_path / "audit.yaml"
        config.write_text(
            "crawler: {name: trainer, robots_tokens: [TrainBot], purposes: [ai-train],"
            " markets: [EU], retention_days: 30}\n"
            f"targets: ['{server.url('/')}']\npolicies: [eu-copyright]\n",
            encoding="utf-8",
        )
        db = str(tmp_path / "audit.db")
        base = [sys.executable, "-m", "auditor"]
        crawl = [*base, "crawl", "-c", str(config), "--db", db, "--delay", "0", "-q"]
        subprocess.run(crawl, check=True, capture_output=True, timeout=120)
        export = [*base, "export", "--db", db, "--what", "findings"]
        out = subprocess.run(export, check=True, capture_output=True, text=True, timeout=60)
        findings = [json.loads(line) for line in out.stdout.splitlines()]
        reservation = {
            f["image_url"]: f
            for f in findings
            if f["rule_id"] == "EU-DSM-A04-3-TDM-RESERVATION" and f["outcome"] == "fail"
        }
        assert set(reservation) == {server.url("/reserved.jpg"), server.url("/noai.jpg")}
        evidence = reservation[server.url("/reserved.jpg")]["evidence"]
        assert "tdmrep.header" in evidence["signals.reserving"]
        assert any(
            "Art" in ref and "4" in ref
            for ref in reservation[server.url("/noai.jpg")]["references"]
        )


def test_reserved_images_are_on_the_deletion_list(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    jpeg = (ROOT / "fixtures" / "images" / "plain.jpg").read_bytes()
    for name in ("reserved.jpg", "open.jpg"):
        (site / name).write_bytes(jpeg)
    (site / "index.html").write_text('<img src="reserved.jpg"><img src="open.jpg">', "utf-8")
    (site / "_site.yaml").write_text(
        "routes:\n  - {path: /reserved.jpg, headers: ['tdm-reservation: 1']}\n", encoding="utf-8"
    )
    with SiteServer(site).start() as server:
        config = tmp_path / "audit.yaml"
        config.write_text(
            "crawler: {name: trainer, robots_tokens: [TrainBot], purposes: [ai-train],"
            " markets: [EU], retention_days: 30}\n"
            f"targets: ['{server.url('/')}']\npolicies: [eu-copyright]\n",
            encoding="utf-8",
        )
        db = str(tmp_path / "audit.db")
        base = [sys.executable, "-m", "auditor"]
        crawl = [*base, "crawl", "-c", str(config), "--db", db, "--delay", "0", "-q"]
        subprocess.run(crawl, check=True, capture_output=True, timeout=120)
        for fmt in ("jsonl", "csv"):
            export = [*base, "export", "--db", db, "--what", "deletions", "--format", fmt]
            out = subprocess.run(export, check=True, capture_output=True, text=True, timeout=60)
            if fmt == "csv":
                assert out.stdout.splitlines()[0].startswith("image_url,sha256,page_url")
                continue
            rows = [json.loads(line) for line in out.stdout.splitlines()]
            assert [(r["image_url"], r["rule_id"], r["deadline"]) for r in rows] == [
                (server.url("/reserved.jpg"), "EU-DSM-A04-3-TDM-RESERVATION", "immediately")
            ]
            assert rows[0]["sha256"] and rows[0]["collected_at"]
