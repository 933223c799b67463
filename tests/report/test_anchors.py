"""Repository anchors: every finding points at the file and line that caused it (SARIF)."""

from __future__ import annotations

from pathlib import Path

from auditor.model import Outcome, Severity, Subject, frozen_map
from auditor.report.anchors import AnchorResolver, repo_path
from auditor.report.data import Anchor
from auditor.store import FindingExport

CONFIG = """\
crawler:
  name: acme
  privacy_notice: null
  retention_days: 30
targets:
  - https://photos.example.org/
  - {url: "https://news.example.co.uk/", jurisdictions: [UK]}
"""


def finding(subject: Subject, evidence: dict[str, object], **urls: str) -> FindingExport:
    return FindingExport(
        rule_id="R-X", pack="p", jurisdiction="UK", outcome=Outcome.FAIL,
        severity=Severity.HIGH, subject=subject, image_url=urls.get("image_url"),
        page_url=urls.get("page_url"), site=urls.get("site"), message="m", references=("r",),
        evidence=frozen_map(evidence), fingerprint="a" * 32, title="t", remediation=None,
    )  # fmt: skip


def test_anchors_point_at_the_declaration_field_or_the_target(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    resolver = AnchorResolver(path, root=tmp_path)
    declared = finding(Subject.DECLARATION, {"crawler.privacy_notice": None})
    assert resolver.anchor(declared) == Anchor("audit.yaml", 3)
    unwritten = finding(Subject.DECLARATION, {"crawler.dpia": None})
    assert resolver.anchor(unwritten) == Anchor("audit.yaml", 1)
    cdn_image = finding(
        Subject.IMAGE, {}, image_url="https://cdn.example.net/1.jpg",
        page_url="https://news.example.co.uk/story", site="https://cdn.example.net",
    )  # fmt: skip
    assert resolver.anchor(cdn_image) == Anchor("audit.yaml", 7)
    site = finding(Subject.SITE, {}, site="https://photos.example.org")
    assert resolver.anchor(site) == Anchor("audit.yaml", 6)
    dataset = finding(Subject.DATASET, {})
    assert resolver.anchor(dataset) == Anchor("audit.yaml", 5)


def test_without_a_config_file_the_rule_line_is_the_anchor(tmp_path: Path) -> None:
    resolver = AnchorResolver(None)
    rule_anchor = Anchor("policies/uk-gdpr.yaml", 42)
    assert resolver.anchor(finding(Subject.IMAGE, {}), rule_anchor) == rule_anchor
    assert resolver.anchor(finding(Subject.IMAGE, {})) == Anchor("audit.yaml", 1)


def test_repo_paths_are_relative_with_forward_slashes(tmp_path: Path) -> None:
    nested = tmp_path / "ci" / "audit.yaml"
    assert repo_path(nested, tmp_path) == "ci/audit.yaml"
    assert not repo_path(nested, tmp_path).startswith(("/", "http"))
