from __future__ import annotations

from pathlib import Path

from auditor.policy import load_packs
from auditor.policy.catalogue import render_rule_catalogue_markdown

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = (
    "regenerate: python -c 'from auditor.policy import load_packs;"
    " from auditor.policy.catalogue import render_rule_catalogue_markdown as r;"
    ' print(r(load_packs(None, include_proposed=True)), end="")\' > docs/rule-catalogue.md'
)


def test_docs_rule_catalogue_md_is_generated_from_the_packs() -> None:
    committed = (ROOT / "docs" / "rule-catalogue.md").read_text(encoding="utf-8")
    generated = render_rule_catalogue_markdown(load_packs(None, include_proposed=True))
    assert committed == generated, REGENERATE


def test_catalogue_lists_every_rule_under_its_pack() -> None:
    policy = load_packs(None, include_proposed=True)
    text = render_rule_catalogue_markdown(policy)
    for pack in policy.packs:
        assert f"## `{pack.name}`: " in text
        section = text.split(f"## `{pack.name}`: ", 1)[1].split("\n## ", 1)[0]
        assert f"Jurisdiction: {pack.jurisdiction} · status: `{pack.status}`" in section
        assert f"version: {pack.version}" in section
        for rule in pack.rules:
            row = next(line for line in section.splitlines() if f"`{rule.id}`" in line)
            assert f"| {rule.severity.value} |" in row
            assert f"| {rule.subject.value} |" in row
            assert all(ref.replace("|", "\\|") in row for ref in rule.references)
            assert all(f"`{tag}`" in row for tag in rule.tags)


def test_eu_ai_act_rules_are_catalogued() -> None:
    text = render_rule_catalogue_markdown(load_packs(["eu-ai-act"]))
    assert "## `eu-ai-act`: " in text
    assert "Jurisdiction: EU · status: `in_force` · version: 2026.11" in text
    for rule_id, subject, severity in [
        ("EU-AIA-A05-1E-UNTARGETED-FACE-SCRAPING", "dataset", "critical"),
        ("EU-AIA-A05-1E-DECLARED-UNTARGETED-IDENTIFICATION", "declaration", "critical"),
        ("EU-AIA-A53-1C-COPYRIGHT-POLICY", "declaration", "high"),
        ("EU-AIA-A53-1D-TRAINING-SUMMARY", "declaration", "medium"),
    ]:
        assert f"| `{rule_id}` |" in text
        row = next(line for line in text.splitlines() if f"`{rule_id}`" in line)
        assert f"| {subject} | {severity} |" in row
