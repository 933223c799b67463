"""The orchestrator: wires crawl, signals, jurisdiction, policy and store for one run.

It is configured by a validated :class:`~auditor.config.AuditConfig` and a frozen
:class:`AuditOptions`, reports progress through an :class:`AuditObserver`, and knows nothing of
the command line. Each image is finished as soon as it is examined (signals, verdicts, rules,
written in batches), so memory stays bounded by what is in flight, not by the crawl's size.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from auditor import USER_AGENT, __version__
from auditor.config import AuditConfig
from auditor.crawl.crawler import Crawler, CrawlStats
from auditor.crawl.discover import PageDiscovery, discover
from auditor.crawl.fetcher import Fetcher, FetchLimits
from auditor.crawl.frontier import Seed
from auditor.crawl.origins import RobotsCache
from auditor.crawl.urls import origin_of
from auditor.errors import AuditIncompleteError
from auditor.extract import ExtractLimits, ImageFacts, extract_image
from auditor.facts import SiteFacts, declaration_facts, image_facts, site_facts
from auditor.jurisdiction import estimate
from auditor.model import (
    Finding,
    ImageContext,
    ImageRecord,
    Outcome,
    PageRecord,
    RunCounters,
    SkipRecord,
    Subject,
)
from auditor.policy import PolicySet, evaluate
from auditor.signals import ORIGIN_MECHANISMS
from auditor.signals.usage import combine
from auditor.store import Store, StoreWriter, open_store


class AuditObserver(Protocol):
    """Progress callbacks; the CLI draws them, tests may record them. All are optional no-ops."""

    def run_started(self, run_id: int, db: str) -> None:
        """Note that the run row now exists."""

    def page_done(self, page: PageRecord) -> None:
        """Count a fetched page."""

    def image_done(self, image: ImageRecord, findings: tuple[Finding, ...]) -> None:
        """Count an examined and evaluated image."""

    def skipped(self, skip: SkipRecord) -> None:
        """Report a skipped URL."""


@dataclass(frozen=True)
class AuditOptions:
    """Run options that are not part of audit.yaml (they come from the command line)."""

    db: str = "audit.db"
    workers: int | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class AuditSummary:
    """What a finished run produced, for the CLI's final summary."""

    run_id: int
    db: str
    status: str
    counters: RunCounters
    started_at: str
    finished_at: str


def seeds_from(config: AuditConfig) -> tuple[Seed, ...]:
    """Targets with the crawl defaults filled in."""
    crawl = config.crawl
    return tuple(
        Seed(
            url=target.url,
            max_pages=target.max_pages or crawl.max_pages,
            max_depth=crawl.max_depth if target.max_depth is None else target.max_depth,
            scope=target.scope or crawl.scope,
            jurisdictions=target.jurisdictions,
        )
        for target in config.targets
    )


def _discover_job(
    body: bytes, url: str, encoding: str | None, bots: tuple[str, ...]
) -> PageDiscovery:
    """Top-level (picklable) wrapper so page parsing runs in a worker process."""
    return discover(body, url, encoding=encoding, bot_names=bots)


class _Evaluator:
    """Evaluates subjects against the loaded packs and counts every outcome per rule."""

    def __init__(self, policy: PolicySet, config: AuditConfig, clock: Callable[[], datetime]):
        self.policy = policy
        self.declaration = declaration_facts(config.crawler)
        self.clock = clock
        self.outcomes: Counter[tuple[str, str, Outcome]] = Counter()
        self.findings: Counter[tuple[str, str]] = Counter()  # (outcome, severity)

    def run(
        self, subject: Subject, facts: dict[str, object], **where: str | None
    ) -> tuple[Finding, ...]:
        key = where.get("image_url") or where.get("site") or self.declaration["crawler.name"]
        result = evaluate(
            self.policy, subject, {**self.declaration, **facts}, key=str(key), **where
        )
        self.outcomes.update(result.outcomes)
        self.findings.update((f.outcome.value, f.severity.value) for f in result.findings)
        return result.findings

    def stats(self) -> dict[tuple[str, str], dict[str, int]]:
        per_rule: dict[tuple[str, str], dict[str, int]] = {}
        for (pack, rule_id, outcome), count in self.outcomes.items():
            per_rule.setdefault((pack, rule_id), {})[outcome.value] = count
        return per_rule


