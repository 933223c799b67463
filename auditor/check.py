"""``auditor check``: evaluate, apply the gate, and build the report data (no printing here).

Three ways to get findings, one gate:

- **crawl** (default): run the audit of the configured targets into the store, then read its
  findings; the gate's decisions (states, suppressions register) are written back to the run, so
  ``auditor report`` later shows the same states;
- **from-db**: re-evaluate a stored run with the current declaration and packs
  (:mod:`auditor.reevaluate`); the store is only read;
- **declaration-only**: evaluate the declaration rules alone, in well under a second, for pull
  requests that touch crawler configuration; no store is needed.

Configuration, baseline and suppression files are validated before anything runs, so a bad file
is exit 2 before any crawling. An audit that could not complete still produces every output,
with exit 3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from auditor.baseline import load_baseline, write_baseline
from auditor.config import AuditConfig
from auditor.errors import AuditIncompleteError, UsageError
from auditor.evaluator import RuleEvaluator
from auditor.gate import GateOptions, GateResult, apply_gate
from auditor.model import Finding, Subject
from auditor.policy import PolicySet
from auditor.report.builder import artifact, from_findings, from_store, rule_infos
from auditor.report.data import Artifact, ReportData, RuleInfo
from auditor.store.run_records import FindingExport, RuleStat
from auditor.suppressions import SuppressionMatcher, load_suppressions

if TYPE_CHECKING:
    from auditor.audit import AuditObserver
    from auditor.signals.optout_list import OptOutMatcher

# The crawl stack (httpx, the extractors) and the store (SQLAlchemy, alembic) are imported by
# the modes that use them, so `--declaration-only` answers in well under a second.

__all__ = ["CheckOptions", "CheckOutcome", "run_check"]

Mode = Literal["crawl", "from-db", "declaration-only"]


@dataclass(frozen=True)
class CheckOptions:
    """Everything ``auditor check`` was asked to do, besides the config and packs."""

    mode: Mode = "crawl"
    db: str = "audit.db"
    run_id: int | None = None
    gate: GateOptions = field(default_factory=GateOptions)
    config_path: Path | None = None
    baseline: Path | None = None
    write_baseline: Path | None = None
    suppressions: Path | None = None
    workers: int | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    optout: OptOutMatcher | None = None  # the opt-out list a crawl checks images against


@dataclass(frozen=True)
class CheckOutcome:
    """What the CLI prints and writes: the report data (with the gate) and the exit code."""

    data: ReportData
    exit_code: int
    run_id: int | None
    baseline_written: int | None = None  # entries written with --write-baseline


def export_of(finding: Finding) -> FindingExport:
    """Return the stored form of a freshly evaluated finding (what every reporter reads)."""
    return FindingExport(
        rule_id=finding.rule_id,
        pack=finding.pack,
        jurisdiction=finding.jurisdiction,
        outcome=finding.outcome,
        severity=finding.severity,
        subject=finding.subject,
        image_url=finding.image_url,
        page_url=finding.page_url,
        site=finding.site,
        message=finding.message,
        references=finding.references,
        evidence=finding.evidence,
        fingerprint=finding.fingerprint,
        title=finding.title,
        remediation=finding.remediation,
    )


def _rule_stats(evaluator: RuleEvaluator, policy: PolicySet) -> tuple[RuleStat, ...]:
    rules = {(rule.pack, rule.id): rule for rule in policy.rules}
    out = []
    for (pack, rule_id), counts in sorted(evaluator.stats().items()):
        rule = rules[(pack, rule_id)]
        out.append(
            RuleStat(
                rule_id=rule_id,
                pack=pack,
                title=rule.title,
                severity=rule.severity,
                passes=counts.get("pass", 0),
                fails=counts.get("fail", 0),
                reviews=counts.get("review", 0),
                insufficient=counts.get("insufficient_data", 0),
                not_applicable=counts.get("not_applicable", 0),
            )
        )
    return tuple(out)


def _artifacts(options: CheckOptions, policy: PolicySet, db: str | None) -> tuple[Artifact, ...]:
    candidates: list[tuple[str | Path | None, str]] = [
        (db if db and "://" not in db else None, "database"),
        (options.config_path, "config"),
        (options.baseline, "baseline"),
        (options.suppressions, "suppressions"),
        *((pack.file, "policy") for pack in policy.packs),
    ]
    found = (artifact(path, kind) for path, kind in candidates if path is not None)
    return tuple(item for item in found if item is not None)


def _gate(
    findings: Iterable[FindingExport], options: CheckOptions, *, incomplete: bool
) -> GateResult:
    baseline = load_baseline(options.baseline).fingerprints if options.baseline else frozenset()
    matcher = None
    if options.suppressions is not None:
        loaded = load_suppressions(options.suppressions)
        matcher = SuppressionMatcher(loaded, options.clock().date())
    warnings = ["the audit could not complete: see coverage and errors"] if incomplete else []
    return apply_gate(
        findings, options.gate, baseline=baseline, suppressions=matcher, incomplete=incomplete,
        warnings=warnings,
    )  # fmt: skip


def _validate_inputs(options: CheckOptions) -> None:
    """Read the baseline and suppressions before any crawl: a bad file is exit 2 at once."""
    if options.baseline is not None:
        load_baseline(options.baseline)
    if options.suppressions is not None:
        load_suppressions(options.suppressions)


def run_check(
    config: AuditConfig, policy: PolicySet, options: CheckOptions, observer: AuditObserver
) -> CheckOutcome:
    """Evaluate in the chosen mode, apply the gate and return the report data."""
    _validate_inputs(options)
    rules = rule_infos(policy)
    config_path = str(options.config_path) if options.config_path else None
    if options.mode == "declaration-only":
        evaluator = RuleEvaluator(policy, config, options.clock)
        findings = [export_of(f) for f in evaluator.run(Subject.DECLARATION, {})]
        result = _gate(findings, options, incomplete=False)
        data = from_findings(
            result.views, rules=rules, now=options.clock(), gate=result.summary,
            suppressions=result.register, artifacts=_artifacts(options, policy, None),
            config_path=config_path,
        )  # fmt: skip
        written = _maybe_write_baseline(options, findings, policy)
        return CheckOutcome(data, result.summary.exit_code, None, written)
    if options.mode == "crawl":
        return _crawl_and_check(config, policy, options, observer, rules, config_path)
    return _check_stored(config, policy, options, rules, config_path)


def _crawl_and_check(  # noqa: PLR0917 - private helper of run_check, one call site
    config: AuditConfig,
    policy: PolicySet,
    options: CheckOptions,
    observer: AuditObserver,
    rules: dict[str, RuleInfo],
    config_path: str | None,
) -> CheckOutcome:
    from auditor.audit import AuditOptions, run_audit  # noqa: PLC0415 - see the note above
    from auditor.store import open_store  # noqa: PLC0415

    if not config.targets:
        raise UsageError("nothing to crawl: add targets to the config, or use --declaration-only")
    incomplete = False
    audit_options = AuditOptions(
        db=options.db, workers=options.workers, clock=options.clock, config_path=config_path,
        optout=options.optout,
    )  # fmt: skip
    try:
        summary = run_audit(config, policy, audit_options, observer)
        run_id: int | None = summary.run_id
    except AuditIncompleteError:
        incomplete = True
        run_id = None
    with open_store(options.db, create=False) as store:
        if run_id is None:
            run_id = store.latest_run_id()
        if run_id is None:  # the run row is written first: only a vanished database gets here
            raise UsageError(f"no run recorded in {options.db}")
        findings = list(store.iter_findings(run_id))
        result = _gate(findings, options, incomplete=incomplete)
        store.record_gate(run_id, result.states, result.register)
        data = from_store(
            store, run_id, rules=rules, now=options.clock(), views=result.views,
            gate=result.summary, suppressions=result.register,
            artifacts=_artifacts(options, policy, options.db), config_path=config_path,
            mode="crawl",
        )  # fmt: skip
    written = _maybe_write_baseline(options, findings, policy)
    return CheckOutcome(data, result.summary.exit_code, run_id, written)


def _check_stored(
    config: AuditConfig,
    policy: PolicySet,
    options: CheckOptions,
    rules: dict[str, RuleInfo],
    config_path: str | None,
) -> CheckOutcome:
    from auditor.reevaluate import reevaluate  # noqa: PLC0415 - see the note above
    from auditor.store import open_store  # noqa: PLC0415

    with open_store(options.db, create=False) as store:
        run_id = options.run_id if options.run_id is not None else store.latest_run_id()
        if run_id is None:
            raise UsageError(f"{options.db} holds no runs: run `auditor crawl` first")
        store.run(run_id)  # an unknown run is a StoreError (exit 2)
        again = reevaluate(store, run_id, config, policy, options.clock)
        findings = [export_of(f) for f in again.findings]
        result = _gate(findings, options, incomplete=False)
        data = from_store(
            store, run_id, rules=rules, now=options.clock(), views=result.views,
            gate=result.summary, suppressions=result.register,
            artifacts=_artifacts(options, policy, options.db), config_path=config_path,
            mode="from-db", rule_stats=_rule_stats(again.evaluator, policy),
        )  # fmt: skip
    written = _maybe_write_baseline(options, findings, policy)
    return CheckOutcome(data, result.summary.exit_code, run_id, written)


def _maybe_write_baseline(
    options: CheckOptions, findings: Sequence[FindingExport], policy: PolicySet
) -> int | None:
    if options.write_baseline is None:
        return None
    created = options.clock().isoformat(timespec="seconds")
    baseline = write_baseline(
        options.write_baseline, findings, policy_hash=policy.digest, created=created
    )
    return len(baseline.findings)
