"""Build :class:`~auditor.report.data.ReportData` from a stored run or from fresh findings.

``auditor report`` builds it from the store (:func:`from_store`); ``auditor check`` builds it
from the store too after a crawl or a re-evaluation, passing the findings with their gate states,
and from the findings alone for ``--declaration-only`` (:func:`from_findings`). The evidence of
each finding's image (its stored signals) is gathered in one streaming pass, so memory is bounded
by the findings shown, not by the size of the crawl.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.model import SkipRecord, SuppressionStatus
from auditor.policy import PolicySet
from auditor.report.anchors import AnchorResolver, repo_path
from auditor.report.data import (
    Anchor,
    Artifact,
    FindingView,
    GateSummary,
    ReportData,
    RuleInfo,
)

if TYPE_CHECKING:
    from auditor.store import FindingExport, RuleStat, SignalExport, Store

__all__ = ["MAX_SKIPS", "artifact", "from_findings", "from_store", "rule_infos", "sort_views"]

MAX_SKIPS = 1000
"""Skips listed one by one in a report; the summary still counts all of them."""


def rule_infos(policy: PolicySet) -> dict[str, RuleInfo]:
    """Return rule metadata by id, for every rule of ``policy``."""
    infos: dict[str, RuleInfo] = {}
    for pack in policy.packs:
        for rule in pack.rules:
            anchor = Anchor(repo_path(rule.file), rule.line or 1)
            infos[rule.id] = RuleInfo(
                id=rule.id,
                pack=pack.name,
                jurisdiction=pack.jurisdiction,
                title=rule.title,
                severity=rule.severity,
                subject=rule.subject.value,
                references=rule.references,
                remediation=rule.remediation,
                tags=rule.tags,
                anchor=anchor,
            )
    return infos


def sort_views(views: Iterable[FindingView]) -> tuple[FindingView, ...]:
    """Sort most severe first, then by rule id, subject URL and fingerprint (stable)."""
    return tuple(
        sorted(
            views,
            key=lambda v: (
                -v.finding.severity.rank,
                v.finding.rule_id,
                v.finding.subject_url or "",
                v.finding.fingerprint,
            ),
        )
    )


def artifact(path: str | Path, kind: str) -> Artifact | None:
    """Describe one file for the evidence manifest; ``None`` when it does not exist."""
    file = Path(path)
    if not file.is_file():
        return None
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return Artifact(repo_path(file), kind, file.stat().st_size, digest.hexdigest())


def _anchored(
    views: Iterable[FindingView], resolver: AnchorResolver, rules: Mapping[str, RuleInfo]
) -> list[FindingView]:
    out = []
    for view in views:
        if view.anchor is not None:
            out.append(view)
            continue
        rule = rules.get(view.finding.rule_id)
        anchor = resolver.anchor(view.finding, rule.anchor if rule else None)
        out.append(FindingView(view.finding, view.state, view.suppression, anchor))
    return out


def _evidence(store: Store, run_id: int, urls: set[str]) -> dict[str, tuple[SignalExport, ...]]:
    found: dict[str, list[SignalExport]] = {}
    if not urls:
        return {}
    for signal in store.iter_signals(run_id):
        if signal.image_url in urls:
            found.setdefault(signal.image_url, []).append(signal)
    return {url: tuple(signals) for url, signals in found.items()}


def from_store(
    store: Store,
    run_id: int,
    *,
    rules: Mapping[str, RuleInfo],
    now: datetime,
    views: Sequence[FindingView] | None = None,
    gate: GateSummary | None = None,
    suppressions: Sequence[SuppressionStatus] | None = None,
    artifacts: Sequence[Artifact] = (),
    config_path: str | None = None,
    mode: str = "report",
    rule_stats: Sequence[RuleStat] | None = None,
) -> ReportData:
    """Build the report of stored run ``run_id``; ``views`` replaces its stored findings."""
    run = store.run(run_id)
    config_path = config_path or _stored_config_path(run.options)
    resolver = AnchorResolver(config_path)
    if views is None:
        views = [_stored_view(finding) for finding in store.iter_findings(run_id)]
    shown = sort_views(_anchored(views, resolver, rules))
    urls = {v.finding.image_url for v in shown if v.finding.image_url}
    skips: list[SkipRecord] = []
    truncated = 0
    for skip in store.iter_skips(run_id):
        if len(skips) < MAX_SKIPS:
            skips.append(skip)
        else:
            truncated += 1
    return ReportData(
        tool_version=__version__,
        generated_at=now.isoformat(timespec="seconds"),
        findings=shown,
        rules=dict(rules),
        run=run,
        summary=store.run_summary(run_id),
        rule_stats=tuple(store.rule_stats(run_id) if rule_stats is None else rule_stats),
        skips=tuple(skips),
        skips_truncated=truncated,
        aggregates=run.aggregates,
        evidence=_evidence(store, run_id, urls),
        suppressions=tuple(store.suppressions(run_id) if suppressions is None else suppressions),
        gate=gate,
        artifacts=tuple(artifacts),
        config_path=resolver.path if config_path else None,
        mode=mode,  # type: ignore[arg-type]
    )


def from_findings(
    views: Sequence[FindingView],
    *,
    rules: Mapping[str, RuleInfo],
    now: datetime,
    gate: GateSummary | None = None,
    suppressions: Sequence[SuppressionStatus] = (),
    artifacts: Sequence[Artifact] = (),
    config_path: str | None = None,
) -> ReportData:
    """Build a report of findings evaluated without a crawl (``check --declaration-only``)."""
    resolver = AnchorResolver(config_path)
    return ReportData(
        tool_version=__version__,
        generated_at=now.isoformat(timespec="seconds"),
        findings=sort_views(_anchored(views, resolver, rules)),
        rules=dict(rules),
        suppressions=tuple(suppressions),
        gate=gate,
        artifacts=tuple(artifacts),
        config_path=resolver.path if config_path else None,
        mode="declaration-only",
    )


def _stored_view(finding: FindingExport) -> FindingView:
    state = finding.state if finding.state in {"new", "baselined", "suppressed"} else "new"
    return FindingView(finding, state, finding.suppression)  # type: ignore[arg-type]


def _stored_config_path(options: Mapping[str, object]) -> str | None:
    value = options.get("config_path")
    return value if isinstance(value, str) else None
