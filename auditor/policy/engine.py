"""Evaluate compiled rules against one subject's facts.

The order of law.md section 1, with Kleene conditions (``None`` is UNKNOWN):

0. the pack's jurisdiction scope gate (:mod:`auditor.policy.scope`): FALSE -> ``not_applicable``;
   UNKNOWN (no jurisdiction evidence: strictest) -> evaluate, marked like an unknown gate;
1. ``applies_when`` FALSE -> ``not_applicable``; UNKNOWN -> evaluate anyway (precautionary) and
   record ``"applicability": "unknown"`` in the evidence;
2. ``fail_when`` TRUE -> ``fail``; UNKNOWN -> ``on_missing``;
3. ``review_when`` TRUE -> ``review``; UNKNOWN -> ``on_missing``;
4. ``pass_when`` absent or TRUE -> ``pass``; FALSE -> ``review``; UNKNOWN -> ``on_missing``.

So a rule never passes unless ``fail_when`` is definitively FALSE. Evaluation objects are
stateless and frozen: the same :class:`PolicySet` can serve many threads or processes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from auditor.model import FINDING_OUTCOMES, Finding, Outcome, Severity, Subject, frozen_map
from auditor.policy.compiler import Compiled, FactGetter, Facts
from auditor.policy.operators import MISSING
from auditor.policy.scope import ScopeDecision, ScopeSettings, SubjectScope
from auditor.policy.templates import Template

__all__ = [
    "Escalation",
    "Pack",
    "PolicySet",
    "Rule",
    "RuleResult",
    "Source",
    "SubjectResult",
    "evaluate",
    "evaluate_rule",
    "fingerprint",
]


@dataclass(frozen=True)
class Escalation:
    """Raise the rule's severity to ``severity`` when ``when`` is TRUE."""

    when: Compiled
    severity: Severity


@dataclass(frozen=True)
class Rule:
    """A compiled rule, ready to evaluate."""

    id: str
    title: str
    subject: Subject
    severity: Severity
    references: tuple[str, ...]
    tags: tuple[str, ...]
    jurisdiction_gate: bool  # False: the rule's own applies_when alone decides its reach
    applies_when: Compiled | None
    fail_when: Compiled
    review_when: Compiled | None
    pass_when: Compiled | None
    on_missing: Outcome
    escalate: tuple[Escalation, ...]
    message: Template
    review_message: Template | None
    remediation: str
    pack: str
    jurisdiction: str
    file: str
    line: int | None
    #: Facts the conditions read, with their readers, in order of first use.
    readers: tuple[tuple[str, FactGetter], ...] = field(repr=False, compare=False)

    @property
    def facts(self) -> tuple[str, ...]:
        """Names of the facts the rule's conditions read."""
        return tuple(name for name, _ in self.readers)

    @property
    def conditions(self) -> tuple[tuple[str, Compiled], ...]:
        """The rule's conditions by role, in evaluation order."""
        roles = (
            ("applies_when", self.applies_when),
            ("fail_when", self.fail_when),
            ("review_when", self.review_when),
            ("pass_when", self.pass_when),
        )
        return tuple((role, cond) for role, cond in roles if cond is not None)


@dataclass(frozen=True)
class Source:
    """A pack source: URL and, when known, the date it was retrieved."""

    url: str
    retrieved: date | None = None


@dataclass(frozen=True)
class Pack:
    """A loaded policy pack."""

    name: str
    title: str
    jurisdiction: str
    version: str
    status: str
    sources: tuple[Source, ...]
    effective_from: date | None
    rules: tuple[Rule, ...]
    file: str
    sha256: str


