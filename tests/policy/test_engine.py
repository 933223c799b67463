from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from auditor.errors import PolicyError
from auditor.model import FINDING_OUTCOMES, Outcome, Severity, Subject
from auditor.policy import (
    PolicySet,
    evaluate,
    evaluate_rule,
    explain,
    fingerprint,
    load_packs,
)
from auditor.policy.engine import Rule

from . import load_rules, pack_text, rule, write_pack

ORDER_RULE = rule(
    "T-ORDER",
    subject="image",
    applies_when={"fact": "jurisdiction.UK", "gte": 0.1},
    fail_when={"fact": "image.gps", "eq": True},
    review_when={"fact": "image.camera_serial", "eq": True},
    pass_when={"fact": "image.faces", "eq": 0},
    message="{image.url} has GPS",
)


@pytest.fixture
def order_policy(tmp_path: Path) -> PolicySet:
    return load_rules(tmp_path, ORDER_RULE)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"jurisdiction.UK": 0.0, "image.gps": True}, Outcome.NOT_APPLICABLE),
        ({"image.gps": True}, Outcome.FAIL),  # applicability unknown: evaluated anyway
        ({"jurisdiction.UK": 0.9, "image.gps": True}, Outcome.FAIL),
        ({"jurisdiction.UK": 0.9}, Outcome.INSUFFICIENT_DATA),
        ({"jurisdiction.UK": 0.9, "image.gps": None}, Outcome.INSUFFICIENT_DATA),
        ({"jurisdiction.UK": 0.9, "image.gps": False, "image.camera_serial": True}, Outcome.REVIEW),
        ({"jurisdiction.UK": 0.9, "image.gps": False}, Outcome.INSUFFICIENT_DATA),
        ({"jurisdiction.UK": 0.9, "image.gps": False, "image.camera_serial": False,
          "image.faces": 0}, Outcome.PASS),
        ({"jurisdiction.UK": 0.9, "image.gps": False, "image.camera_serial": False,
          "image.faces": 3}, Outcome.REVIEW),
        ({"jurisdiction.UK": 0.9, "image.gps": False, "image.camera_serial": False},
         Outcome.INSUFFICIENT_DATA),
    ],
)  # fmt: skip
def test_outcome_order(order_policy: PolicySet, facts: dict[str, Any], expected: Outcome) -> None:
    (the_rule,) = order_policy.rules
    assert evaluate_rule(the_rule, facts).outcome is expected


def test_on_missing_review(tmp_path: Path) -> None:
    policy = load_rules(tmp_path, {**ORDER_RULE, "on_missing": "review"})
    assert evaluate_rule(policy.rules[0], {}).outcome is Outcome.REVIEW


def test_no_pass_when_means_pass_once_fail_and_review_are_false(tmp_path: Path) -> None:
    simple = {key: value for key, value in ORDER_RULE.items() if key != "pass_when"}
    policy = load_rules(tmp_path, simple)
    facts = {"image.gps": False, "image.camera_serial": False}
    assert evaluate_rule(policy.rules[0], facts).outcome is Outcome.PASS


def _gated_on_presence(rule: Rule) -> bool:
    """Whether the rule applies only where a fact is present (a mode-specific fact)."""
    applies = dict(rule.conditions).get("applies_when")
    return applies is not None and "is present" in applies.text


def test_shipped_rules_never_pass_without_facts() -> None:
    # Not applicable is allowed only where the author gated the rule on a fact being present
    # (``exists: true``): e.g. live signals, which only a manifest audit with --refetch reads.
    policy = load_packs()
    not_applicable = []
    for each in policy.rules:
        outcome = evaluate_rule(each, {}).outcome
        if outcome is Outcome.NOT_APPLICABLE and _gated_on_presence(each):
            not_applicable.append(each.id)
        else:
            assert outcome in FINDING_OUTCOMES, each.id
    assert not_applicable == ["EU-DSM-A04-3-RESERVED-SINCE-COLLECTION"]


def test_findings_and_outcomes(order_policy: PolicySet) -> None:
    facts = {"jurisdiction.UK": 0.9, "image.gps": True, "image.url": "https://a.example/1.jpg"}
    result = evaluate(order_policy, Subject.IMAGE, facts, key="https://a.example/1.jpg",
                      image_url="https://a.example/1.jpg", page_url="https://a.example/",
                      site="https://a.example")  # fmt: skip
    (finding,) = result.findings
    assert result.outcomes == (("test-pack", "T-ORDER", Outcome.FAIL),)
    assert finding.rule_id == "T-ORDER"
    assert finding.pack == "test-pack"
    assert finding.jurisdiction == "UK"
    assert finding.outcome is Outcome.FAIL
    assert finding.severity is Severity.HIGH
    assert finding.subject is Subject.IMAGE
    assert finding.message == "https://a.example/1.jpg has GPS"
    assert finding.references == ("Test Art. 1",)
    assert finding.title == "A test rule"
    assert finding.remediation == "Write one."
    assert (finding.image_url, finding.page_url, finding.site) == (
        "https://a.example/1.jpg", "https://a.example/", "https://a.example"
    )  # fmt: skip


