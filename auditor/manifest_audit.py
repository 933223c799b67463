"""Manifest mode's orchestrator: audit what a crawler already collected, resumably.

``auditor manifest PATH`` streams the manifest (:func:`auditor.manifest.iter_manifest`), prepares
a bounded window of rows concurrently (stored copies are read and extracted in worker processes;
with ``refetch`` the live source is fetched too) and commits them strictly in manifest order
(:class:`~auditor.manifest_rows.RowAuditor`). Declaration rules run once at the start, site and
dataset rules once at the end, exactly as in a crawl.

Resuming. Every batch the writer stores carries a checkpoint in the same transaction: the last
row key whose records are all stored, the running counts, the rule outcome counts and the dataset
tally. A resumed run (``resume=True``) reopens the newest unfinished run over the same manifest
with the same configuration and packs, restores that state and reads on after the key, so it
ends with the same database as a run that was never interrupted; nothing is lost (committed
batches stay) and nothing is doubled (rows after the checkpoint were never committed).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import USER_AGENT, __version__
from auditor.aggregates import DatasetTally
from auditor.audit import AuditSummary, fetch_limits, origin_files, process_pool
from auditor.config import AuditConfig
from auditor.crawl.fetcher import Fetcher
from auditor.errors import AuditorError, UsageError
from auditor.evaluator import RuleEvaluator
from auditor.facts import SiteFacts, site_facts
from auditor.manifest import ManifestItem, iter_manifest
from auditor.manifest_rows import LiveSource, PreparedRow, RowAuditor, RowCounts
from auditor.model import RunCounters, Subject
from auditor.policy import PolicySet
from auditor.recorder import AuditObserver, OriginFiles
from auditor.resume import RunProgress, reopen_unfinished
from auditor.signals import image_mechanisms
from auditor.signals.optout_list import OptOutMatcher
from auditor.store import Checkpoint, RunRow, Store, StoreWriter, open_store

__all__ = ["ManifestOptions", "run_manifest_audit"]

MODE = "manifest"


@dataclass(frozen=True)
class ManifestOptions:
    """Run options of ``auditor manifest`` that are not part of audit.yaml."""

    db: str = "audit.db"
    workers: int | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    optout: OptOutMatcher | None = None
    config_path: str | None = None
    refetch: bool = False
    resume: bool = False
    window: int = 64  # rows prepared concurrently; bounds memory and in-flight requests


def run_manifest_audit(
    path: Path,
    config: AuditConfig,
    policy: PolicySet,
    options: ManifestOptions,
    observer: AuditObserver,
) -> AuditSummary:
    """Audit every row of the manifest at ``path`` and store the run (see the module docstring).

    Raises :class:`~auditor.errors.UsageError` when ``resume`` finds nothing to resume, and lets
    reading errors (a missing mapped column: ``ConfigError``) through after recording the run.
    """
    source = str(path.resolve())
    with open_store(options.db) as store:
        if options.resume:
            run_id, checkpoint = _reopen(store, source, config, policy, options)
        else:
            run_id = store.begin_run(
                tool_version=__version__,
                started_at=options.clock().isoformat(timespec="seconds"),
                config_hash=config.digest(),
                policy_hash=policy.digest,
                config_json=config.model_dump(mode="json"),
                options_json=run_options(source, options),
            )
            checkpoint = None
        started = store.run(run_id).started_at
        observer.run_started(run_id, options.db)
        status = "interrupted"
        counters = RunCounters()
        aggregates: dict[str, object] | None = None
        try:
            audit = _Audit(
                path=path, config=config, policy=policy, options=options, observer=observer,
                store=store, run_id=run_id, checkpoint=checkpoint,
            )  # fmt: skip
            counters, aggregates = asyncio.run(audit.run())
            status = "complete"
        except AuditorError:
            status = "failed"
            raise
        finally:
            finished = options.clock().isoformat(timespec="seconds")
            store.finish_run(
                run_id, finished_at=finished, status=status, counters=counters,
                aggregates=aggregates,
            )  # fmt: skip
    return AuditSummary(run_id, options.db, status, counters, started, finished)


def run_options(source: str, options: ManifestOptions) -> dict[str, Any]:
    """Return what is stored as the run's options: what a resume must match."""
    return {
        "mode": MODE,
        "manifest": source,
        "refetch": options.refetch,
        "workers": options.workers,
        "config_path": options.config_path,
    }


def _reopen(
    store: Store, source: str, config: AuditConfig, policy: PolicySet, options: ManifestOptions
) -> tuple[int, Checkpoint | None]:
    """Find the run to resume and mark it running again; a one-line error if there is none."""

    def same_manifest(run: RunRow) -> bool:
        if run.options.get("mode") != MODE or run.options.get("manifest") != source:
            return False
        if bool(run.options.get("refetch")) != options.refetch:
            flag = "with" if run.options.get("refetch") else "without"
            raise UsageError(
                f"run {run.id} over {source} was started {flag} --refetch; resume it so"
            )
        return True

    return reopen_unfinished(
        store, what=f"the manifest {source}", matches=same_manifest,
        config_hash=config.digest(), policy_hash=policy.digest,
    )  # fmt: skip


