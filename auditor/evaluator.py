"""Evaluate subjects against the loaded packs, counting every outcome per rule.

Used by the crawl (:mod:`auditor.recorder`), by ``check --from-db`` (:mod:`auditor.reevaluate`)
and by ``check --declaration-only``; kept apart from the recorder so the declaration-only gate
does not import the crawl stack. Passes are counted here, never stored as findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime

from auditor.config import AuditConfig
from auditor.facts import declaration_facts
from auditor.model import Finding, Outcome, Severity, Subject
from auditor.policy import PolicySet, evaluate
from auditor.policy.scope import ScopeSettings

__all__ = ["RuleEvaluator"]


class RuleEvaluator:
    """Evaluates subjects against the loaded packs and counts every outcome per rule."""

    def __init__(
        self, policy: PolicySet, config: AuditConfig, clock: Callable[[], datetime]
    ) -> None:
        self.policy = policy
        self.declaration = declaration_facts(config.crawler)
        thresholds = config.jurisdiction_thresholds.model_dump()
        self.scope = ScopeSettings({Severity(name): value for name, value in thresholds.items()})
        self.clock = clock
        self.outcomes: Counter[tuple[str, str, Outcome]] = Counter()
        self.findings: Counter[tuple[str, str]] = Counter()  # (outcome, severity)

    def run(
        self, subject: Subject, facts: Mapping[str, object], **where: str | None
    ) -> tuple[Finding, ...]:
        """Evaluate one subject; the declaration facts are always included."""
        key = where.get("image_url") or where.get("site") or self.declaration["crawler.name"]
        result = evaluate(
            self.policy, subject, {**self.declaration, **facts}, key=str(key), scope=self.scope,
            **where,
        )  # fmt: skip
        self.outcomes.update(result.outcomes)
        self.findings.update((f.outcome.value, f.severity.value) for f in result.findings)
        return result.findings

    def state(self) -> dict[str, list[list[str | int]]]:
        """Return the outcome counts as plain JSON data, for a resumable run's checkpoint."""
        return {
            "outcomes": [
                [pack, rule_id, outcome.value, count]
                for (pack, rule_id, outcome), count in self.outcomes.items()
            ],
            "findings": [
                [outcome, severity, count] for (outcome, severity), count in self.findings.items()
            ],
        }

    def restore(self, state: Mapping[str, list[list[str | int]]]) -> None:
        """Continue counting from a :meth:`state`."""
        self.outcomes = Counter(
            {(str(p), str(r), Outcome(str(o))): int(n) for p, r, o, n in state["outcomes"]}
        )
        self.findings = Counter({(str(o), str(s)): int(n) for o, s, n in state["findings"]})

    def totals(self) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        """Return findings by outcome, findings by severity and passes by rule id, sorted."""
        by_outcome: Counter[str] = Counter()
        by_severity: Counter[str] = Counter()
        passes: Counter[str] = Counter()
        for (_, rule_id, outcome), count in self.outcomes.items():
            if outcome is Outcome.PASS:
                passes[rule_id] += count
        for (outcome_name, severity), count in self.findings.items():
            by_outcome[outcome_name] += count
            by_severity[severity] += count
        return (
            dict(sorted(by_outcome.items())),
            dict(sorted(by_severity.items())),
            dict(sorted(passes.items())),
        )

    def stats(self) -> dict[tuple[str, str], dict[str, int]]:
        """Outcome counts per (pack, rule id), passes included."""
        per_rule: dict[tuple[str, str], dict[str, int]] = {}
        for (pack, rule_id, outcome), count in self.outcomes.items():
            per_rule.setdefault((pack, rule_id), {})[outcome.value] = count
        return per_rule