def test_passes_are_counted_not_reported(order_policy: PolicySet) -> None:
    facts = {"jurisdiction.UK": 0.9, "image.gps": False, "image.camera_serial": False,
             "image.faces": 0}  # fmt: skip
    result = evaluate(order_policy, Subject.IMAGE, facts, key="k")
    assert result.findings == ()
    assert result.outcomes == (("test-pack", "T-ORDER", Outcome.PASS),)
    assert evaluate(order_policy, Subject.DECLARATION, facts, key="k").outcomes == ()


def test_evidence_lists_referenced_facts_missing_ones_and_unknown_applicability(
    order_policy: PolicySet,
) -> None:
    facts = {"image.gps": True, "image.faces": 2, "image.url": "u", "crawler.name": "x"}
    (finding,) = evaluate(order_policy, Subject.IMAGE, facts, key="u").findings
    assert dict(finding.evidence) == {
        "image.gps": True,
        "image.faces": 2,
        "missing": ["jurisdiction.UK", "image.camera_serial"],
        "applicability": "unknown",
        "scope": "no jurisdiction evidence; unknown jurisdiction is judged by the strictest pack",
    }
    json.dumps(dict(finding.evidence))


def test_insufficient_data_message_names_the_missing_facts(order_policy: PolicySet) -> None:
    (finding,) = evaluate(order_policy, Subject.IMAGE, {"jurisdiction.UK": 1.0}, key="k").findings
    assert finding.outcome is Outcome.INSUFFICIENT_DATA
    assert finding.message == "Cannot decide 'A test rule': missing facts image.gps."
    assert finding.evidence["missing"] == ["image.gps", "image.camera_serial", "image.faces"]
    assert "applicability" not in finding.evidence


def test_templates(tmp_path: Path) -> None:
    templated = rule(
        fail_when={"fact": "crawler.purposes", "contains": "tdm"},
        message="{{literal}} {crawler.name} for {crawler.purposes}; dpia {crawler.dpia}; "
        "photo {crawler.optout_requires_photo}; days {crawler.retention_days}",
        review_when={"fact": "crawler.dpia", "is_null": True},
        review_message="Review {crawler.name}",
    )
    policy = load_rules(tmp_path, templated)
    facts: dict[str, Any] = {"crawler.purposes": ["tdm", "search"], "crawler.dpia": None,
                             "crawler.optout_requires_photo": False}  # fmt: skip
    (finding,) = evaluate(policy, Subject.DECLARATION, facts, key="d").findings
    assert finding.message == (
        "{literal} unknown for tdm, search; dpia not provided; photo no; days unknown"
    )
    facts["crawler.purposes"] = ["search"]
    (finding,) = evaluate(policy, Subject.DECLARATION, facts, key="d").findings
    assert (finding.outcome, finding.message) == (Outcome.REVIEW, "Review unknown")


def test_template_values_are_capped(tmp_path: Path) -> None:
    policy = load_rules(tmp_path, rule(message="{crawler.name}"))
    facts = {"crawler.dpia": None, "crawler.name": "x" * 5000}
    (finding,) = evaluate(policy, Subject.DECLARATION, facts, key="d").findings
    assert len(finding.message) == 300


def test_per_jurisdiction_lawful_basis(tmp_path: Path) -> None:
    basis_rule = {"fail_when": {"fact": "crawler.lawful_basis", "in": [None, "none"]},
                  "message": "basis {crawler.lawful_basis}"}  # fmt: skip
    write_pack(tmp_path, "uk", pack_text("uk", [rule("UK-BASIS", **basis_rule)]))
    write_pack(tmp_path, "eu", pack_text("eu", [rule("EU-BASIS", **basis_rule)],
                                         jurisdiction="EU"))  # fmt: skip
    policy = load_packs(["uk", "eu"], dirs=[tmp_path])
    facts = {"crawler.lawful_basis": {"UK": "legitimate-interests", "EU": "none"}}
    result = evaluate(policy, Subject.DECLARATION, facts, key="d")
    assert result.outcomes == (("uk", "UK-BASIS", Outcome.PASS), ("eu", "EU-BASIS", Outcome.FAIL))
    (finding,) = result.findings
    assert finding.jurisdiction == "EU"
    assert finding.message == "basis none"
    assert finding.evidence["crawler.lawful_basis"] == "none"
    only_eu = evaluate(policy, Subject.DECLARATION, {"crawler.lawful_basis": {"EU": "consent"}},
                       key="d")  # fmt: skip
    assert only_eu.outcomes[0] == ("uk", "UK-BASIS", Outcome.FAIL)  # missing entry -> null


