"""Finish each crawled record: evidence, verdicts, jurisdictions, rules, then the store.

The crawler hands over raw pages and images; :class:`AuditSink` turns each into its final form
(signal records from every registered mechanism, combined usage verdicts, jurisdiction
likelihoods with their evidence, rule outcomes), writes it and counts it into the dataset
aggregates, which the dataset rules are evaluated on once the crawl is over.
:class:`RuleEvaluator` evaluates any subject and counts every outcome per rule, so passes are
counted without being stored.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from auditor.aggregates import DatasetTally
from auditor.crawl.frontier import Seed
from auditor.crawl.origins import REFUSALS, DocumentCache, OriginDocument, RobotsCache
from auditor.crawl.urls import origin_of
from auditor.evaluator import RuleEvaluator
from auditor.extract import ImageFacts
from auditor.facts import SiteFacts, image_facts, site_facts
from auditor.jurisdiction import (
    JurisdictionEstimate,
    PageLocale,
    estimate,
    gazetteer_loaded,
    gps_region,
    merge_strongest,
)
from auditor.model import (
    Finding,
    ImageRecord,
    OriginFileRecord,
    PageRecord,
    SkipRecord,
    Subject,
)
from auditor.signals import PAGE_MECHANISMS, ImageMechanism
from auditor.signals.aitxt import AiTxtFile
from auditor.signals.evidence import ImageEvidence, OriginEvidence, PageEvidence
from auditor.signals.tdmrep import TdmrepFile
from auditor.signals.usage import combine
from auditor.store import StoreWriter


class AuditObserver(Protocol):
    """Progress callbacks; the CLI draws them, tests may record them."""

    def run_started(self, run_id: int, db: str) -> None:
        """Note that the run row now exists."""

    def page_done(self, page: PageRecord) -> None:
        """Count a fetched page."""

    def image_done(self, image: ImageRecord, findings: tuple[Finding, ...]) -> None:
        """Count an examined and evaluated image."""

    def skipped(self, skip: SkipRecord) -> None:
        """Report a skipped URL."""


@dataclass
class ImageCounts:
    """Counters of the image phase, kept with the records (a resumed crawl restores them)."""

    images: int = 0
    fetched: int = 0
    errors: int = 0
    skips: int = 0


class Prefetcher(Protocol):
    """A mechanism that looks images up in batches (a registry) before they are examined."""

    async def prefetch(self, urls: Sequence[str]) -> None:
        """Look up every URL; answers are kept for the mechanism to read."""


class OriginFiles:
    """The three origin documents of every origin, each fetched once and cached."""

    def __init__(
        self,
        robots: RobotsCache,
        tdmrep: DocumentCache[TdmrepFile],
        ai_txt: DocumentCache[AiTxtFile],
    ) -> None:
        self.robots = robots
        self.tdmrep = tdmrep
        self.ai_txt = ai_txt

    async def evidence(self, origin: str) -> OriginEvidence:
        """Everything that governs resources of ``origin``."""
        robots = await self.robots.get(origin)
        tdmrep = await self.tdmrep.get(origin)
        ai_txt = await self.ai_txt.get(origin)
        return OriginEvidence(
            origin, robots, tdmrep.meta, tdmrep.parsed, ai_txt.meta, ai_txt.parsed
        )

    def records(self) -> dict[str, list[OriginFileRecord]]:
        """How each origin's files were obtained, for the sites table."""
        files: dict[str, list[OriginFileRecord]] = {}
        for entry in self.robots.entries():
            policy = entry.policy
            files.setdefault(entry.origin, []).append(
                OriginFileRecord(
                    "robots", policy.availability.value, policy.http_status, entry.sha256,
                    entry.fetched_at,
                )
            )  # fmt: skip
        documents: dict[str, Mapping[str, OriginDocument[object]]] = {
            "tdmrep": self.tdmrep.entries(),
            "ai_txt": self.ai_txt.entries(),
        }
        for kind, entries in documents.items():
            for origin, document in entries.items():
                meta = document.meta
                files.setdefault(origin, []).append(
                    OriginFileRecord(kind, meta.outcome, meta.status, meta.sha256, meta.fetched_at)
                )
        return files