class _AuditSink:
    """Receives crawl results, finishes each record and hands it to the store and observer."""

    def __init__(
        self,
        *,
        writer: StoreWriter,
        evaluator: _Evaluator,
        robots: RobotsCache,
        seeds: tuple[Seed, ...],
        declared_tokens: tuple[str, ...],
        observer: AuditObserver,
    ) -> None:
        self.writer = writer
        self.evaluator = evaluator
        self.robots = robots
        self.seeds = seeds
        self.tokens = declared_tokens
        self.observer = observer
        self.pages_per_site: Counter[str] = Counter()
        self.images_per_site: Counter[str] = Counter()
        self.site_jurisdictions: dict[str, dict[str, float]] = {}

    async def on_page(self, page: PageRecord, target: int) -> None:
        self.writer.add_page(page)
        self.pages_per_site[page.site] += 1
        estimate_ = estimate([page.final_url], self.seeds[target].jurisdictions)
        merged = self.site_jurisdictions.setdefault(page.site, {})
        for code, value in estimate_.likelihoods.items():
            merged[code] = max(merged.get(code, 0.0), value)
        self.observer.page_done(page)

    async def on_image(self, image: ImageRecord, target: int) -> None:
        entry = await self.robots.get(origin_of(image.url))
        signals = [
            record
            for mechanism in ORIGIN_MECHANISMS.values()
            for record in mechanism(entry, image.url, self.tokens)
        ]
        verdicts = combine(signals)
        jurisdictions = estimate(image.page_urls, self.seeds[target].jurisdictions)
        image = replace(
            image,
            signals=tuple(signals),
            usage=verdicts.usage,
            jurisdictions=jurisdictions.likelihoods,
        )
        site = SiteFacts(image.site, entry.policy.availability.value, {})
        facts = {**site_facts(site), **image_facts(image, self.evaluator.clock())}
        findings = self.evaluator.run(
            Subject.IMAGE, facts, image_url=image.url,
            page_url=image.page_urls[0] if image.page_urls else None, site=image.site,
        )  # fmt: skip
        self.images_per_site[image.site] += 1
        self.writer.add_image(image)
        self.writer.add_findings(findings)
        self.observer.image_done(image, findings)

    async def on_image_context(self, image_url: str, context: ImageContext) -> None:
        self.writer.add_image_context(image_url, context)

    async def on_skip(self, skip: SkipRecord) -> None:
        self.writer.add_skip(skip)
        self.observer.skipped(skip)

    def finish_sites(self) -> None:
        """Record every origin met and evaluate the site rules with the final counts."""
        for entry in self.robots.entries():
            policy = entry.policy
            self.writer.add_site(
                entry.origin,
                robots_status=policy.availability.value,
                robots_http_status=policy.http_status,
                robots_sha256=entry.sha256,
                robots_fetched_at=entry.fetched_at,
            )
            site = SiteFacts(
                entry.origin,
                policy.availability.value,
                self.site_jurisdictions.get(entry.origin, {}),
                pages=self.pages_per_site[entry.origin],
                images=self.images_per_site[entry.origin],
            )
            self.writer.add_findings(
                self.evaluator.run(Subject.SITE, site_facts(site), site=entry.origin)
            )


def _counters(stats: CrawlStats, evaluator: _Evaluator) -> RunCounters:
    by_outcome: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    passes: Counter[str] = Counter()
    for (_, rule_id, outcome), count in evaluator.outcomes.items():
        if outcome is Outcome.PASS:
            passes[rule_id] += count
    for (outcome_name, severity), count in evaluator.findings.items():
        by_outcome[outcome_name] += count
        by_severity[severity] += count
    return RunCounters(
        pages=stats.pages_ok + stats.pages_failed,
        images=stats.images,
        images_fetched=stats.images_fetched,
        skips=stats.skips,
        errors=stats.fetch_errors,
        findings=dict(sorted(by_outcome.items())),
        by_severity=dict(sorted(by_severity.items())),
        passes=dict(sorted(passes.items())),
    )