def test_escalate(tmp_path: Path) -> None:
    escalating = rule(
        severity="medium",
        escalate=[
            {"when": {"fact": "crawler.sells_access", "eq": True}, "severity": "high"},
            {"when": {"fact": "crawler.purposes", "contains": "facial-recognition"},
             "severity": "critical"},
        ],
    )  # fmt: skip
    the_rule = load_rules(tmp_path, escalating).rules[0]
    base = {"crawler.dpia": None}
    assert evaluate_rule(the_rule, base).severity is Severity.MEDIUM  # unknown never escalates
    assert evaluate_rule(the_rule, {**base, "crawler.sells_access": True}).severity is (
        Severity.HIGH
    )
    both = {**base, "crawler.sells_access": True, "crawler.purposes": ["facial-recognition"]}
    assert evaluate_rule(the_rule, both).severity is Severity.CRITICAL
    assert "crawler.purposes" in the_rule.facts


def test_fingerprint_is_identity_not_position(order_policy: PolicySet) -> None:
    expected = hashlib.sha256(b"T-ORDER\x1fimage\x1fhttps://a.example/1.jpg").hexdigest()[:32]
    assert fingerprint("T-ORDER", Subject.IMAGE, "https://a.example/1.jpg") == expected
    assert fingerprint("T-ORDER", "image", "k") == "ed3cd5987b9b1065e91ebf634bf26cff"
    one = {"image.gps": True, "jurisdiction.UK": 1.0}
    two = {"jurisdiction.UK": 1.0, "image.url": "x", "image.gps": True}
    first = evaluate(order_policy, Subject.IMAGE, one, key="https://a.example/1.jpg").findings
    second = evaluate(order_policy, Subject.IMAGE, two, key="https://a.example/1.jpg").findings
    assert first[0].fingerprint == second[0].fingerprint == expected
    other = evaluate(order_policy, Subject.IMAGE, one, key="https://a.example/2.jpg").findings
    assert other[0].fingerprint != expected
    assert len({fingerprint("R-A", s, "k") for s in Subject}) == len(Subject)


def test_explain() -> None:
    policy = load_packs(["uk-gdpr"])
    info = explain(policy, "UK-GDPR-A05-1E-RETENTION-EXPIRED")
    assert info.pack == "uk-gdpr"
    assert info.severity is Severity.HIGH
    assert info.references == ("UK GDPR Art. 5(1)(e)",)
    roles = dict(info.conditions)
    assert roles["fail_when"] == (
        "all of:\n  - crawler.retention_days is not null\n"
        "  - image.age_days > crawler.retention_days"
    )
    assert roles["applies_when"] == (
        "any of:\n  - crawler.retention_days is not null\n  - manifest.key is present"
    )
    assert roles["review_when"] == "crawler.retention_days is null"
    assert "jurisdiction.UK reaches the high threshold" in info.scope
    assert info.escalate[0][0] is Severity.CRITICAL
    assert {name for name, _, _ in info.facts} >= {"image.age_days", "crawler.retention_days"}
    assert info.file.endswith("uk-gdpr.yaml")
    assert info.line is not None
    text = info.to_text()
    assert text.startswith("UK-GDPR-A05-1E-RETENTION-EXPIRED: ")
    assert f"source: {info.file}:{info.line}" in text
    assert "  scope: UK is a declared market or establishment" in text


def test_explain_unknown_rule_suggests() -> None:
    with pytest.raises(PolicyError, match="did you mean 'UK-GDPR-A35-DPIA'"):
        explain(load_packs(["uk-gdpr"]), "UK-GDPR-A35-DPAI")


def test_rules_of_one_pack_get_the_scope_of_their_own_severity(tmp_path: Path) -> None:
    """The scope gate is shared between a subject's rules only where its inputs are the same."""
    gated = {"fail_when": {"fact": "image.gps", "eq": True}, "message": "gps"}
    policy = load_rules(
        tmp_path,
        rule("T-CRIT", subject="image", severity="critical", **gated),
        rule("T-LOW", subject="image", severity="low", **gated),
        rule("T-CRIT-TOO", subject="image", severity="critical", **gated),
    )
    facts = {"jurisdiction.UK": 0.1, "image.gps": True}  # over 0.05 (critical), under 0.25 (low)
    result = evaluate(policy, Subject.IMAGE, facts, key="i")
    assert [outcome for _, _, outcome in result.outcomes] == [
        Outcome.FAIL,
        Outcome.NOT_APPLICABLE,
        Outcome.FAIL,
    ]
    assert [evaluate_rule(each, facts).outcome for each in policy.rules] == [
        Outcome.FAIL,
        Outcome.NOT_APPLICABLE,
        Outcome.FAIL,
    ]