class AuditSink:
    """Receives crawl results, finishes each record and hands it to the store and observer."""

    def __init__(
        self,
        *,
        writer: StoreWriter,
        evaluator: RuleEvaluator,
        origins: OriginFiles,
        mechanisms: Mapping[str, ImageMechanism],
        seeds: tuple[Seed, ...],
        declared_tokens: tuple[str, ...],
        observer: AuditObserver,
        prefetchers: Sequence[Prefetcher] = (),
        site_categories: Sequence[tuple[str, ...]] = (),
        dataset: DatasetTally,
        counts: ImageCounts,
    ) -> None:
        self.writer = writer
        self.prefetchers = prefetchers
        self.evaluator = evaluator
        self.origins = origins
        self.mechanisms = mechanisms
        self.seeds = seeds
        self.tokens = declared_tokens
        self.observer = observer
        self.site_categories = site_categories  # per target, as declared in audit.yaml
        self.pages: dict[str, PageEvidence] = {}  # final URL -> what the page said
        self.locales: dict[str, PageLocale] = {}  # final URL -> the page's language signals
        self.pages_per_site: Counter[str] = Counter()
        self.counts = counts
        self.site_jurisdictions: dict[str, dict[str, float]] = {}
        self.origin_targets: dict[str, int] = {}  # origin -> the first target that reached it
        self.dataset = dataset  # counted into as images are recorded (checkpointed with them)

    async def on_page(self, page: PageRecord, target: int) -> None:
        """Record the page with the signals about the page resource itself."""
        evidence = PageEvidence(
            url=page.final_url,
            status=page.status,
            fetched_at=page.fetched_at,
            headers=page.headers,
            meta_robots=page.meta_robots,
            tdm_meta=page.tdm_meta,
            license_links=page.license_links,
        )
        self.pages[page.final_url] = evidence
        self.locales[page.final_url] = PageLocale.of(page)
        self.origin_targets.setdefault(page.site, target)
        origin = await self.origins.evidence(page.site)
        signals = tuple(
            record
            for mechanism in PAGE_MECHANISMS.values()
            for record in mechanism(evidence, origin, self.tokens)
        )
        self.writer.add_page(replace(page, signals=signals))
        self.pages_per_site[page.site] += 1
        locale = self.locales[page.final_url]
        declared = self.seeds[target].jurisdictions
        likelihoods = estimate([page.final_url], declared, locales=[locale]).likelihoods
        merge_strongest(self.site_jurisdictions.setdefault(page.site, {}), likelihoods)
        self.observer.page_done(page)

    async def on_images_known(self, urls: Sequence[str]) -> None:
        """Let batch mechanisms (registries) look every image up before any is examined."""
        for prefetcher in self.prefetchers:
            await prefetcher.prefetch(urls)

    async def on_image(self, image: ImageRecord, target: int, skip: SkipRecord | None) -> None:
        """Gather the image's evidence, combine verdicts, evaluate the rules, store it all.

        Everything after the last wait goes to the writer as one unit, with the counts: a
        checkpoint never splits an image from its findings, skip or counts.
        """
        origin = await self.origins.evidence(origin_of(image.url))
        evidence = ImageEvidence(
            url=image.url,
            tokens=self.tokens,
            origin=origin,
            response_headers=image.headers if image.status is not None else None,
            status=image.status,
            fetched_at=image.fetched_at,
            facts=image.facts,
            pages=tuple(self.pages[url] for url in image.page_urls if url in self.pages),
            contexts=image.contexts,
        )
        signals = [
            record for mechanism in self.mechanisms.values() for record in mechanism(evidence)
        ]
        verdicts = combine(signals)
        gps = gps_position(image.facts)
        # The first look-up loads the gazetteer (0.4-1.2 s): off the event loop, and before
        # _locate, whose own look-up of the same position then finds it loaded. Later ones take
        # 0.03-0.4 ms, less than handing them to a thread.
        if gps is None:
            country = None
        elif gazetteer_loaded():
            country = gps_region(*gps)[0]
        else:
            country = (await asyncio.to_thread(gps_region, *gps))[0]
        located = self._locate(image, target, gps)
        image = replace(
            image,
            signals=tuple(signals),
            usage=verdicts.usage,
            usage_conflicts=verdicts.conflicts,
            jurisdictions=located.likelihoods,
            jurisdiction_evidence=located.evidence,
            gps_country=country,
        )
        robots = origin.robots.policy.availability.value
        site = SiteFacts(image.site, robots, {}, categories=self._categories(target))
        facts = {**site_facts(site), **image_facts(image, self.evaluator.clock())}
        with self.writer.unit():
            self.dataset.add_evaluated(image, facts)
            findings = self.evaluator.run(
                Subject.IMAGE, facts, image_url=image.url,
                page_url=image.page_urls[0] if image.page_urls else None, site=image.site,
            )  # fmt: skip
            self.counts.images += 1
            self.counts.fetched += int(image.fetched)
            if skip is not None:
                self.counts.skips += 1
                self.counts.errors += int(skip.reason not in REFUSALS)
                self.writer.add_skip(skip)
            self.writer.add_image(image)
            self.writer.add_findings(findings)
        if skip is not None:
            self.observer.skipped(skip)
        self.observer.image_done(image, findings)

    def _locate(
        self, image: ImageRecord, target: int, gps: tuple[float, float] | None
    ) -> JurisdictionEstimate:
        locales = [self.locales[url] for url in image.page_urls if url in self.locales]
        return estimate(image.page_urls, self.seeds[target].jurisdictions, locales=locales, gps=gps)

    def _categories(self, target: int | None) -> tuple[str, ...] | None:
        """Return the declared categories of a target's site; ``None`` (missing) when undeclared."""
        if target is None or target >= len(self.site_categories):
            return None
        return self.site_categories[target] or None

    async def on_skip(self, skip: SkipRecord) -> None:
        """Record a skipped URL."""
        self.writer.add_skip(skip)
        self.observer.skipped(skip)

    def finish_sites(self, images_per_site: Mapping[str, int]) -> None:
        """Record every origin met, with its files, and evaluate the site rules.

        ``images_per_site`` comes from the store, which holds every image of the run, also
        those a resumed run recorded before it was interrupted.
        """
        for origin, files in self.origins.records().items():
            self.writer.add_site(origin, files)
            robots = next((f.status for f in files if f.kind == "robots"), None)
            site = SiteFacts(
                origin,
                robots,
                self.site_jurisdictions.get(origin, {}),
                pages=self.pages_per_site[origin],
                images=images_per_site.get(origin, 0),
                categories=self._categories(self.origin_targets.get(origin)),
            )
            self.writer.add_findings(
                self.evaluator.run(Subject.SITE, site_facts(site), site=origin)
            )

    def finish_dataset(self) -> None:
        """Evaluate the dataset rules on the aggregates."""
        self.writer.add_findings(self.evaluator.run(Subject.DATASET, self.dataset.facts()))


def gps_position(facts: ImageFacts | None) -> tuple[float, float] | None:
    """Return the (already coarsened) EXIF position of an image, when it has a usable one."""
    exif = facts.exif if facts is not None else None
    if exif is None or exif.gps_lat is None or exif.gps_lon is None:
        return None
    return exif.gps_lat, exif.gps_lon
