from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from auditor.errors import PolicyError
from auditor.model import Outcome, Subject
from auditor.policy import (
    FACTS,
    OPERATORS,
    evaluate_rule,
    fact_names,
    facts_for,
    load_packs,
    policy_json_schema,
    render_fact_catalogue_markdown,
    render_operator_table_markdown,
    run_pack_tests,
)
from auditor.yamlsrc import load_yaml

from . import pack_text, rule, write_pack

ROOT = Path(__file__).resolve().parents[2]
UK_RULES = {
    "UK-GDPR-A06-LAWFUL-BASIS",
    "UK-GDPR-A05-1E-RETENTION",
    "UK-GDPR-A05-1E-RETENTION-EXPIRED",
    "UK-GDPR-A05-1A-TRANSPARENCY",
    "UK-GDPR-A09-BIOMETRIC",
    "UK-GDPR-A05-1C-MINIMISATION-EXIF",
    "UK-GDPR-A21-OPTOUT-OBSTRUCTED",
    "UK-GDPR-A35-DPIA",
}


def test_shipped_pack_fixtures_are_green() -> None:
    results = run_pack_tests(load_packs())
    failed = [
        f"{r.file}:{r.line} {r.rule_id} {r.name}: {r.detail}" for r in results if not r.passed
    ]
    assert failed == []
    assert {r.rule_id for r in results} >= UK_RULES


def test_uk_gdpr_has_the_required_rules_and_fixture_kinds() -> None:
    policy = load_packs(["uk-gdpr"])
    (pack,) = policy.packs
    assert {r.id for r in pack.rules} >= UK_RULES
    assert pack.jurisdiction == "UK"
    assert pack.status == "in_force"
    doc = load_yaml(ROOT / "policies" / "uk-gdpr.tests.yaml", error=PolicyError)
    expected: dict[str, set[str]] = defaultdict(set)
    for case in doc.data["cases"]:
        expected[case["rule"]].add(case["expect"])
    for rule_id in UK_RULES:
        kinds = expected[rule_id]
        assert kinds & {"fail", "review"}, rule_id
        assert kinds & {"pass", "not_applicable"}, rule_id
        assert "insufficient_data" in kinds, rule_id


def test_uk_gdpr_tags_cover_the_five_ico_findings() -> None:
    tags = {tag for r in load_packs(["uk-gdpr"]).rules for tag in r.tags}
    assert {f"ico-clearview-{n}" for n in range(1, 6)} <= tags


def test_uk_gdpr_references_name_real_articles() -> None:
    # UK data protection law, plus the copyright sources of UK-CDPA-S29A-COMMERCIAL-TDM.
    pattern = re.compile(
        r"^(UK GDPR Art\. \d+|DPA 2018 s\.\d+|CDPA 1988 s\.\d+|Data \(Use and Access\) Act 2025 "
        r"ss?\.\d+|Getty Images v Stability AI \[2025\] EWHC 2863 \(Ch\))"
    )
    for each in load_packs(["uk-gdpr"]).rules:
        assert each.references
        assert all(pattern.match(ref) for ref in each.references), each.references


def test_biometric_rule_is_not_applicable_without_identification_purposes() -> None:
    (biometric,) = [r for r in load_packs(["uk-gdpr"]).rules if r.id == "UK-GDPR-A09-BIOMETRIC"]
    facts = {"jurisdiction.UK": 0.9, "crawler.purposes": ["ai-train"]}
    assert evaluate_rule(biometric, facts).outcome is Outcome.NOT_APPLICABLE
    facts["crawler.purposes"] = ["facial-recognition"]
    assert evaluate_rule(biometric, facts).outcome is Outcome.INSUFFICIENT_DATA


