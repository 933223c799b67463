"""The policy engine: YAML packs of rules, compiled once, evaluated per subject.

Public API::

    policy = load_packs(["uk-gdpr"])                   # PolicySet; PolicyError lists all problems
    result = evaluate(policy, Subject.IMAGE, facts, key=image_url, image_url=image_url)
    result.findings                                     # fail / review / insufficient_data
    result.outcomes                                     # (pack, rule_id, outcome) for every rule
    explain(policy, "UK-GDPR-A35-DPIA").to_text()
    run_pack_tests(policy)                              # the packs' *.tests.yaml fixtures
    validate_files([Path("policies/uk-gdpr.yaml")])     # list of problems, never raises
    policy_json_schema()                                # JSON Schema of a pack file

Facts are a flat ``Mapping[str, object]`` keyed by the dotted paths of the fact catalogue
(:data:`FACTS`, ``docs/facts.md``); an absent key is unknown, a ``None`` value is "not
provided". Modules: :mod:`.facts` (catalogue), :mod:`.operators` (operator table),
:mod:`.compiler` (conditions to callables), :mod:`.templates` (messages, explanations),
:mod:`.schema` (pydantic models, JSON Schema), :mod:`.loader`, :mod:`.engine`,
:mod:`.packtests`.
"""

from __future__ import annotations

from auditor.policy.engine import (
    Pack,
    PolicySet,
    Rule,
    RuleResult,
    SubjectResult,
    evaluate,
    evaluate_rule,
    fingerprint,
)
from auditor.policy.facts import (
    FACTS,
    FactSpec,
    FactType,
    fact_names,
    facts_for,
    render_fact_catalogue_markdown,
)
from auditor.policy.loader import available_packs, default_policy_dirs, load_packs, validate_files
from auditor.policy.operators import OPERATORS, render_operator_table_markdown
from auditor.policy.packtests import PackTestResult, run_pack_tests
from auditor.policy.schema import policy_json_schema
from auditor.policy.templates import RuleExplanation, explain

__all__ = [
    "FACTS",
    "OPERATORS",
    "FactSpec",
    "FactType",
    "Pack",
    "PackTestResult",
    "PolicySet",
    "Rule",
    "RuleExplanation",
    "RuleResult",
    "SubjectResult",
    "available_packs",
    "default_policy_dirs",
    "evaluate",
    "evaluate_rule",
    "explain",
    "fact_names",
    "facts_for",
    "fingerprint",
    "load_packs",
    "policy_json_schema",
    "render_fact_catalogue_markdown",
    "render_operator_table_markdown",
    "run_pack_tests",
    "validate_files",
]