class _Audit:
    """One manifest run, from the declaration rules to the dataset rules."""

    def __init__(
        self,
        *,
        path: Path,
        config: AuditConfig,
        policy: PolicySet,
        options: ManifestOptions,
        observer: AuditObserver,
        store: Store,
        run_id: int,
        checkpoint: Checkpoint | None,
    ) -> None:
        self.path = path
        self.config = config
        self.policy = policy
        self.options = options
        self.observer = observer
        self.store = store
        self.run_id = run_id
        self.checkpoint = checkpoint
        self.evaluator = RuleEvaluator(policy, config, options.clock)
        self.tally = DatasetTally(optout_checked=options.optout is not None)
        self.counts = RowCounts()
        self.progress = RunProgress(self.evaluator, self.tally, {"counts": self.counts})
        if checkpoint is not None:
            self.progress.restore(checkpoint.state)

    def _checkpoint(self) -> dict[str, Any]:
        return self.progress.checkpoint(last_key=self.counts.last_key, rows=self.counts.rows)

    async def run(self) -> tuple[RunCounters, dict[str, object]]:
        """Audit the rows after the checkpoint, then the sites and the dataset."""
        items = iter_manifest(
            self.path, self.config.manifest.columns, start_after=self.counts.last_key,
            allow_outside=self.config.manifest.allow_outside,
        )  # fmt: skip
        with (
            process_pool(self.options.workers, ("auditor.manifest.jobs",)) as pool,
            self.store.writer(self.run_id) as writer,
        ):
            writer.track_progress(self._checkpoint)
            if self.checkpoint is None:
                with writer.unit():
                    writer.add_findings(self.evaluator.run(Subject.DECLARATION, {}))
            async with AsyncExitStack() as network:
                live: LiveSource | None = None
                origins: OriginFiles | None = None
                if self.options.refetch:
                    limits = fetch_limits(self.config.crawl)
                    fetcher = await network.enter_async_context(
                        Fetcher(user_agent=USER_AGENT, limits=limits)
                    )
                    # As in a crawl, the declared targets' hosts may be private (a team's own
                    # staging); any other manifest URL on a private address is refused.
                    fetcher.trust_targets(target.url for target in self.config.targets)
                    gate, origins = origin_files(fetcher, self.config.crawl.token)
                    live = (fetcher, gate, origins)
                rows = RowAuditor(
                    config=self.config, pool=pool,
                    mechanisms=image_mechanisms(self.options.optout), evaluator=self.evaluator,
                    tally=self.tally, counts=self.counts, writer=writer, observer=self.observer,
                    live=live,
                )  # fmt: skip
                if not self.progress.finished:
                    await self._rows(rows, items)
                    self._finish(writer, origins, rows.categories)
        return self._counters(), self.tally.summary()

    async def _rows(self, rows: RowAuditor, items: Iterator[ManifestItem]) -> None:
        """Prepare up to ``window`` rows at once and commit them in manifest order."""
        window: deque[asyncio.Task[PreparedRow]] = deque()
        try:
            for item in items:
                window.append(asyncio.create_task(rows.prepare(item)))
                if len(window) >= self.options.window:
                    rows.commit(await window.popleft())
            while window:
                rows.commit(await window.popleft())
        finally:
            for task in window:
                task.cancel()
            await asyncio.gather(*window, return_exceptions=True)

    def _finish(
        self,
        writer: StoreWriter,
        origins: OriginFiles | None,
        categories: Mapping[str, tuple[str, ...] | None],
    ) -> None:
        """Record the origin files, evaluate the site and dataset rules and the rule stats."""
        writer.flush()  # the site counts below are read from the database
        files = origins.records() if origins is not None else {}
        with writer.unit():
            for origin, records in files.items():
                writer.add_site(origin, records)
            for origin, images in self.store.site_image_counts(self.run_id):
                robots = next((f.status for f in files.get(origin, ()) if f.kind == "robots"), None)
                site = SiteFacts(
                    origin, robots, {}, images=images, categories=categories.get(origin)
                )
                writer.add_findings(self.evaluator.run(Subject.SITE, site_facts(site), site=origin))
            writer.add_findings(self.evaluator.run(Subject.DATASET, self.tally.facts()))
            rules = {(rule.pack, rule.id): rule for rule in self.policy.rules}
            writer.add_rule_stats(self.evaluator.stats(), rules=rules)
            self.progress.finished = True

    def _counters(self) -> RunCounters:
        by_outcome, by_severity, passes = self.evaluator.totals()
        return RunCounters(
            images=self.counts.images,
            images_fetched=self.counts.fetched,
            skips=self.counts.skips,
            errors=self.counts.errors,
            findings=by_outcome,
            by_severity=by_severity,
            passes=passes,
        )