def test_failing_fixture_and_missing_coverage_are_reported(tmp_path: Path) -> None:
    write_pack(tmp_path, text=pack_text(rules=[rule(), rule("T-RULE-TWO")]))
    (tmp_path / "test-pack.tests.yaml").write_text(
        "pack: test-pack\ncases:\n"
        "  - {rule: T-RULE-ONE, name: wrong, facts: {crawler.dpia: null}, expect: pass}\n"
        "  - {rule: T-RULE-ONE, name: right, facts: {crawler.dpia: x}, expect: pass}\n"
        "  - {rule: T-RULE-TWO, name: sev, facts: {crawler.dpia: null}, expect: fail,"
        " severity: critical}\n",
        encoding="utf-8",
    )
    results = run_pack_tests(load_packs(["test-pack"], dirs=[tmp_path]))
    failed = {(r.rule_id, r.name): r for r in results if not r.passed}
    assert failed[("T-RULE-ONE", "wrong")].detail == "expected pass, got fail"
    assert failed[("T-RULE-ONE", "wrong")].line == 3
    assert failed[("T-RULE-TWO", "sev")].detail == "expected fail (critical), got fail (high)"
    assert "needs a case expecting fail or review" in failed[("T-RULE-ONE", "coverage")].detail
    assert ("T-RULE-TWO", "coverage") in failed
    assert str(failed[("T-RULE-ONE", "wrong")]) == (
        f"{tmp_path / 'test-pack.tests.yaml'}:3: FAILED: T-RULE-ONE 'wrong': "
        "expected pass, got fail"
    )
    assert len(results) == 5


def test_pack_without_fixtures_is_a_failed_result(tmp_path: Path) -> None:
    write_pack(tmp_path)
    (result,) = run_pack_tests(load_packs(["test-pack"], dirs=[tmp_path]))
    assert not result.passed
    assert "no test-pack.tests.yaml" in result.detail


def test_malformed_fixtures_raise_every_problem(tmp_path: Path) -> None:
    write_pack(tmp_path)
    (tmp_path / "test-pack.tests.yaml").write_text(
        "pack: test-pack\ncases:\n  - {rule: T-RULE-ONE, name: a, facts: {}, expect: fail, x: 1}\n"
        "  - {rule: T-RULE-ONE, name: b, facts: {crawler.dpiaa: 1}, expect: fail}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        run_pack_tests(load_packs(["test-pack"], dirs=[tmp_path]))
    assert [p.line for p in info.value.problems] == [3]  # structure is checked first
    assert "unknown key 'x'" in info.value.problems[0].message


# --------------------------------------------------------------------------- catalogue and docs


def test_fact_catalogue_api() -> None:
    assert fact_names()[0] == "crawler.name"
    assert FACTS["image.faces"].type == "int"
    assert FACTS["crawler.lawful_basis"].per_jurisdiction
    assert "consent" in FACTS["crawler.lawful_basis"].values
    assert FACTS["usage.ai-train"].values == ("allowed", "disallowed", "unknown")
    assert {spec.name for spec in facts_for(Subject.DECLARATION)} == {
        name for name in FACTS if name.startswith("crawler.")
    }
    assert "jurisdiction.UK" in {spec.name for spec in facts_for(Subject.SITE)}
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+", name) for name in FACTS)
    assert all(spec.description for spec in FACTS.values())


def test_docs_facts_md_is_generated_from_the_catalogue() -> None:
    committed = (ROOT / "docs" / "facts.md").read_text(encoding="utf-8")
    assert committed == render_fact_catalogue_markdown(), (
        "regenerate: python -c 'from auditor.policy import render_fact_catalogue_markdown as r;"
        ' print(r(), end="")\' > docs/facts.md'
    )


def test_docs_rules_md_embeds_the_operator_table() -> None:
    rules_md = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert render_operator_table_markdown() in rules_md


def test_json_schema_is_built_from_the_tables() -> None:
    schema = policy_json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    defs = schema["$defs"]
    catalogued, extra = defs["FactName"]["anyOf"]
    assert catalogued["enum"] == list(FACTS)
    assert re.match(extra["pattern"], "manifest.extra.caption")
    assert not re.match(extra["pattern"], "manifest.extra.")
    leaf_ops = {
        key
        for branch in defs["Condition"]["oneOf"]
        for key in branch["properties"]
        if key not in ("fact", "all", "any", "not")
    }
    assert leaf_ops == set(OPERATORS)
    rule_schema = defs["RuleSpec"]
    assert rule_schema["properties"]["fail_when"] == {"$ref": "#/$defs/Condition"}
    assert rule_schema["additionalProperties"] is False
    assert "x-policy-condition" not in str(schema)
