"""The jurisdiction scope gate (``auditor.policy.scope``, law.md section 4).

Each branch has a case that brings a rule into scope and one that keeps it out: declared
markets and establishments (with their aliases), per-severity thresholds, dataset shares,
unknown evidence (strictest, or baseline when declared), and the GLOBAL pack.
"""

from __future__ import annotations

from typing import Any

import pytest

from auditor.config import AuditConfig, JurisdictionThresholds
from auditor.model import Severity, Subject
from auditor.policy.scope import DEFAULT_THRESHOLDS, ScopeSettings, SubjectScope, scope_of

DEFAULT = ScopeSettings()


def decide(code: str, subject: Subject, severity: Severity, facts: dict[str, Any]) -> bool | None:
    return scope_of(code, subject, severity, facts, DEFAULT).in_scope


@pytest.mark.parametrize(
    ("code", "markets", "expected"),
    [
        pytest.param("UK", ["UK"], True, id="same-code"),
        pytest.param("UK", ["GB"], True, id="gb-is-uk"),
        pytest.param("EU", ["FR"], True, id="member-state-is-eu"),
        pytest.param("US-IL", ["US"], True, id="us-covers-states"),
        pytest.param("US", ["US-IL"], False, id="a-state-does-not-cover-the-us"),
        pytest.param("UK", ["EU"], False, id="other-market"),
        pytest.param("EU", ["CH"], False, id="non-member"),
    ],
)
def test_declared_markets_decide_declaration_rules(
    code: str, markets: list[str], expected: bool
) -> None:
    facts = {"crawler.markets": markets}
    assert decide(code, Subject.DECLARATION, Severity.HIGH, facts) is expected


def test_declared_markets_override_image_likelihoods() -> None:
    facts = {"crawler.markets": ["UK"], "jurisdiction.UK": 0.0}
    decision = scope_of("UK", Subject.IMAGE, Severity.MEDIUM, facts, DEFAULT)
    assert decision.in_scope is True
    assert decision.reason == "declared market UK"


def test_establishments_count_like_markets() -> None:
    facts = {"crawler.markets": ["US"], "crawler.establishments": ["IE"], "jurisdiction.EU": 0.0}
    assert decide("EU", Subject.IMAGE, Severity.LOW, facts) is True
    assert decide("EU", Subject.DECLARATION, Severity.LOW, facts) is True


@pytest.mark.parametrize("markets", [[], None], ids=["empty", "null"])
def test_declaration_without_markets_is_unknown(markets: list[str] | None) -> None:
    assert decide("UK", Subject.DECLARATION, Severity.HIGH, {"crawler.markets": markets}) is None


def test_baseline_default_leaves_unknown_to_the_global_pack() -> None:
    facts = {"crawler.markets": [], "crawler.unknown_jurisdiction_default": "baseline"}
    assert decide("UK", Subject.DECLARATION, Severity.HIGH, facts) is False
    assert decide("UK", Subject.IMAGE, Severity.CRITICAL, facts) is False
    facts["crawler.unknown_jurisdiction_default"] = "strictest"
    assert decide("UK", Subject.IMAGE, Severity.CRITICAL, facts) is None


@pytest.mark.parametrize(
    ("severity", "likelihood", "expected"),
    [
        pytest.param(Severity.CRITICAL, 0.05, True, id="critical-at-threshold"),
        pytest.param(Severity.CRITICAL, 0.049, False, id="critical-below"),
        pytest.param(Severity.HIGH, 0.1, True, id="high-at-threshold"),
        pytest.param(Severity.HIGH, 0.09, False, id="high-below"),
        pytest.param(Severity.MEDIUM, 0.25, True, id="medium-at-threshold"),
        pytest.param(Severity.MEDIUM, 0.2, False, id="medium-below"),
        pytest.param(Severity.INFO, 0.24, False, id="info-below"),
    ],
)
def test_image_likelihood_against_the_severity_threshold(
    severity: Severity, likelihood: float, expected: bool
) -> None:
    facts = {"crawler.markets": ["US"], "jurisdiction.UK": likelihood}
    assert decide("UK", Subject.IMAGE, severity, facts) is expected


def test_image_without_evidence_is_unknown_even_with_other_markets() -> None:
    facts = {"crawler.markets": ["US"]}
    decision = scope_of("UK", Subject.IMAGE, Severity.HIGH, facts, DEFAULT)
    assert decision.in_scope is None
    assert "strictest" in decision.reason


def test_dataset_rules_read_the_expected_share() -> None:
    facts = {"crawler.markets": ["US"], "dataset.jurisdiction.EU": 0.06}
    assert decide("EU", Subject.DATASET, Severity.CRITICAL, facts) is True
    assert decide("EU", Subject.DATASET, Severity.HIGH, facts) is False
    # the per-image fact does not stand in for the dataset share
    assert decide("EU", Subject.DATASET, Severity.HIGH, {"jurisdiction.EU": 0.9}) is None


def test_global_packs_have_no_gate() -> None:
    facts = {"crawler.markets": ["US"], "jurisdiction.UK": 0.0}
    assert decide("GLOBAL", Subject.IMAGE, Severity.LOW, facts) is True


def test_configured_thresholds_change_the_gate() -> None:
    strict = ScopeSettings({Severity.HIGH: 0.5})
    facts = {"crawler.markets": ["US"], "jurisdiction.UK": 0.3}
    assert scope_of("UK", Subject.IMAGE, Severity.HIGH, facts, strict).in_scope is False
    # severities the mapping leaves out fall back to the defaults
    assert strict.threshold(Severity.CRITICAL) == DEFAULT_THRESHOLDS[Severity.CRITICAL]


def test_booleans_are_not_likelihoods() -> None:
    facts = {"crawler.markets": ["US"], "jurisdiction.UK": True}
    assert decide("UK", Subject.IMAGE, Severity.CRITICAL, facts) is None


def test_audit_yaml_defaults_match_the_engine_defaults() -> None:
    configured = AuditConfig().jurisdiction_thresholds.model_dump()
    assert {Severity(k): v for k, v in configured.items()} == dict(DEFAULT_THRESHOLDS)
    assert set(JurisdictionThresholds.model_fields) == {s.value for s in Severity}


@pytest.mark.parametrize(
    "facts",
    [
        {"crawler.markets": ["US"], "jurisdiction.UK": 0.07, "jurisdiction.EU": 0.3},
        {"crawler.markets": ["GB"], "jurisdiction.EU": 0.0},
        {"crawler.markets": [], "jurisdiction.UK": 0.2},
        {"crawler.unknown_jurisdiction_default": "baseline"},
        {"crawler.markets": ["US"], "dataset.jurisdiction.EU": 0.06, "jurisdiction.EU": 0.9},
    ],
    ids=["likelihoods", "declared", "no-markets", "baseline", "dataset-share"],
)
@pytest.mark.parametrize("subject", list(Subject))
def test_one_subject_scope_decides_every_rule_as_a_fresh_gate(
    facts: dict[str, Any], subject: Subject
) -> None:
    """The evaluator shares one SubjectScope between a subject's rules: reuse changes nothing."""
    settings = ScopeSettings({Severity.HIGH: 0.15})
    gate = SubjectScope(subject, facts, settings)
    codes = ("UK", "EU", "US-IL", "GLOBAL")
    for _ in range(2):  # the second pass answers from what the first decided
        for code in codes:
            for severity in Severity:
                fresh = scope_of(code, subject, severity, facts, settings)
                assert gate.decide(code, severity) == fresh