@dataclass(frozen=True)
class PolicySet:
    """The packs an audit evaluates, and a digest of their files for the run record."""

    packs: tuple[Pack, ...]
    digest: str
    _by_subject: Mapping[Subject, tuple[Rule, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        index = {
            s: tuple(r for p in self.packs for r in p.rules if r.subject is s) for s in Subject
        }
        object.__setattr__(self, "_by_subject", index)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule of every pack, in pack order."""
        return tuple(rule for pack in self.packs for rule in pack.rules)

    def rules_for(self, subject: Subject) -> tuple[Rule, ...]:
        """Return the rules evaluated for ``subject``, in pack order."""
        return self._by_subject.get(subject, ())


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome for one subject, before it becomes a finding."""

    outcome: Outcome
    severity: Severity
    reason: str  # fail | review | missing | pass | not_applicable
    applicability_unknown: bool


@dataclass(frozen=True)
class SubjectResult:
    """Findings for one subject and the outcome of every rule, passes included."""

    findings: tuple[Finding, ...]
    outcomes: tuple[tuple[str, str, Outcome], ...]


def fingerprint(rule_id: str, subject: Subject | str, key: str) -> str:
    """Stable identity of a finding: rule, subject kind and subject key, never position."""
    return _fingerprint(rule_id, Subject(subject).value, key)


def _fingerprint(rule_id: str, subject: str, key: str) -> str:
    text = f"{rule_id}\x1f{subject}\x1f{key}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


_RANK: Mapping[Severity, int] = {severity: severity.rank for severity in Severity}


def _severity(rule: Rule, facts: Facts) -> Severity:
    severity = rule.severity
    for step in rule.escalate:
        if _RANK[step.severity] > _RANK[severity] and step.when.test(facts) is True:
            severity = step.severity
    return severity


def _verdict(rule: Rule, facts: Facts) -> tuple[Outcome, str]:
    failed = rule.fail_when.test(facts)
    if failed is None:
        return rule.on_missing, "missing"
    if failed:
        return Outcome.FAIL, "fail"
    review = rule.review_when.test(facts) if rule.review_when is not None else False
    if review is None:
        return rule.on_missing, "missing"
    if review:
        return Outcome.REVIEW, "review"
    passed = rule.pass_when.test(facts) if rule.pass_when is not None else True
    if passed is None:
        return rule.on_missing, "missing"
    return (Outcome.PASS, "pass") if passed else (Outcome.REVIEW, "review")


_DEFAULT_SCOPE = ScopeSettings()


@dataclass(frozen=True)
class _Decision:
    outcome: Outcome
    reason: str  # fail | review | missing | pass | not_applicable
    unknown_gate: bool
    scope: str


_NO_GATE = ScopeDecision(True, "the rule's applies_when decides its reach")


def _decide(rule: Rule, facts: Facts, gate: SubjectScope) -> _Decision:
    """Scope gate, then ``applies_when``, then the verdict (see the module docstring).

    ``gate`` is shared by all of the subject's rules, so each scope decision is made once.
    """
    scope = gate.decide(rule.jurisdiction, rule.severity) if rule.jurisdiction_gate else _NO_GATE
    if scope.in_scope is False:
        return _Decision(Outcome.NOT_APPLICABLE, "not_applicable", False, scope.reason)
    unknown_gate = scope.in_scope is None
    if rule.applies_when is not None:
        applies = rule.applies_when.test(facts)
        if applies is False:
            return _Decision(Outcome.NOT_APPLICABLE, "not_applicable", False, scope.reason)
        unknown_gate = unknown_gate or applies is None
    outcome, reason = _verdict(rule, facts)
    return _Decision(outcome, reason, unknown_gate, scope.reason)


def evaluate_rule(rule: Rule, facts: Facts, settings: ScopeSettings = _DEFAULT_SCOPE) -> RuleResult:
    """Evaluate one rule on one subject's facts."""
    decision = _decide(rule, facts, SubjectScope(rule.subject, facts, settings))
    return RuleResult(
        decision.outcome, _severity(rule, facts), decision.reason, decision.unknown_gate
    )


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: object) -> Any:
    if type(value) in _SCALARS:
        return value
    if isinstance(value, bool | int | float | str):  # subclasses, e.g. StrEnum verdicts
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return str(value)


def _evidence(rule: Rule, facts: Facts, decision: _Decision) -> dict[str, Any]:
    evidence: dict[str, Any] = {}
    missing: list[str] = []
    for name, read in rule.readers:
        value = read(facts)
        if value is MISSING:
            missing.append(name)
        else:
            evidence[name] = _jsonable(value)
    if missing:
        evidence["missing"] = missing
    if decision.unknown_gate:
        evidence["applicability"] = "unknown"
    evidence["scope"] = decision.scope
    return evidence


def _blocking_facts(rule: Rule, facts: Facts) -> list[str]:
    """List the missing facts of the first condition that came out UNKNOWN."""
    readers = dict(rule.readers)
    for cond in (rule.fail_when, rule.review_when, rule.pass_when):
        if cond is not None and cond.test(facts) is None:
            return [name for name in cond.facts if readers[name](facts) is MISSING]
    return []


def _message(rule: Rule, facts: Facts, reason: str) -> str:
    if reason == "fail":
        return rule.message.render(facts)
    if reason == "review":
        if rule.review_message is not None:
            return rule.review_message.render(facts)
        return f"Needs human review: {rule.title}."
    missing = _blocking_facts(rule, facts)
    if missing:
        return f"Cannot decide '{rule.title}': missing facts {', '.join(missing)}."
    return f"Cannot decide '{rule.title}': needed facts are null or not comparable."


def evaluate(
    policy: PolicySet,
    subject: Subject,
    facts: Mapping[str, object],
    *,
    key: str,
    image_url: str | None = None,
    page_url: str | None = None,
    site: str | None = None,
    scope: ScopeSettings = _DEFAULT_SCOPE,
) -> SubjectResult:
    """Evaluate every rule for ``subject``; ``key`` identifies the subject (URL, sha256 ...)."""
    subject = Subject(subject)
    findings: list[Finding] = []
    outcomes: list[tuple[str, str, Outcome]] = []
    gate = SubjectScope(subject, facts, scope)
    for rule in policy.rules_for(subject):
        decision = _decide(rule, facts, gate)
        outcome, reason = decision.outcome, decision.reason
        outcomes.append((rule.pack, rule.id, outcome))
        if outcome not in FINDING_OUTCOMES:
            continue
        evidence = _evidence(rule, facts, decision)
        findings.append(
            Finding(
                rule_id=rule.id,
                pack=rule.pack,
                jurisdiction=rule.jurisdiction,
                outcome=outcome,
                severity=_severity(rule, facts),
                subject=subject,
                message=_message(rule, facts, reason),
                references=rule.references,
                evidence=frozen_map(evidence),
                fingerprint=_fingerprint(rule.id, subject.value, key),
                title=rule.title,
                remediation=rule.remediation,
                image_url=image_url,
                page_url=page_url,
                site=site,
            )
        )
    return SubjectResult(tuple(findings), tuple(outcomes))