def _executor(workers: int | None) -> Executor:
    # forkserver, not fork: forking a process that runs an event loop and resolver threads can
    # deadlock the child; the preload keeps worker start-up cheap.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["auditor.crawl.discover", "auditor.extract"])
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, mp_context=context)


async def _crawl(
    *,
    config: AuditConfig, store: Store, run_id: int, policy: PolicySet, options: AuditOptions,
    observer: AuditObserver,
) -> tuple[CrawlStats, _Evaluator]:  # fmt: skip
    settings = config.crawl
    seeds = seeds_from(config)
    evaluator = _Evaluator(policy, config, options.clock)
    limits = FetchLimits(
        max_redirects=settings.max_redirects,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        total_timeout=settings.total_timeout,
        per_host_concurrency=settings.per_host_concurrency,
        delay=settings.delay,
    )
    extract_limits = ExtractLimits(max_pixels=settings.max_pixels)
    loop = asyncio.get_running_loop()
    with _executor(options.workers) as pool, store.writer(run_id) as writer:
        writer.add_findings(evaluator.run(Subject.DECLARATION, {}))

        async def parse_page(
            body: bytes, url: str, enc: str | None, bots: tuple[str, ...]
        ) -> PageDiscovery:
            return await loop.run_in_executor(pool, _discover_job, body, url, enc, bots)

        async def extract(body: bytes) -> ImageFacts:
            return await loop.run_in_executor(pool, extract_image, body, extract_limits)

        async with Fetcher(user_agent=USER_AGENT, limits=limits) as fetcher:
            robots = RobotsCache(fetcher)
            sink = _AuditSink(
                writer=writer, evaluator=evaluator, robots=robots, seeds=seeds,
                declared_tokens=config.crawler.robots_tokens, observer=observer,
            )  # fmt: skip
            crawler = Crawler(
                seeds=seeds, settings=settings, fetcher=fetcher, robots=robots,
                parse_page=parse_page, extract=extract, sink=sink,
                bot_names=config.crawler.robots_tokens,
            )  # fmt: skip
            stats = await crawler.run()
            sink.finish_sites()
        writer.add_rule_stats(evaluator.stats(), rules={(r.pack, r.id): r for r in policy.rules})
    return stats, evaluator


def run_audit(
    config: AuditConfig, policy: PolicySet, options: AuditOptions, observer: AuditObserver
) -> AuditSummary:
    """Crawl the configured targets, evaluate every subject and store the run.

    Raises :class:`AuditIncompleteError` (after recording the run) when no target could be
    reached; whatever was recorded before an interruption stays in the store.
    """
    started = options.clock().isoformat(timespec="seconds")
    with open_store(options.db) as store:
        run_id = store.begin_run(
            tool_version=__version__,
            started_at=started,
            config_hash=config.digest(),
            policy_hash=policy.digest,
            config_json=config.model_dump(mode="json"),
            options_json={"workers": options.workers},
        )
        observer.run_started(run_id, options.db)
        status = "interrupted"
        counters = RunCounters()
        try:
            stats, evaluator = asyncio.run(
                _crawl(
                    config=config,
                    store=store,
                    run_id=run_id,
                    policy=policy,
                    options=options,
                    observer=observer,
                )
            )
            counters = _counters(stats, evaluator)
            status = "complete" if stats.seeds_reached or not config.targets else "incomplete"
        finally:
            finished = options.clock().isoformat(timespec="seconds")
            store.finish_run(run_id, finished_at=finished, status=status, counters=counters)
    if status == "incomplete":
        raise AuditIncompleteError(
            f"no target could be reached (run {run_id} recorded in {options.db}); "
            "check the target URLs and your network, then run again"
        )
    return AuditSummary(run_id, options.db, status, counters, started, finished)
