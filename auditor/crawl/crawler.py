"""The crawl stage: visit pages in scope, discover images, fetch and extract each image once.

The crawler obeys robots.txt for the auditor's own token before every request (pages, images and
each redirect hop), and records every URL it will not or cannot fetch as a skip with a reason;
an image it may not fetch is still reported, with ``fetched=False``. Scope limits which pages are
visited; images embedded in in-scope pages are examined wherever they are hosted.

CPU-heavy work (HTML parsing, image decoding) runs in an executor through the injected
``parse_page`` and ``extract`` callables, so the event loop only moves bytes. Results leave the
crawler as frozen records through an async :class:`CrawlSink`; the crawler keeps only the set of
URLs it has seen and the contexts of images still in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol

from auditor.config import CrawlSettings
from auditor.crawl.discover import ImageRef, PageDiscovery
from auditor.crawl.fetcher import Fetcher, FetchResult, utc_now_iso
from auditor.crawl.frontier import Frontier, PageTask, Seed
from auditor.crawl.origins import RobotsCache
from auditor.crawl.robots import path_and_query
from auditor.crawl.urls import InvalidURLError, normalise_url, origin_of
from auditor.extract import ImageFacts
from auditor.model import ImageContext, ImageRecord, PageRecord, SkipRecord

#: Response headers of an image worth keeping as evidence. Everything else (cookies above all)
#: is dropped: the auditor must not store credentials or tracking identifiers it happens to see.
EVIDENCE_HEADERS = frozenset(
    {
        "content-type", "content-length", "last-modified", "etag", "cache-control", "date",
        "x-robots-tag", "tdm-reservation", "tdm-policy", "content-usage", "content-signal",
        "link", "content-disposition", "content-language", "server",
    }
)  # fmt: skip
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
#: Skip reasons that are the auditor's own choice (robots.txt), not failures of the site.
_REFUSALS = frozenset({"robots_disallowed", "robots_unreachable"})
PAGE_WORKERS = 8
IMAGE_CONCURRENCY = 32

ParsePage = Callable[[bytes, str, str | None, tuple[str, ...]], Awaitable[PageDiscovery]]
Extract = Callable[[bytes], Awaitable[ImageFacts]]


class CrawlSink(Protocol):
    """Receives crawl results as they are produced (the orchestrator enriches and stores them)."""

    async def on_page(self, page: PageRecord, target: int) -> None:
        """Take a fetched page (whatever its status)."""

    async def on_image(self, image: ImageRecord, target: int) -> None:
        """Take an examined image, fetched or not; ``image.contexts`` are those known so far."""

    async def on_image_context(self, image_url: str, context: ImageContext) -> None:
        """Take another page's reference to an image already handed to :meth:`on_image`."""

    async def on_skip(self, skip: SkipRecord) -> None:
        """Record a URL that was not processed, with the reason."""


@dataclass
class CrawlStats:
    """Counters the orchestrator reports; mutable because the crawl fills them in."""

    pages_ok: int = 0
    pages_failed: int = 0
    fetch_errors: int = 0
    images: int = 0
    images_fetched: int = 0
    skips: int = 0
    seeds_reached: int = 0


def _charset(content_type: str | None) -> str | None:
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


