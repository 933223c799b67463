"""The crawl stage: visit pages in scope, then fetch and extract every image they embed, once.

The crawl runs in two phases. Pages come first (breadth-first, within each target's scope and
limits), so that when an image is examined every page that embeds it is known: a page-level
``noai`` on the third page that shows an image must still reach that image, and an image's
evidence must not depend on which page a worker happened to fetch first. The crawler keeps only
image URLs with their page contexts between the phases, never image bytes, and keeps them on
disk (:class:`~auditor.crawl.imagerefs.ImageRefs`), so its memory does not grow with the crawl.

The crawler obeys robots.txt for the auditor's own token before every request (pages, images
and each redirect hop), and records every URL it will not or cannot fetch as a skip with a
reason; an image it may not fetch is still reported, with ``fetched=False``. Scope limits which
pages are visited; images embedded in in-scope pages are examined wherever they are hosted.

CPU-heavy work runs elsewhere: pages are parsed through the injected ``parse_page``, and image
requests, once cleared, are sent through the injected ``image_hops``
(:class:`~auditor.crawl.imagepool.ImagePool`), which examines each image where its bytes
arrive and returns its facts; the event loop moves only decisions.
Results leave the crawler as frozen records through an async :class:`CrawlSink`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from auditor.config import CrawlSettings
from auditor.crawl.discover import ImageRef, PageDiscovery
from auditor.crawl.fetcher import Fetcher, FetchResult, HopSender, utc_now_iso
from auditor.crawl.frontier import Frontier, PageTask, Seed
from auditor.crawl.imagerefs import ImageRefs
from auditor.crawl.origins import REFUSALS, OwnRobotsGate
from auditor.crawl.urls import InvalidURLError, normalise_url, origin_of
from auditor.model import ImageContext, ImageRecord, PageRecord, SkipRecord

#: Response headers kept as evidence. Everything else (cookies above all) is dropped: the
#: auditor must not store credentials or tracking identifiers it happens to see.
EVIDENCE_HEADERS = frozenset(
    {
        "content-type", "content-length", "last-modified", "etag", "cache-control", "date",
        "x-robots-tag", "robots-tag", "tdm-reservation", "tdm-policy", "content-usage",
        "content-signal", "link", "content-disposition", "content-language", "server",
    }
)  # fmt: skip
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PAGE_WORKERS = 8
IMAGE_WORKERS = 32

ParsePage = Callable[[bytes, str, str | None, tuple[str, ...]], Awaitable[PageDiscovery]]


class CrawlSink(Protocol):
    """Receives crawl results as they are produced (the orchestrator enriches and stores them)."""

    async def on_page(self, page: PageRecord, target: int) -> None:
        """Take a fetched page (whatever its status)."""

    async def on_images_known(self, urls: Sequence[str]) -> None:
        """Take every image URL of the run before any is examined (for batch look-ups)."""

    async def on_image(self, image: ImageRecord, target: int, skip: SkipRecord | None) -> None:
        """Take an examined image, fetched or not, with every page that references it.

        ``skip`` says why it was not fetched, when it was not: the sink records it with the
        image, so the two are stored together or not at all (a resumed crawl relies on it).
        """

    async def on_skip(self, skip: SkipRecord) -> None:
        """Record a URL that was not processed, with the reason."""


@dataclass
class CrawlStats:
    """Counters of the page phase; mutable because the crawl fills them in.

    The image phase is counted by the sink, as each image is recorded, so that its counts and
    its records can be checkpointed together.
    """

    pages_ok: int = 0
    pages_failed: int = 0
    fetch_errors: int = 0
    skips: int = 0
    seeds_reached: int = 0


def _charset(content_type: str | None) -> str | None:
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def evidence_headers(result: FetchResult) -> tuple[tuple[str, str], ...]:
    """Keep the response headers worth keeping as evidence, every instance, in order."""
    return tuple((key, value) for key, value in result.headers if key in EVIDENCE_HEADERS)


class Crawler:
    """Runs one crawl over the seeds; create a new instance per run.

    ``done_images`` are image URLs a resumed run already recorded: their pages are crawled again
    (page records are replaced, and every page that embeds an image must be known), but the
    images themselves are not examined again.
    """

    def __init__(
        self,
        *,
        seeds: tuple[Seed, ...],
        settings: CrawlSettings,
        fetcher: Fetcher,
        gate: OwnRobotsGate,
        parse_page: ParsePage,
        image_hops: HopSender,
        sink: CrawlSink,
        bot_names: tuple[str, ...] = (),
        done_images: frozenset[str] = frozenset(),
    ) -> None:
        self._settings = settings
        self._fetcher = fetcher
        self._gate = gate
        self._parse_page = parse_page
        self._image_hops = image_hops
        self._sink = sink
        self._bot_names = tuple(dict.fromkeys((settings.token, *bot_names)))
        self._frontier = Frontier(seeds)
        # A team audits its own staging sites: the hosts it names may be private, others not.
        fetcher.trust_targets(seed.url for seed in seeds)
        # image URL -> (target of the first page that referenced it, every referencing page),
        # on disk between the phases; closed (deleted) when run() ends
        self._images = ImageRefs()
        self._done = done_images  # images a resumed run already recorded: not examined again
        self.stats = CrawlStats()

    async def run(self) -> CrawlStats:
        """Crawl every page in scope, then examine every image those pages reference."""
        with self._images:
            for url, reason in self._frontier.add_seeds():
                await self._skip(url, "target", "invalid_url", reason)
            await self._crawl_pages()
            await self._sink.on_images_known(
                [url for url in self._images.urls() if url not in self._done]
            )
            pending = self._images.drain(self._done)
            workers = [self._image_worker(pending) for _ in range(IMAGE_WORKERS)]
            await asyncio.gather(*workers)
        return self.stats

    async def _crawl_pages(self) -> None:
        """Run page workers until the frontier is drained; a crashing worker re-raises."""
        queue = self._frontier.queue
        workers = [asyncio.create_task(self._page_worker()) for _ in range(PAGE_WORKERS)]
        drained = asyncio.create_task(queue.join())
        try:
            done, _ = await asyncio.wait({drained, *workers}, return_when=asyncio.FIRST_COMPLETED)
            for task in done - {drained}:
                task.result()  # workers only stop by raising: surface the error
        finally:
            for task in (drained, *workers):
                task.cancel()
            await asyncio.gather(drained, *workers, return_exceptions=True)

    async def _skip(self, url: str, kind: str, reason: str, detail: str | None) -> None:
        self.stats.skips += 1
        await self._sink.on_skip(SkipRecord(url, kind, reason, detail, utc_now_iso()))

    async def _page_worker(self) -> None:
        queue = self._frontier.queue
        while True:
            task = await queue.get()
            try:
                await self._visit(task)
            finally:
                queue.task_done()

    async def _visit(self, task: PageTask) -> None:
        result = await self._fetcher.fetch(
            task.url,
            max_bytes=self._settings.max_page_bytes,
            gate=self._gate,
            accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
        )
        if result.error is not None:
            if result.error not in REFUSALS:
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
        for target in self._frontier.newly_over_budget():
            seed = self._frontier.seeds[target]
            detail = f"page budget of {seed.max_pages} reached; further links were not followed"
            await self._skip(seed.url, "target", "max_pages", detail)
        for ref in discovery.images:
            self._add_image(ref, page.final_url, task.target)

    @staticmethod
    def _page_record(
        task: PageTask, result: FetchResult, discovery: PageDiscovery | None
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
            headers=evidence_headers(result),
            tdm_meta=discovery.tdm_meta if discovery else (),
            image_count=len(discovery.images) if discovery else 0,
            link_count=len(discovery.links) if discovery else 0,
            truncated=discovery.truncated if discovery else False,
        )

    def _add_image(self, ref: ImageRef, page_url: str, target: int) -> None:
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
        self._images.add(url, target, context)

    async def _image_worker(
        self, pending: Iterator[tuple[str, int, tuple[ImageContext, ...]]]
    ) -> None:
        for url, target, contexts in pending:  # shared iterator: each image goes to one worker
            record, detail = await self._fetch_image(url)
            record = replace(record, contexts=contexts)
            skip = None
            if record.skip_reason is not None:
                skip = SkipRecord(url, "image", record.skip_reason, detail, utc_now_iso())
            await self._sink.on_image(record, target, skip)

    async def _fetch_image(self, url: str) -> tuple[ImageRecord, str | None]:
        """Fetch and examine one image; return its record and the detail of any skip.

        The address check comes before the auditor's robots gate, so an image on a private
        address is refused as such, without asking that address for its robots.txt.
        """
        site = origin_of(url)
        screened = await self._fetcher.screen(url)
        refusal, detail = screened.refusal, screened.detail
        if refusal is None:
            refusal, detail = await self._gate(url), None
        if refusal is not None:
            record = ImageRecord(url, site, (), fetched=False, skip_reason=refusal, fetched_at=None)
            return record, detail
        result = await self._fetcher.fetch(
            url, max_bytes=self._settings.max_image_bytes, gate=self._gate,
            accept="image/avif,image/webp,image/*;q=0.9,*/*;q=0.1", via=self._image_hops,
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
            headers=evidence_headers(result),
        )
        if result.error is not None:
            return record, result.error_detail
        if not result.ok or result.facts is None:  # image_hops examines every complete 2xx body
            return replace(record, skip_reason="http_error"), f"HTTP {result.status}"
        return replace(record, fetched=True, facts=result.facts), None
