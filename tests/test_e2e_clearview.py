"""The Clearview check: a Clearview-like crawler fails every ICO breach; a careful one none.

Both declarations (``fixtures/declarations/``) audit the same loopback site of people photos
(``fixtures/sites/faces``) with every shipped pack in force, through the real CLI: real crawl,
real face detection, real SQLite, findings read back through ``auditor export``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.extract.faces import faces_available
from auditor.policy import load_packs
from auditor.testing.siteserver import SiteServer

pytestmark = pytest.mark.skipif(
    not faces_available(), reason="face detection (yuface) has wheels for x86-64 only"
)

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "fixtures" / "sites" / "faces"
DECLARATIONS = ROOT / "fixtures" / "declarations"
ICO_FINDINGS = [f"ico-clearview-{n}" for n in range(1, 6)]
#: DESIGN 4.3: every finding export has at least these keys.
FINDING_KEYS = {
    "rule_id", "pack", "jurisdiction", "outcome", "severity", "subject", "image_url",
    "page_url", "site", "message", "references", "evidence", "fingerprint",
}  # fmt: skip


@pytest.fixture(scope="module")
def site() -> Iterator[SiteServer]:
    with SiteServer(SITE).start() as server:
        yield server


@pytest.fixture(scope="module")
def tags() -> dict[str, tuple[str, ...]]:
    """Rule id -> tags, for every pack an audit loads by default."""
    return {rule.id: rule.tags for rule in load_packs(None).rules}


def audit(
    declaration: str, site: SiteServer, workdir: Path, **crawl: object
) -> dict[str, list[dict[str, Any]]]:
    """Audit the faces site with a declaration (and ``crawl:`` settings); return the exports."""
    config = yaml.safe_load((DECLARATIONS / declaration).read_text(encoding="utf-8"))
    config["targets"] = [site.url("/")]
    config.setdefault("crawl", {}).update(crawl)
    path = workdir / "audit.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    db = str(workdir / "audit.db")
    base = [sys.executable, "-m", "auditor"]
    crawl = [*base, "crawl", "-c", str(path), "--db", db, "--delay", "0", "-q"]
    done = subprocess.run(crawl, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode in {0, 1}, done.stderr
    exported: dict[str, list[dict[str, Any]]] = {}
    for what in ("findings", "images"):
        command = [*base, "export", "--db", db, "--what", what]
        out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)
        exported[what] = [json.loads(line) for line in out.stdout.splitlines()]
    return exported


@pytest.fixture(scope="module")
def clearview(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return audit("clearview-like.yaml", site, tmp_path_factory.mktemp("clearview"))


@pytest.fixture(scope="module")
def careful(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return audit("careful.yaml", site, tmp_path_factory.mktemp("careful"))


def fails(exported: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in exported["findings"] if f["outcome"] == "fail"]


def test_faces_are_detected_on_the_crawled_images(
    clearview: dict[str, Any], site: SiteServer
) -> None:
    faces = {image["url"]: image["faces"] for image in clearview["images"]}
    assert faces[site.url("/img/portrait.jpg")] == 1
    assert faces[site.url("/img/group.jpg")] == 3
    assert faces[site.url("/img/noface.jpg")] == 0
    portrait = next(i for i in clearview["images"] if i["url"].endswith("portrait.jpg"))
    assert len(portrait["face_boxes"]) == 1
    assert portrait["face_detector"].startswith("yuface")
    assert "decode<=512px" in portrait["face_detector"]


def test_the_face_detection_size_setting_reaches_the_detector(
    site: SiteServer, tmp_path: Path
) -> None:
    exported = audit("clearview-like.yaml", site, tmp_path, face_detection_size=384)
    group = next(i for i in exported["images"] if i["url"].endswith("group.jpg"))
    assert "decode<=384px" in group["face_detector"]
    assert group["faces"] == 2  # the 50 px profile is 30 px in a 384 px decode: not found


@pytest.mark.parametrize("finding", ICO_FINDINGS)
def test_clearview_like_crawler_is_found_in_each_ico_breach(
    clearview: dict[str, Any], tags: dict[str, tuple[str, ...]], finding: str
) -> None:
    cited = [f for f in clearview["findings"] if finding in tags.get(f["rule_id"], ())]
    # Findings 1-4 are plain failures. Finding 5 (objections deterred by demands for photos)
    # is a review in law.md: a reference photo is inherent to finding someone's face, so a
    # person judges consent, narrow use and deletion; the finding still cites the breach.
    wanted = {"fail", "review"} if finding == "ico-clearview-5" else {"fail"}
    cited = [f for f in cited if f["outcome"] in wanted]
    assert cited, f"no {'/'.join(sorted(wanted))} finding tagged {finding}"
    assert all(any("Art." in ref for ref in f["references"]) for f in cited)
    assert any(f["subject"] == "declaration" for f in cited)


def test_clearview_like_crawler_breaks_the_ai_act_prohibition(clearview: dict[str, Any]) -> None:
    failed = {f["rule_id"]: f for f in fails(clearview)}
    dataset = failed["EU-AIA-A05-1E-UNTARGETED-FACE-SCRAPING"]
    assert dataset["subject"] == "dataset"
    assert dataset["severity"] == "critical"
    assert dataset["evidence"]["dataset.images_with_faces"] == 2
    assert "EU AI Act Art. 5(1)(e)" in dataset["references"]
    assert "EU-AIA-A05-1E-DECLARED-UNTARGETED-IDENTIFICATION" in failed
    assert failed["GLOBAL-CLEARVIEW-PATTERN"]["severity"] == "critical"


def test_biometric_findings_name_the_face_images(
    clearview: dict[str, Any], site: SiteServer
) -> None:
    biometric = {
        f["image_url"] for f in fails(clearview) if f["rule_id"] == "UK-GDPR-A09-BIOMETRIC"
    }
    assert biometric == {site.url("/img/portrait.jpg"), site.url("/img/group.jpg")}


def test_findings_export_exactly_as_design(clearview: dict[str, Any]) -> None:
    for finding in clearview["findings"]:
        assert set(finding) >= FINDING_KEYS
        assert finding["outcome"] in {"fail", "review", "insufficient_data"}
        assert finding["subject"] in {"declaration", "site", "image", "dataset"}
        assert finding["references"], finding["rule_id"]


def test_careful_crawler_fails_none_of_the_clearview_rules(
    careful: dict[str, Any], tags: dict[str, tuple[str, ...]]
) -> None:
    clearview_tags = {*ICO_FINDINGS, "clearview-pattern", "prohibited-practice"}
    offending = [
        (f["rule_id"], f["message"])
        for f in fails(careful)
        if clearview_tags & set(tags.get(f["rule_id"], ()))
        or f["rule_id"].startswith("EU-AIA-A05-1E")
    ]
    assert offending == []
