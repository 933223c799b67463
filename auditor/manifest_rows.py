"""Turn one manifest row into a finished image record: copy, live source, signals, rules.

:meth:`RowAuditor.prepare` does the slow, concurrent part of a row (reading and extracting the
stored copy in a worker process, refetching the live source, the GPS look-up) and returns a
:class:`PreparedRow`. :meth:`RowAuditor.commit` does the rest synchronously, in manifest order:
signals, verdicts, jurisdictions, rule outcomes, the dataset tally and the store. Keeping the
commit synchronous and ordered is what makes a run resumable to the row: all of a row's records
and counts go in together (inside :meth:`~auditor.store.StoreWriter.unit`), or none do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, replace

from auditor.aggregates import DatasetTally
from auditor.audit import extract_limits, in_pool
from auditor.config import AuditConfig
from auditor.crawl.crawler import evidence_headers
from auditor.crawl.fetcher import Fetcher, FetchResult, utc_now_iso
from auditor.crawl.origins import REFUSALS, OwnRobotsGate
from auditor.crawl.urls import origin_of
from auditor.evaluator import RuleEvaluator
from auditor.extract import ImageFacts, extract_image
from auditor.facts import SiteFacts, image_facts, site_facts
from auditor.jurisdiction import estimate, gps_region
from auditor.manifest import ManifestItem, ManifestRow, RowProblem
from auditor.manifest.jobs import extract_local
from auditor.model import (
    CollectedCopy,
    Finding,
    ImageContext,
    ImageRecord,
    SignalRecord,
    SkipRecord,
    Subject,
    frozen_map,
)
from auditor.recorder import AuditObserver, OriginFiles, gps_position
from auditor.signals.collected import (
    Mechanisms,
    collected_signals,
    live_signals,
    unobserved_origin,
)
from auditor.signals.evidence import ImageEvidence, OriginEvidence
from auditor.signals.usage import combine
from auditor.store import StoreWriter

__all__ = ["Live", "PreparedRow", "RowAuditor", "RowCounts"]

#: img2dataset statuses of rows it did not store: nothing was collected, so nothing to audit.
NOT_COLLECTED = frozenset({"failed_to_download", "failed_to_resize"})
#: Skip reasons that are not errors: no copy was kept, or the auditor declined on principle.
_NOT_ERRORS = REFUSALS | {"no_local_copy"}


#: What refetching needs: the fetcher, the auditor's own robots.txt gate, the origin files.
LiveSource = tuple[Fetcher, OwnRobotsGate, OriginFiles]


@dataclass
class RowCounts:
    """Running counts of a manifest run (part of its checkpoint, so a resume carries on)."""

    rows: int = 0
    images: int = 0
    fetched: int = 0
    skips: int = 0
    errors: int = 0
    last_key: str | None = None


@dataclass(frozen=True)
class Live:
    """What the refetch of a row's URL found: the response and the origin's files, now."""

    result: FetchResult | None  # None: refused (network safety, the auditor's robots.txt group)
    refusal: str | None
    origin: OriginEvidence
    facts: ImageFacts | None  # the live bytes' facts, only when there is no stored copy
    detail: str | None = None  # why it was refused, when it was


@dataclass(frozen=True)
class PreparedRow:
    """A manifest item with everything that needed waiting for."""

    item: ManifestItem
    facts: ImageFacts | None = None  # the stored copy's facts
    copy_error: str | None = None  # why the stored copy could not be read
    live: Live | None = None
    gps_country: str | None = None


class RowAuditor:
    """Prepares and commits manifest rows for one run."""

    def __init__(
        self,
        *,
        config: AuditConfig,
        pool: Executor,
        mechanisms: Mechanisms,
        evaluator: RuleEvaluator,
        tally: DatasetTally,
        counts: RowCounts,
        writer: StoreWriter,
        observer: AuditObserver,
        live: LiveSource | None = None,
    ) -> None:
        self.config = config
        self.pool = pool
        self.mechanisms = mechanisms
        self.evaluator = evaluator
        self.tally = tally
        self.counts = counts
        self.writer = writer
        self.observer = observer
        self.live = live
        self.limits = extract_limits(config.crawl)
        targets = config.targets
        self.declared = {origin_of(t.url): t.jurisdictions for t in targets}
        self.categories = {origin_of(t.url): t.categories or None for t in targets}

    # -- the concurrent part -----------------------------------------------------------------

    async def prepare(self, item: ManifestItem) -> PreparedRow:
        """Read and extract the stored copy, refetch the live source, locate the GPS position."""
        if isinstance(item, RowProblem) or _not_collected(item):
            return PreparedRow(item)
        facts: ImageFacts | None = None
        copy_error = None
        if item.local is not None:
            max_bytes = self.config.crawl.max_image_bytes
            extracted = await in_pool(self.pool, extract_local, item.local, max_bytes, self.limits)
            facts, copy_error = (
                (None, extracted) if isinstance(extracted, str) else (extracted, None)
            )
        live = await self._refetch(item, self.live, extract=facts is None) if self.live else None
        seen = facts or (live.facts if live else None)
        position = gps_position(seen)
        # The first look-up loads the gazetteer (about 2 s): off the event loop.
        country = (await asyncio.to_thread(gps_region, *position))[0] if position else None
        return PreparedRow(item, facts, copy_error, live, country)

    async def _refetch(self, row: ManifestRow, source: LiveSource, *, extract: bool) -> Live:
        fetcher, gate, origins = source
        origin = await origins.evidence(origin_of(row.url))
        # The address check comes first, as in a crawl: a private address is refused as such.
        screened = await fetcher.screen(row.url)
        refusal, detail = screened.refusal, screened.detail
        if refusal is None:
            refusal, detail = await gate(row.url), None
        if refusal is not None:
            return Live(None, refusal, origin, None, detail)
        result = await fetcher.fetch(
            row.url, max_bytes=self.config.crawl.max_image_bytes, gate=gate,
            accept="image/avif,image/webp,image/*;q=0.9,*/*;q=0.1",
        )  # fmt: skip
        facts = None
        if extract and result.ok and result.body is not None:
            facts = await in_pool(self.pool, extract_image, result.body, self.limits)
        return Live(replace(result, body=None), result.error, origin, facts)

    # -- the ordered, synchronous part -------------------------------------------------------

    def commit(self, prepared: PreparedRow) -> None:
        """Record a prepared row: every record and count of it together, then the progress."""
        item = prepared.item
        with self.writer.unit():
            if isinstance(item, RowProblem):
                self._skip(item.key, "bad_row" if "#" in item.key else "bad_file", item.message)
            elif _not_collected(item):
                detail = item.extra.get("error_message") or item.extra.get("status")
                self._skip(item.url, "not_collected", f"row {item.key}: {detail}")
            else:
                self._record_or_skip(item, prepared)
            self.counts.rows += 1
            self.counts.last_key = item.key

    def _record_or_skip(self, row: ManifestRow, prepared: PreparedRow) -> None:
        """Record the row, or, when an earlier row named its URL, a ``duplicate_url`` skip."""
        for problem in row.problems:
            self._skip(row.url, "bad_value", f"row {row.key}: {problem}")
        first = self.writer.stored_key(row.url)
        if first is None:
            self._record(row, prepared)
            return
        copy = f" (copy {row.local.label})" if row.local else ""
        detail = (
            f"row {row.key}{copy} has the same URL as row {first}; the image is audited once, "
            f"as row {first}"
        )
        self._skip(row.url, "duplicate_url", detail)

    def _skip(self, url: str, reason: str, detail: str | None) -> None:
        skip = SkipRecord(url, "manifest", reason, detail, utc_now_iso())
        self.counts.skips += 1
        self.writer.add_skip(skip)
        self.observer.skipped(skip)

    def _record(self, row: ManifestRow, prepared: PreparedRow) -> None:
        live = prepared.live
        image = self._image(row, prepared)
        evidence = ImageEvidence(
            url=row.url,
            tokens=self.config.crawler.robots_tokens,
            origin=live.origin if live else unobserved_origin(origin_of(row.url)),
            response_headers=None,
            status=None,
            fetched_at=row.collected_at,
            facts=prepared.facts,
            pages=(),
            contexts=image.contexts,
            claimed_sha256=row.sha256,
            claimed_phash=row.phash,
        )
        signals = collected_signals(self.mechanisms, evidence)
        if live is not None:
            signals += self._live_signals(row, prepared, live)
        verdicts = combine(signals)
        page_urls = [row.page_url] if row.page_url else [row.url]
        site = origin_of(page_urls[0])
        declared = self.declared.get(site, ())
        located = estimate(page_urls, declared, gps=gps_position(image.facts))
        image = replace(
            image,
            signals=tuple(signals),
            usage=verdicts.usage,
            usage_conflicts=verdicts.conflicts,
            jurisdictions=located.likelihoods,
            jurisdiction_evidence=located.evidence,
            gps_country=prepared.gps_country,
        )
        findings = self._evaluate(image, site, live)
        self.counts.images += 1
        self.counts.fetched += int(image.facts is not None)
        if image.skip_reason is not None:
            self.counts.errors += int(image.skip_reason not in _NOT_ERRORS)
            self._skip(row.url, image.skip_reason, prepared.copy_error or f"row {row.key}")
        elif live is not None and (live.refusal or (live.result and live.result.error)):
            self._refetch_skip(row, live)
        self.writer.add_image(image)
        self.writer.add_findings(findings)
        self.observer.image_done(image, findings)

    def _refetch_skip(self, row: ManifestRow, live: Live) -> None:
        """Record why the live source could not be read (the stored copy was analysed)."""
        result = live.result
        reason = live.refusal or (result.error if result else None) or "refetch_failed"
        detail = live.detail or (result.error_detail if result else None)
        self.counts.errors += int(reason not in _NOT_ERRORS)
        self._skip(row.url, reason, f"refetch of row {row.key}: {detail or reason}")

    def _image(self, row: ManifestRow, prepared: PreparedRow) -> ImageRecord:
        live = prepared.live
        response = live.result if live else None
        facts = prepared.facts or (live.facts if live else None)
        if facts is not None:
            skip_reason = None
        elif prepared.copy_error is not None:
            skip_reason = "copy_unreadable"
        elif live is not None:
            skip_reason = live.refusal or ("http_error" if response and not response.ok else None)
        else:
            skip_reason = "no_local_copy"
        context = (ImageContext(page_url=row.page_url, kind="manifest"),) if row.page_url else ()
        local = row.local.label if row.local else None
        return ImageRecord(
            url=row.url,
            site=origin_of(row.url),
            contexts=context,
            fetched=True,  # the crawler collected it; skip_reason says if it went unanalysed
            skip_reason=skip_reason,
            fetched_at=row.collected_at,
            status=response.status if response else None,
            content_type=response.content_type if response else None,
            headers=evidence_headers(response) if response else (),
            facts=facts,
            copy=CollectedCopy(row.key, local, frozen_map(row.extra)),
        )

    def _live_signals(
        self, row: ManifestRow, prepared: PreparedRow, live: Live
    ) -> list[SignalRecord]:
        response = live.result
        received = response is not None and response.error is None
        evidence = ImageEvidence(
            url=row.url,
            tokens=self.config.crawler.robots_tokens,
            origin=live.origin,
            response_headers=evidence_headers(response) if received and response else None,
            status=response.status if response else None,
            fetched_at=response.fetched_at if response else None,
            facts=prepared.facts or live.facts,
            pages=(),
        )
        return live_signals(self.mechanisms, evidence, embedded=prepared.facts is None)

    def _evaluate(self, image: ImageRecord, site: str, live: Live | None) -> tuple[Finding, ...]:
        robots = live.origin.robots.policy.availability.value if live else None
        site_of_image = SiteFacts(image.site, robots, {}, categories=self.categories.get(site))
        facts: Mapping[str, object] = {
            **site_facts(site_of_image),
            **image_facts(image, self.evaluator.clock()),
        }
        self.tally.add_evaluated(image, facts)
        return self.evaluator.run(
            Subject.IMAGE, facts, image_url=image.url,
            page_url=image.page_urls[0] if image.page_urls else None, site=image.site,
        )  # fmt: skip


def _not_collected(row: ManifestRow) -> bool:
    return row.extra.get("status") in NOT_COLLECTED and row.local is None
