"""End to end: a loopback site, a real opt-out list, the real CLI crawl, the exports.

The site serves four images: one listed by URL, the fixture photo (listed as a photo, so only
its perceptual hash is on the list), a crop of that photo whose hash falls in the near band,
and an unrelated graphic. One crawl per module; `auditor check` then crawls again with the
same list and a wider threshold, to show the gate sees the list and the option.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from auditor.extract import extract_image
from auditor.extract.phash import phash_distance
from auditor.optout import DEFAULT_HAMMING_THRESHOLD, DEFAULT_NEAR_BAND
from auditor.testing.siteserver import SiteServer
from tests.optout import IMAGES, run_cli

PAGE = """<!doctype html><html lang="en"><head><title>Photos</title></head><body>
<img src="/img/listed.jpg" alt="listed by URL">
<img src="/img/jane.jpg" alt="listed as a photo">
<img src="/img/jane-cropped.png" alt="a crop of the listed photo">
<img src="/img/graphic.png" alt="not listed">
</body></html>
"""
CONFIG = """\
crawler:
  name: acme-images
  robots_tokens: [AcmeImageBot]
  purposes: [ai-train]
  erasure_sla_days: 30
targets: ["{url}"]
policies: [global]
optout_list: optout.db
"""
RULE = "GLOBAL-OPTOUT-ENFORCED"


def crop(photo: Path) -> bytes:
    """An 8 % crop of the photo: the same picture to a person, 8 bits away to the hash."""
    with Image.open(photo) as image:
        width, height = image.size
        cropped = image.convert("RGB").crop((int(width * 0.08), 0, width, height))
    out = io.BytesIO()
    cropped.save(out, format="PNG")
    return out.getvalue()


@dataclass
class Audit:
    server: SiteServer
    workdir: Path
    crawl: Any
    images: dict[str, dict[str, Any]]
    findings: list[dict[str, Any]]

    def optout_record(self, path: str) -> dict[str, Any] | None:
        signals = self.images[self.server.url(path)]["signals"]
        found = [s for s in signals if s["mechanism"] == "optout_list"]
        assert len(found) <= 1
        return found[0] if found else None

    def outcomes(self, path: str) -> list[str]:
        url = self.server.url(path)
        return [
            f["outcome"] for f in self.findings if f["rule_id"] == RULE and f["image_url"] == url
        ]


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audit]:
    site = tmp_path_factory.mktemp("site")
    (site / "img").mkdir()
    (site / "index.html").write_text(PAGE, encoding="utf-8")
    (site / "img" / "listed.jpg").write_bytes((IMAGES / "plain.jpg").read_bytes())
    (site / "img" / "jane.jpg").write_bytes((IMAGES / "photo.jpg").read_bytes())
    (site / "img" / "jane-cropped.png").write_bytes(crop(IMAGES / "photo.jpg"))
    (site / "img" / "graphic.png").write_bytes((IMAGES / "graphic.png").read_bytes())
    workdir = tmp_path_factory.mktemp("audit")
    received = (datetime.now(UTC) - timedelta(days=10)).date().isoformat()
    with SiteServer(site).start() as server:
        (workdir / "audit.yaml").write_text(CONFIG.format(url=server.url("/")), "utf-8")
        for target in (server.url("/img/listed.jpg"), str(IMAGES / "photo.jpg")):
            added = run_cli("optout", "add", target, "--received", received, "-c", "audit.yaml",
                            cwd=workdir)  # fmt: skip
            assert added.returncode == 0, added.stderr
        crawl = run_cli("crawl", "-c", "audit.yaml", "--db", "audit.db", "--delay", "0",
                        "--workers", "1", cwd=workdir)  # fmt: skip
        images = run_cli("export", "--db", "audit.db", "--what", "images", cwd=workdir)
        findings = run_cli("export", "--db", "audit.db", "--what", "findings", cwd=workdir)
        assert images.returncode == 0, images.stderr
        assert findings.returncode == 0, findings.stderr
        yield Audit(
            server, workdir, crawl,
            {i["url"]: i for i in map(json.loads, images.stdout.splitlines())},
            [json.loads(line) for line in findings.stdout.splitlines()],
        )  # fmt: skip


def test_the_crawl_reads_the_list(audit: Audit) -> None:
    assert audit.crawl.returncode == 0, audit.crawl.stderr
    assert "opt-out list: " in audit.crawl.stderr
    assert "(2 entries)" in audit.crawl.stderr


def test_the_crop_is_in_the_near_band() -> None:
    """Measured, not assumed: the e2e expectations below depend on it."""
    listed = extract_image((IMAGES / "photo.jpg").read_bytes()).phash
    cropped = extract_image(crop(IMAGES / "photo.jpg")).phash
    assert listed is not None
    assert cropped is not None
    distance = phash_distance(listed, cropped)
    assert DEFAULT_HAMMING_THRESHOLD < distance <= DEFAULT_HAMMING_THRESHOLD + DEFAULT_NEAR_BAND


def test_a_url_entry_disallows_the_image(audit: Audit) -> None:
    record = audit.optout_record("/img/listed.jpg")
    assert record is not None
    assert record["raw_value"] == audit.server.url("/img/listed.jpg")
    assert set(record["purposes"].values()) == {"disallowed"}
    assert json.loads(record["parsed"])["kind"] == "url"
    assert set(audit.images[audit.server.url("/img/listed.jpg")]["usage"].values()) == {
        "disallowed"
    }
    assert audit.outcomes("/img/listed.jpg") == ["fail"]


def test_a_listed_photo_disallows_the_served_copy(audit: Audit) -> None:
    record = audit.optout_record("/img/jane.jpg")
    assert record is not None
    assert set(record["purposes"].values()) == {"disallowed"}
    parsed = json.loads(record["parsed"])
    assert (parsed["kind"], parsed["distance"], parsed["near"]) == ("phash", 0, False)
    [finding] = [
        f for f in audit.findings
        if f["rule_id"] == RULE and f["image_url"] == audit.server.url("/img/jane.jpg")
    ]  # fmt: skip
    assert (finding["outcome"], finding["severity"]) == ("fail", "critical")
    assert finding["evidence"]["image.optout_match"] == "exact"
    assert finding["evidence"]["crawler.erasure_sla_days"] == 30
    assert "image.optout_received" in finding["evidence"]


def test_a_near_threshold_crop_asks_for_review(audit: Audit) -> None:
    record = audit.optout_record("/img/jane-cropped.png")
    assert record is not None
    assert "near-threshold" in record["notes"]
    assert set(record["purposes"].values()) == {"unknown"}
    assert audit.outcomes("/img/jane-cropped.png") == ["review"]


def test_an_unlisted_image_has_no_record_and_no_finding(audit: Audit) -> None:
    assert audit.optout_record("/img/graphic.png") is None
    assert audit.outcomes("/img/graphic.png") == []


def test_the_dataset_rule_counts_the_collected_matches(audit: Audit) -> None:
    [finding] = [f for f in audit.findings if f["rule_id"] == "GLOBAL-OPTOUT-ENFORCED-DATASET"]
    assert finding["outcome"] == "fail"
    assert finding["evidence"]["dataset.optout_collected"] == 2


def test_check_gates_on_the_same_list_with_its_own_threshold(audit: Audit) -> None:
    """At --optout-threshold 8 the crop (8 bits away) is a match: it fails instead of review."""
    options = ["--db", "check.db", "--workers", "1", "--optout-threshold", "8"]
    check = run_cli(
        "check", "-c", "audit.yaml", *options, "--json", "check.json", cwd=audit.workdir
    )
    assert check.returncode == 1, check.stderr
    report = json.loads((audit.workdir / "check.json").read_text(encoding="utf-8"))
    failed = {
        f["image_url"]
        for f in report["findings"]
        if f["rule_id"] == RULE and f["outcome"] == "fail"
    }
    paths = ("/img/listed.jpg", "/img/jane.jpg", "/img/jane-cropped.png")
    assert failed == {audit.server.url(path) for path in paths}
