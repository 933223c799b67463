"""The CI gate: which findings block, and the exit code (DESIGN 4.2, conventions.md 1).

A finding **blocks** when it is ``new`` (neither baselined nor suppressed by a live entry), its
outcome is counted (``fail`` always; ``review`` with ``--fail-on-review``; ``insufficient_data``
with ``--fail-on-insufficient``) and its severity is at or above ``--fail-on`` (default high).

Exit codes, errors outranking findings: 2 (usage, configuration or policy error) is raised as
an exception before the gate runs and is never masked; 3 when the audit could not complete; 1
when a finding blocks; else 0. ``--exit-zero`` turns 1 and 3 into 0 (report-only mode) and the
summary says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.model import Outcome, Severity, SuppressionInfo, SuppressionStatus
from auditor.report.data import FindingState, FindingView, GateSummary
from auditor.suppressions import SuppressionMatcher

if TYPE_CHECKING:
    from auditor.store import FindingExport

__all__ = ["GateOptions", "GateResult", "apply_gate"]

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 3


@dataclass(frozen=True)
class GateOptions:
    """How strict the gate is (``auditor check`` options)."""

    fail_on: Severity = Severity.HIGH
    fail_on_review: bool = False
    fail_on_insufficient: bool = False
    exit_zero: bool = False

    @property
    def counted(self) -> tuple[Outcome, ...]:
        """The outcomes that can block."""
        counted = [Outcome.FAIL]
        if self.fail_on_review:
            counted.append(Outcome.REVIEW)
        if self.fail_on_insufficient:
            counted.append(Outcome.INSUFFICIENT_DATA)
        return tuple(counted)


@dataclass(frozen=True)
class GateResult:
    """Each finding with its state, the suppressions register and the decision."""

    views: tuple[FindingView, ...]
    register: tuple[SuppressionStatus, ...]
    summary: GateSummary

    @property
    def states(self) -> dict[str, tuple[str, SuppressionInfo | None]]:
        """Fingerprint -> (state, suppression), for the store."""
        return {v.finding.fingerprint: (v.state, v.suppression) for v in self.views}


def apply_gate(
    findings: Iterable[FindingExport],
    options: GateOptions,
    *,
    baseline: frozenset[str] = frozenset(),
    suppressions: SuppressionMatcher | None = None,
    incomplete: bool = False,
    warnings: Iterable[str] = (),
) -> GateResult:
    """Give every finding its state and decide the exit code."""
    views: list[FindingView] = []
    seen: set[str] = set()
    for finding in findings:
        seen.add(finding.fingerprint)
        suppression = suppressions.match(finding) if suppressions is not None else None
        state: FindingState = "new"
        if suppression is not None:
            state = "suppressed"
        elif finding.fingerprint in baseline:
            state = "baselined"
        views.append(FindingView(finding, state, suppression))
    blocking = sum(
        1
        for view in views
        if view.state == "new"
        and view.finding.outcome in options.counted
        and view.finding.severity.rank >= options.fail_on.rank
    )
    if incomplete:
        code = EXIT_INCOMPLETE
    elif blocking:
        code = EXIT_FINDINGS
    else:
        code = EXIT_CLEAN
    all_warnings = list(warnings)
    register: tuple[SuppressionStatus, ...] = ()
    if suppressions is not None:
        register = suppressions.register()
        all_warnings.extend(suppressions.warnings())
    summary = GateSummary(
        fail_on=options.fail_on,
        counted_outcomes=options.counted,
        blocking=blocking,
        exit_code=EXIT_CLEAN if options.exit_zero else code,
        exit_zero=options.exit_zero,
        fixed=tuple(sorted(baseline - seen)),
        warnings=tuple(all_warnings),
    )
    return GateResult(tuple(views), register, summary)