class Crawler:
    """Runs one crawl over the seeds; create a new instance per run."""

    def __init__(
        self,
        *,
        seeds: tuple[Seed, ...],
        settings: CrawlSettings,
        fetcher: Fetcher,
        robots: RobotsCache,
        parse_page: ParsePage,
        extract: Extract,
        sink: CrawlSink,
        bot_names: tuple[str, ...] = (),
    ) -> None:
        self._settings = settings
        self._fetcher = fetcher
        self._robots = robots
        self._parse_page = parse_page
        self._extract = extract
        self._sink = sink
        self._bot_names = tuple(dict.fromkeys((settings.token, *bot_names)))
        self._frontier = Frontier(seeds)
        self._images_seen: set[str] = set()
        self._in_flight: dict[str, list[ImageContext]] = {}
        self._image_tasks: set[asyncio.Task[None]] = set()
        self._image_slots = asyncio.Semaphore(IMAGE_CONCURRENCY)
        self.stats = CrawlStats()

    async def run(self) -> CrawlStats:
        """Crawl until the frontier is empty and every image task has finished."""
        for url, reason in self._frontier.add_seeds():
            await self._skip(url, "target", "invalid_url", reason)
        workers = [asyncio.create_task(self._page_worker()) for _ in range(PAGE_WORKERS)]
        try:
            await self._frontier.queue.join()
            while self._image_tasks:
                await asyncio.gather(*list(self._image_tasks))
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            for task in self._image_tasks:
                task.cancel()
        return self.stats

    async def own_gate(self, url: str) -> str | None:
        """Refuse a URL the auditor's own robots.txt group disallows (the auditor is polite)."""
        entry = await self._robots.get(origin_of(url))
        decision = entry.policy.decide(self._settings.token, path_and_query(url))
        if decision.allowed:
            return None
        return (
            "robots_unreachable" if decision.reason == "robots_unreachable" else "robots_disallowed"
        )

    async def _skip(self, url: str, kind: str, reason: str, detail: str | None) -> None:
        self.stats.skips += 1
        await self._sink.on_skip(SkipRecord(url, kind, reason, detail, utc_now_iso()))

    async def _page_worker(self) -> None:
        while True:
            task = await self._frontier.queue.get()
            try:
                await self._visit(task)
            finally:
                self._frontier.queue.task_done()

    async def _visit(self, task: PageTask) -> None:
        result = await self._fetcher.fetch(
            task.url,
            max_bytes=self._settings.max_page_bytes,
            gate=self.own_gate,
            accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
        )
        if result.error is not None:
            if result.error not in _REFUSALS:
                self.stats.pages_failed += 1
                self.stats.fetch_errors += 1
            await self._skip(task.url, "page", result.error, result.error_detail)
            return
        self._frontier.mark_seen(result.final_url)
        discovery = None
        if result.ok and result.content_type in _HTML_TYPES and result.body is not None:
            discovery = await self._parse_page(
                result.body, result.final_url, _charset(result.header("content-type")),
                self._bot_names,
            )  # fmt: skip
        page = self._page_record(task, result, discovery)
        await self._sink.on_page(page, task.target)
        if not result.ok:
            self.stats.pages_failed += 1
            self.stats.fetch_errors += 1
            await self._skip(task.url, "page", "http_error", f"HTTP {result.status}")
            return
        self.stats.pages_ok += 1
        if task.depth == 0:
            self.stats.seeds_reached += 1
        if discovery is None:
            await self._skip(task.url, "page", "not_html", result.content_type)
            return
        for link in discovery.links:
            self._frontier.add_link(link, task.depth + 1, task.target)
        for ref in discovery.images:
            await self._add_image(ref, page.final_url, task.target)

    def _page_record(
        self, task: PageTask, result: FetchResult, discovery: PageDiscovery | None
    ) -> PageRecord:
        return PageRecord(
            url=task.url,
            final_url=result.final_url,
            site=origin_of(result.final_url),
            depth=task.depth,
            status=result.status,
            content_type=result.content_type,
            fetched_at=result.fetched_at,
            title=discovery.title if discovery else None,
            lang=discovery.lang if discovery else None,
            hreflang=discovery.hreflang if discovery else (),
            meta_robots=discovery.meta_robots if discovery else (),
            license_links=discovery.license_links if discovery else (),
            image_count=len(discovery.images) if discovery else 0,
            link_count=len(discovery.links) if discovery else 0,
            truncated=discovery.truncated if discovery else False,
        )

    async def _add_image(self, ref: ImageRef, page_url: str, target: int) -> None:
        try:
            url = normalise_url(ref.url)
        except InvalidURLError:
            return
        context = ImageContext(
            page_url=page_url,
            kind=ref.kind.value,
            alt=ref.alt,
            license=ref.license,
            credit_text=ref.credit_text,
            copyright_notice=ref.copyright_notice,
            acquire_license_page=ref.acquire_license_page,
        )
        if url in self._in_flight:
            self._in_flight[url].append(context)
        elif url in self._images_seen:
            await self._sink.on_image_context(url, context)
        else:
            self._images_seen.add(url)
            self._in_flight[url] = [context]
            task = asyncio.create_task(self._examine_image(url, target))
            self._image_tasks.add(task)
            task.add_done_callback(self._image_tasks.discard)

    async def _examine_image(self, url: str, target: int) -> None:
        async with self._image_slots:
            record = await self._fetch_image(url)
        contexts = tuple(self._in_flight.pop(url, ()))
        self.stats.images += 1
        self.stats.images_fetched += int(record.fetched)
        if record.skip_reason is not None:
            self.stats.fetch_errors += int(record.skip_reason not in _REFUSALS)
            await self._skip(url, "image", record.skip_reason, None)
        await self._sink.on_image(replace(record, contexts=contexts), target)

    async def _fetch_image(self, url: str) -> ImageRecord:
        site = origin_of(url)
        refusal = await self.own_gate(url)
        if refusal is not None:
            return ImageRecord(url, site, (), fetched=False, skip_reason=refusal, fetched_at=None)
        result = await self._fetcher.fetch(
            url, max_bytes=self._settings.max_image_bytes, gate=self.own_gate,
            accept="image/avif,image/webp,image/*;q=0.9,*/*;q=0.1",
        )  # fmt: skip
        record = ImageRecord(
            url=url,
            site=site,
            contexts=(),
            fetched=False,
            skip_reason=result.error,
            fetched_at=result.fetched_at,
            status=result.status,
            content_type=result.content_type,
            headers=tuple((k, v) for k, v in result.headers if k in EVIDENCE_HEADERS),
        )
        if result.error is not None:
            return record
        if not result.ok or result.body is None:
            return replace(record, skip_reason="http_error")
        facts = await self._extract(result.body)
        return replace(record, fetched=True, facts=facts)
