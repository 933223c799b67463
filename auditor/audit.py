"""The orchestrator: wires crawl, origin files, signals, policy and store for one run.

It is configured by a validated :class:`~auditor.config.AuditConfig` and a frozen
:class:`AuditOptions`, reports progress through an :class:`AuditObserver`, and knows nothing of
the command line. Each record is finished by :class:`~auditor.recorder.AuditSink` as soon as it
is complete and written in batches, so memory is bounded by what is in flight.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from auditor import USER_AGENT, __version__
from auditor.aggregates import DatasetTally
from auditor.config import AuditConfig, CrawlSettings
from auditor.crawl.crawler import Crawler, CrawlStats
from auditor.crawl.discover import PageDiscovery, discover_job
from auditor.crawl.fetcher import Fetcher, FetchLimits
from auditor.crawl.forkserver import fork_context
from auditor.crawl.frontier import Seed
from auditor.crawl.imagepool import JOBS_PER_WORKER, ImagePool, WorkerSetup
from auditor.crawl.origins import DocumentCache, OwnRobotsGate, RobotsCache
from auditor.errors import AuditIncompleteError
from auditor.evaluator import RuleEvaluator
from auditor.extract import ExtractLimits
from auditor.model import RunCounters, Subject
from auditor.policy import PolicySet
from auditor.recorder import AuditObserver, AuditSink, ImageCounts, OriginFiles, Prefetcher
from auditor.resume import RunProgress, reopen_unfinished
from auditor.signals import image_mechanisms
from auditor.signals.aitxt import MAX_AI_TXT_BYTES, parse_ai_txt
from auditor.signals.optout_list import OptOutMatcher
from auditor.signals.registries import SpawningClient
from auditor.signals.tdmrep import MAX_TDMREP_BYTES, parse_tdmrep_file
from auditor.store import Checkpoint, Store, open_store

_T = TypeVar("_T")

__all__ = [
    "AuditObserver",
    "AuditOptions",
    "AuditSummary",
    "fetch_limits",
    "image_pool",
    "in_pool",
    "origin_files",
    "process_pool",
    "run_audit",
    "seeds_from",
]


@dataclass(frozen=True)
class AuditOptions:
    """Run options that are not part of audit.yaml (they come from the command line)."""

    db: str = "audit.db"
    workers: int | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    optout: OptOutMatcher | None = None
    config_path: str | None = None  # recorded with the run, so reports can anchor findings
    resume: bool = False  # continue the newest interrupted crawl with this config and these packs


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


def fetch_limits(settings: CrawlSettings) -> FetchLimits:
    """Return the fetcher's bounds from the ``crawl:`` settings of audit.yaml."""
    return FetchLimits(
        max_redirects=settings.max_redirects,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        total_timeout=settings.total_timeout,
        per_host_concurrency=settings.per_host_concurrency,
        delay=settings.delay,
        allow_private_addresses=settings.allow_private_addresses,
    )


def extract_limits(settings: CrawlSettings) -> ExtractLimits:
    """Return the extractors' bounds from the ``crawl:`` settings of audit.yaml."""
    return ExtractLimits(
        max_pixels=settings.max_pixels,
        reduce_to=settings.face_detection_size,
        detect_faces=settings.detect_faces,
    )


def _counters(progress: RunProgress) -> RunCounters:
    pages, images = progress.counts["pages"], progress.counts["images"]
    by_outcome, by_severity, passes = progress.evaluator.totals()
    return RunCounters(
        pages=pages.pages_ok + pages.pages_failed,
        images=images.images,
        images_fetched=images.fetched,
        skips=pages.skips + images.skips,
        errors=pages.fetch_errors + images.errors,
        findings=by_outcome,
        by_severity=by_severity,
        passes=passes,
    )


async def in_pool(pool: Executor, function: Callable[..., _T], *args: object) -> _T:
    """Run ``function(*args)`` in ``pool`` without blocking the event loop while submitting.

    ``loop.run_in_executor`` submits on the loop's thread, and a process pool's submit writes
    the pickled arguments (image bytes) to a pipe: measured at about 5 ms per image, during
    which no request moves. Submitting from a worker thread keeps the loop free.
    """
    future = await asyncio.to_thread(pool.submit, function, *args)
    return await asyncio.wrap_future(future)


def process_pool(workers: int | None, preload: tuple[str, ...] = ()) -> Executor:
    """Return the pool CPU-bound work runs in: one process per core unless ``workers`` says.

    forkserver, not fork: forking a process that runs an event loop and resolver threads can
    deadlock the child; preloading the modules the jobs live in keeps worker start-up cheap.
    Each worker is replaced after :data:`JOBS_PER_WORKER` jobs: decoding images of every size
    (and face detection) fragments a long-lived worker's heap, so its memory would grow with the
    crawl; a fresh fork of the preloaded server costs milliseconds.
    """
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1, mp_context=fork_context(preload),
        max_tasks_per_child=JOBS_PER_WORKER,
    )  # fmt: skip


def image_pool(setup: WorkerSetup, processes: int) -> ImagePool:
    """Return the worker processes a crawl fetches and examines images in (and parses pages).

    Looked up at call time, so bench/stages.py can put an in-process pool in its place to time
    each stage.
    """
    return ImagePool(setup, processes)


def origin_files(fetcher: Fetcher, token: str) -> tuple[OwnRobotsGate, OriginFiles]:
    """Return the auditor's own robots.txt gate and the cached origin files of a run."""
    robots = RobotsCache(fetcher)
    gate = OwnRobotsGate(robots, token)
    tdmrep = DocumentCache(
        fetcher, path="/.well-known/tdmrep.json", parse=parse_tdmrep_file,
        max_bytes=MAX_TDMREP_BYTES, truncate=False, gate=gate,
    )  # fmt: skip
    ai_txt = DocumentCache(
        fetcher, path="/ai.txt", parse=parse_ai_txt, max_bytes=MAX_AI_TXT_BYTES + 1,
        truncate=True, gate=gate,
    )  # fmt: skip
    return gate, OriginFiles(robots, tdmrep, ai_txt)


