"""Property tests: conditions never raise, and missing facts never make compliance look better."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.model import FINDING_OUTCOMES, Outcome, Severity, Subject
from auditor.policy import FACTS, OPERATORS, FactType, evaluate_rule
from auditor.policy.compiler import Compiled, compile_expression
from auditor.policy.engine import Rule
from auditor.policy.facts import LAWFUL_BASES, PURPOSES
from auditor.policy.templates import Template

FACT_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "image.gps": st.booleans(),
    "image.camera_serial": st.booleans(),
    "image.faces": st.integers(0, 4),
    "image.age_days": st.floats(0, 100, allow_nan=False),
    "crawler.retention_days": st.integers(0, 60),
    "jurisdiction.UK": st.floats(0, 1, allow_nan=False),
    "crawler.purposes": st.lists(st.sampled_from(PURPOSES), max_size=3),
    "crawler.lawful_basis": st.sampled_from(LAWFUL_BASES),
    "crawler.dpia": st.sampled_from(["docs/dpia.pdf", ""]),
    "usage.ai-train": st.sampled_from(["allowed", "disallowed", "unknown"]),
    "image.url": st.sampled_from(["https://a.example/x.jpg", "https://b.example/y.png"]),
    "image.collected_at": st.sampled_from(["2024-05-01T00:00:00Z", "2026-01-01", "junk"]),
}
VALID_OPERANDS = {"image.collected_at": st.sampled_from(["2024-05-01T00:00:00Z", "2026-01-01"])}
JUNK = st.sampled_from(["junk", 7, 2.5, True, [1, "a"], {"k": "v"}, ()])
NUMERIC = ["image.faces", "image.age_days", "crawler.retention_days", "jurisdiction.UK"]


def fact_value(name: str) -> st.SearchStrategy[Any]:
    base = FACT_VALUES[name]
    if name == "crawler.lawful_basis":
        per_jurisdiction = st.dictionaries(st.sampled_from(["UK", "EU"]), base, max_size=2)
        base = st.one_of(base, per_jurisdiction)
    return st.one_of(base, st.none(), JUNK)


@st.composite
def fact_maps(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(sorted(FACT_VALUES)), unique=True))
    return {name: draw(fact_value(name)) for name in names}


def list_operand(draw: st.DrawFn, op: str) -> Any:
    item = st.sampled_from(PURPOSES)
    if op == "contains":
        return draw(item)
    if op in ("contains_any", "contains_all"):
        return draw(st.lists(item, min_size=1, max_size=3))
    return draw(st.lists(item, max_size=2))  # eq / ne


def ordering_operand(draw: st.DrawFn, name: str) -> Any:
    if FACTS[name].type is FactType.DATETIME:
        return draw(st.sampled_from(["2025-02-02T00:00:00Z", "2025-01-01"]))
    others = st.sampled_from([n for n in NUMERIC if n != name])
    return draw(st.one_of(st.integers(0, 60), st.builds(lambda n: {"fact": n}, others)))


def operand(draw: st.DrawFn, name: str, op: str) -> Any:
    """Draw an operand that the loader accepts for ``op`` on fact ``name``."""
    value = VALID_OPERANDS.get(name, FACT_VALUES[name])
    special: dict[str, st.SearchStrategy[Any]] = {
        "is_null": st.booleans(),
        "exists": st.booleans(),
        "is_empty": st.booleans(),
        "matches": st.sampled_from([r"\.jpg$", "^https://", "doc", "^$"]),
        "in": st.lists(st.one_of(value, st.none()), min_size=1, max_size=3),
        "not_in": st.lists(st.one_of(value, st.none()), min_size=1, max_size=3),
        "contains": st.sampled_from(["a", "jpg", "doc"]),
    }
    if op in ("gt", "gte", "lt", "lte"):
        return ordering_operand(draw, name)
    if FACTS[name].type is FactType.LIST and op not in ("is_null", "exists", "is_empty"):
        return list_operand(draw, op)
    return draw(special.get(op, st.one_of(value, st.none())))


@st.composite
def leaves(draw: st.DrawFn, with_exists: bool) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(FACT_VALUES)))
    spec = FACTS[name]
    ops = [op for op in OPERATORS.values() if spec.type in op.fact_types]
    if not with_exists:
        ops = [op for op in ops if op.name != "exists"]
    op = draw(st.sampled_from([o.name for o in ops]))
    return {"fact": name, op: operand(draw, name, op)}


def conditions(with_exists: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        leaves(with_exists),
        lambda children: st.one_of(
            st.builds(lambda xs: {"all": xs}, st.lists(children, min_size=1, max_size=3)),
            st.builds(lambda xs: {"any": xs}, st.lists(children, min_size=1, max_size=3)),
            st.builds(lambda x: {"not": x}, children),
        ),
        max_leaves=8,
    )


def compile_(raw: dict[str, Any]) -> Compiled:
    return compile_expression(raw, Subject.IMAGE, jurisdiction="UK")


@st.composite
def subsets(draw: st.DrawFn, facts: dict[str, Any]) -> dict[str, Any]:
    keep = draw(st.lists(st.sampled_from(sorted(facts)), unique=True)) if facts else []
    return {name: facts[name] for name in keep}


@settings(max_examples=150, deadline=None)
@given(conditions(), fact_maps())
def test_conditions_never_raise(raw: dict[str, Any], facts: dict[str, Any]) -> None:
    assert compile_(raw).test(facts) in (True, False, None)


@settings(max_examples=150, deadline=None)
@given(conditions(with_exists=False), fact_maps(), st.data())
def test_removing_facts_only_makes_conditions_unknown(
    raw: dict[str, Any], facts: dict[str, Any], data: st.DataObject
) -> None:
    compiled = compile_(raw)
    full = compiled.test(facts)
    partial = compiled.test(data.draw(subsets(facts)))
    assert partial is None or partial is full


def make_rule(applies: Compiled | None, fail: Compiled, review: Compiled | None,
              passes: Compiled | None, on_missing: Outcome) -> Rule:  # fmt: skip
    return Rule(
        id="P-RULE", title="p", subject=Subject.IMAGE, severity=Severity.HIGH, references=("x",),
        tags=(), jurisdiction_gate=False, applies_when=applies, fail_when=fail,
        review_when=review, pass_when=passes, on_missing=on_missing, escalate=(),
        message=Template("m", ("m",)), review_message=None, remediation="r", pack="p",
        jurisdiction="UK", file="p.yaml", line=1, readers=(),
    )  # fmt: skip


def optional(raw: dict[str, Any] | None) -> Compiled | None:
    return compile_(raw) if raw is not None else None


rules = st.builds(
    lambda applies, fail, review, passes, on_missing: make_rule(
        optional(applies), compile_(fail), optional(review), optional(passes), on_missing
    ),
    st.one_of(st.none(), conditions(False)),
    conditions(False),
    st.one_of(st.none(), conditions(False)),
    st.one_of(st.none(), conditions(False)),
    st.sampled_from([Outcome.INSUFFICIENT_DATA, Outcome.REVIEW]),
)


@settings(max_examples=150, deadline=None)
@given(rules, fact_maps(), st.data())
def test_missing_facts_never_turn_a_finding_into_a_pass(
    the_rule: Rule, facts: dict[str, Any], data: st.DataObject
) -> None:
    full = evaluate_rule(the_rule, facts).outcome
    partial = evaluate_rule(the_rule, data.draw(subsets(facts))).outcome
    if full in FINDING_OUTCOMES:
        assert partial in FINDING_OUTCOMES
    assert evaluate_rule(the_rule, {}).outcome is not Outcome.PASS