async def _crawl(
    *,
    config: AuditConfig,
    store: Store,
    run_id: int,
    policy: PolicySet,
    options: AuditOptions,
    observer: AuditObserver,
    checkpoint: Checkpoint | None,
) -> RunProgress:
    settings = config.crawl
    seeds = seeds_from(config)
    evaluator = RuleEvaluator(policy, config, options.clock)
    # The page phase is crawled again on resume, so its counters matter only once finished.
    images, pages = ImageCounts(), CrawlStats()
    tally = DatasetTally(optout_checked=options.optout is not None)
    state = RunProgress(evaluator, tally, {"images": images, "pages": pages})
    done = frozenset[str]()
    if checkpoint is not None:
        state.restore(checkpoint.state)
        if state.finished:
            return state
        store.forget_page_skips(run_id)  # the pages are crawled again and record them again
        done = store.image_urls(run_id)
    limits = fetch_limits(settings)
    with store.writer(run_id) as writer:
        writer.track_progress(lambda: state.checkpoint(last_key=None, rows=images.images))
        if checkpoint is None:
            with writer.unit():
                writer.add_findings(evaluator.run(Subject.DECLARATION, {}))

        async with AsyncExitStack() as network:
            setup = WorkerSetup(
                user_agent=USER_AGENT, limits=limits, extract=extract_limits(settings)
            )
            pool = await network.enter_async_context(
                image_pool(setup, options.workers or os.cpu_count() or 1)
            )

            async def parse_page(
                body: bytes, url: str, encoding: str | None, bots: tuple[str, ...]
            ) -> PageDiscovery:
                return await pool.call(discover_job, body, url, encoding, bots)

            fetcher = await network.enter_async_context(
                Fetcher(user_agent=USER_AGENT, limits=limits)
            )
            gate, origins = origin_files(fetcher, settings.token)
            mechanisms = image_mechanisms(options.optout)
            prefetchers: list[Prefetcher] = []
            if config.registries.spawning is not None:  # opt-in: it receives image URLs
                client = SpawningClient.from_config(
                    config.registries.spawning, user_agent=USER_AGENT
                )
                await network.enter_async_context(client)
                mechanisms = image_mechanisms(options.optout, client.signals)
                prefetchers.append(client)
            sink = AuditSink(
                writer=writer, evaluator=evaluator, origins=origins, mechanisms=mechanisms,
                seeds=seeds, declared_tokens=config.crawler.robots_tokens, observer=observer,
                prefetchers=prefetchers,
                site_categories=tuple(target.categories for target in config.targets),
                dataset=tally, counts=images,
            )  # fmt: skip
            crawler = Crawler(
                seeds=seeds, settings=settings, fetcher=fetcher, gate=gate,
                parse_page=parse_page, image_hops=pool.send, sink=sink,
                bot_names=config.crawler.robots_tokens, done_images=done,
            )  # fmt: skip
            state.counts["pages"] = await crawler.run()
            writer.flush()  # the site rules count every stored image, resumed ones included
            with writer.unit():
                sink.finish_sites(dict(store.site_image_counts(run_id)))
                sink.finish_dataset()
                rules = {(rule.pack, rule.id): rule for rule in policy.rules}
                writer.add_rule_stats(evaluator.stats(), rules=rules)
                state.finished = True
    return state


def run_audit(
    config: AuditConfig, policy: PolicySet, options: AuditOptions, observer: AuditObserver
) -> AuditSummary:
    """Crawl the configured targets, evaluate every subject and store the run.

    Raises :class:`AuditIncompleteError` (after recording the run) when no target could be
    reached; whatever was recorded before an interruption stays in the store.
    """
    started = options.clock().isoformat(timespec="seconds")
    with open_store(options.db) as store:
        checkpoint = None
        if options.resume:
            run_id, checkpoint = reopen_unfinished(
                store, what="a crawl", matches=lambda run: run.options.get("mode") == "crawl",
                config_hash=config.digest(), policy_hash=policy.digest,
            )  # fmt: skip
            started = store.run(run_id).started_at
        else:
            run_id = store.begin_run(
                tool_version=__version__,
                started_at=started,
                config_hash=config.digest(),
                policy_hash=policy.digest,
                config_json=config.model_dump(mode="json"),
                options_json={
                    "mode": "crawl", "workers": options.workers,
                    "config_path": options.config_path,
                },
            )  # fmt: skip
        observer.run_started(run_id, options.db)
        status = "interrupted"
        counters = RunCounters()
        aggregates: dict[str, object] | None = None
        try:
            crawl = _crawl(
                config=config, store=store, run_id=run_id, policy=policy,
                options=options, observer=observer, checkpoint=checkpoint,
            )  # fmt: skip
            state = asyncio.run(crawl)
            counters = _counters(state)
            aggregates = state.tally.summary()
            reached = state.counts["pages"].seeds_reached or not config.targets
            status = "complete" if reached else "incomplete"
        finally:
            finished = options.clock().isoformat(timespec="seconds")
            store.finish_run(
                run_id, finished_at=finished, status=status, counters=counters,
                aggregates=aggregates,
            )  # fmt: skip
    if status == "incomplete":
        raise AuditIncompleteError(
            f"no target could be reached (run {run_id} recorded in {options.db}); "
            "check the target URLs and your network, then run again"
        )
    return AuditSummary(run_id, options.db, status, counters, started, finished)
