"""Queries used by ``report``, ``export`` and ``check --from-db``: the streaming ``SELECT``s.

Everything here reads; :mod:`auditor.store.writer` writes. Iterators stream: rows come from the
database in chunks (``yield_per``), and the contexts and signals of a chunk of images are fetched
with one query each, so memory stays bounded whatever the size of the run. An iterator holds a
connection until it is exhausted or closed.

Orders are deterministic (DESIGN 5): images, pages and sites by URL; findings by severity
(critical first), rule id, then subject (image URL, page URL, site) and fingerprint; signals by
subject URL (the image's, or the page's for page-level signals; page-level first on a tie),
mechanism, source URL; skips by URL, kind, reason. On PostgreSQL text is compared with the ``C``
collation so both backends sort byte-wise alike.

The records themselves are in :mod:`auditor.store.exports` (images, pages, sites, signals) and
:mod:`auditor.store.run_records` (runs, rule stats, findings); rows become records in
:mod:`auditor.store.row_decoders`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, case, collate, func, select
from sqlalchemy.orm import InstrumentedAttribute, QueryableAttribute

from auditor.errors import StoreError
from auditor.model import (
    ImageContext,
    Outcome,
    RunCounters,
    Severity,
    SkipRecord,
    Subject,
    SuppressionInfo,
    SuppressionStatus,
    frozen_map,
)
from auditor.store.exports import ImageExport, PageExport, SignalExport, SiteExport
from auditor.store.facts_json import facts_from_json
from auditor.store.row_decoders import (
    counts_from_json,
    image_from_row,
    page_from_row,
    signal_from_row,
    site_from_row,
)
from auditor.store.run_records import FindingExport, RuleStat, RunRow, RunSummary
from auditor.store.schema import (
    FindingRow,
    Image,
    Page,
    RuleStatRow,
    Run,
    Signal,
    Site,
    Skip,
    SuppressionRow,
)
from auditor.store.schema import ImageContext as ImageContextRow

#: Rows fetched per round trip by the streaming iterators.
CHUNK_SIZE = 500


def _text_order(
    connection: Connection, column: ColumnElement[str] | QueryableAttribute[str]
) -> ColumnElement[str] | QueryableAttribute[str]:
    """Order text byte-wise on every backend (PostgreSQL would use the locale otherwise)."""
    if connection.dialect.name == "postgresql":
        return collate(column, "C")
    return column


def severity_rank() -> ColumnElement[int]:
    """Return a SQL expression ranking ``findings.severity`` (critical highest)."""
    return case(
        {severity.value: severity.rank for severity in Severity},
        value=FindingRow.severity,
        else_=-1,
    )


# -- queries -------------------------------------------------------------------------------


def get_run(connection: Connection, run_id: int) -> RunRow:
    """Return run ``run_id``; :class:`StoreError` if there is none."""
    run = connection.execute(select(*Run.__table__.columns).where(Run.id == run_id)).first()
    if run is None:
        raise StoreError(f"no run {run_id} in the database: pick another --run")
    return RunRow(
        id=run.id,
        tool_version=run.tool_version,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status=run.status,
        config_hash=run.config_hash,
        policy_hash=run.policy_hash,
        config=frozen_map(json.loads(run.config_json)),
        options=frozen_map(json.loads(run.options_json)),
        counters=RunCounters(
            pages=run.pages,
            images=run.images,
            images_fetched=run.images_fetched,
            skips=run.skips,
            errors=run.errors,
            findings=counts_from_json(run.findings_json),
            by_severity=counts_from_json(run.by_severity_json),
            passes=counts_from_json(run.passes_json),
        ),
        aggregates=(
            None if run.aggregates_json is None else frozen_map(json.loads(run.aggregates_json))
        ),
    )


def latest_run_id(connection: Connection) -> int | None:
    """Return the id of the newest run, or ``None`` when the database has none."""
    value = connection.execute(select(func.max(Run.id))).scalar()
    return None if value is None else int(value)


def iter_images(engine: Engine, run_id: int) -> Iterator[ImageExport]:
    """Yield the run's images ordered by URL, with contexts and signals, in bounded memory."""
    with engine.connect() as connection:
        query = (
            select(*Image.__table__.columns, Site.origin)
            .join(Site, Site.id == Image.site_id)
            .where(Image.run_id == run_id)
            .order_by(_text_order(connection, Image.url))
        )
        result = connection.execution_options(yield_per=CHUNK_SIZE).execute(query)
        for chunk in result.partitions():
            urls = {row.id: row.url for row in chunk}
            contexts = _contexts_of(connection, list(urls))
            signals = _signals_of(connection, Signal.image_id, urls)
            for row in chunk:
                yield image_from_row(row, contexts.get(row.id, ()), signals.get(row.id, ()))


def iter_pages(engine: Engine, run_id: int) -> Iterator[PageExport]:
    """Yield the run's pages ordered by URL, with their page-level signals, in bounded memory."""
    with engine.connect() as connection:
        query = (
            select(*Page.__table__.columns, Site.origin)
            .join(Site, Site.id == Page.site_id)
            .where(Page.run_id == run_id)
            .order_by(_text_order(connection, Page.url))
        )
        result = connection.execution_options(yield_per=CHUNK_SIZE).execute(query)
        for chunk in result.partitions():
            urls = {row.id: row.url for row in chunk}
            signals = _signals_of(connection, Signal.page_id, urls)
            for row in chunk:
                yield page_from_row(row, signals.get(row.id, ()))


def iter_sites(engine: Engine, run_id: int) -> Iterator[SiteExport]:
    """Yield the run's sites ordered by origin, with their origin-file records."""
    with engine.connect() as connection:
        query = (
            select(*Site.__table__.columns)
            .where(Site.run_id == run_id)
            .order_by(_text_order(connection, Site.origin))
        )
        for row in connection.execution_options(yield_per=CHUNK_SIZE).execute(query):
            yield site_from_row(row)


def _contexts_of(connection: Connection, ids: list[int]) -> dict[int, list[ImageContext]]:
    contexts: dict[int, list[ImageContext]] = {}
    query = (
        select(*ImageContextRow.__table__.columns)
        .where(ImageContextRow.image_id.in_(ids))
        .order_by(ImageContextRow.image_id, ImageContextRow.id)
    )
    for row in connection.execute(query):
        contexts.setdefault(row.image_id, []).append(
            ImageContext(
                page_url=row.page_url,
                kind=row.kind,
                alt=row.alt,
                license=row.license,
                credit_text=row.credit_text,
                copyright_notice=row.copyright_notice,
                acquire_license_page=row.acquire_license_page,
            )
        )
    return contexts


def _signals_of(
    connection: Connection, owner: InstrumentedAttribute[int | None], urls: Mapping[int, str]
) -> dict[int, list[SignalExport]]:
    """Return the signals of the images (or pages) ``urls``, by owner id, in stored order."""
    pages = owner.key == "page_id"
    signals: dict[int, list[SignalExport]] = {}
    query = (
        select(*Signal.__table__.columns).where(owner.in_(list(urls))).order_by(owner, Signal.id)
    )
    for row in connection.execute(query):
        owner_id = getattr(row, owner.key)
        url = urls[owner_id]
        signal = signal_from_row(row, None, url) if pages else signal_from_row(row, url)
        signals.setdefault(owner_id, []).append(signal)
    return signals


def iter_findings(engine: Engine, run_id: int) -> Iterator[FindingExport]:
    """Yield the run's findings, most severe first (see the module docstring for the order)."""
    with engine.connect() as connection:
        query = (
            select(*FindingRow.__table__.columns)
            .where(FindingRow.run_id == run_id)
            .order_by(
                severity_rank().desc(),
                _text_order(connection, FindingRow.rule_id),
                _text_order(connection, func.coalesce(FindingRow.image_url, "")),
                _text_order(connection, func.coalesce(FindingRow.page_url, "")),
                _text_order(connection, func.coalesce(FindingRow.site, "")),
                _text_order(connection, FindingRow.fingerprint),
            )
        )
        result = connection.execution_options(yield_per=CHUNK_SIZE).execute(query)
        for row in result:
            yield FindingExport(
                rule_id=row.rule_id,
                pack=row.pack,
                jurisdiction=row.jurisdiction,
                outcome=Outcome(row.outcome),
                severity=Severity(row.severity),
                subject=Subject(row.subject),
                image_url=row.image_url,
                page_url=row.page_url,
                site=row.site,
                message=row.message,
                references=tuple(json.loads(row.references_json)),
                evidence=frozen_map(json.loads(row.evidence_json)),
                fingerprint=row.fingerprint,
                title=row.title,
                remediation=row.remediation,
                state=row.state,
                suppression=(
                    None
                    if row.suppression_json is None
                    else facts_from_json(SuppressionInfo, json.loads(row.suppression_json))
                ),
            )


def iter_signals(engine: Engine, run_id: int) -> Iterator[SignalExport]:
    """Yield the run's image and page-level signals (see the module docstring for the order)."""
    with engine.connect() as connection:
        query = (
            select(
                *Signal.__table__.columns,
                Image.url.label("image_url"),
                Page.url.label("page_url"),
            )
            .outerjoin(Image, Image.id == Signal.image_id)
            .outerjoin(Page, Page.id == Signal.page_id)
            .where(Signal.run_id == run_id)
            .order_by(
                _text_order(connection, func.coalesce(Image.url, Page.url, "")),
                Signal.page_id.is_(None),
                _text_order(connection, Signal.mechanism),
                _text_order(connection, Signal.source_url),
                Signal.id,
            )
        )
        result = connection.execution_options(yield_per=CHUNK_SIZE).execute(query)
        for row in result:
            yield signal_from_row(row, row.image_url, row.page_url)


def iter_skips(engine: Engine, run_id: int) -> Iterator[SkipRecord]:
    """Yield the run's skips ordered by URL, kind and reason."""
    with engine.connect() as connection:
        query = (
            select(*Skip.__table__.columns)
            .where(Skip.run_id == run_id)
            .order_by(
                _text_order(connection, Skip.url),
                _text_order(connection, Skip.kind),
                _text_order(connection, Skip.reason),
                Skip.id,
            )
        )
        result = connection.execution_options(yield_per=CHUNK_SIZE).execute(query)
        for row in result:
            yield SkipRecord(
                url=row.url, kind=row.kind, reason=row.reason, detail=row.detail, at=row.at
            )


def rule_stats(connection: Connection, run_id: int) -> list[RuleStat]:
    """Return the run's per-rule counts ordered by pack and rule id."""
    query = (
        select(*RuleStatRow.__table__.columns)
        .where(RuleStatRow.run_id == run_id)
        .order_by(
            _text_order(connection, RuleStatRow.pack), _text_order(connection, RuleStatRow.rule_id)
        )
    )
    return [
        RuleStat(
            rule_id=row.rule_id,
            pack=row.pack,
            title=row.title,
            severity=Severity(row.severity),
            passes=row.passes,
            fails=row.fails,
            reviews=row.reviews,
            insufficient=row.insufficient,
            not_applicable=row.not_applicable,
        )
        for row in connection.execute(query)
    ]


def _count(connection: Connection, query: Any) -> int:
    return int(connection.execute(query).scalar() or 0)


def run_summary(connection: Connection, run_id: int) -> RunSummary:
    """Return what run ``run_id`` stored: counts of pages, images, skips and findings."""
    get_run(connection, run_id)  # raises for an unknown run
    findings = connection.execute(
        select(FindingRow.severity, FindingRow.outcome, func.count())
        .where(FindingRow.run_id == run_id)
        .group_by(FindingRow.severity, FindingRow.outcome)
    )
    skip_reasons = connection.execute(
        select(Skip.kind, Skip.reason, func.count().label("n"))
        .where(Skip.run_id == run_id)
        .group_by(Skip.kind, Skip.reason)
        .order_by(func.count().desc(), Skip.kind, Skip.reason)
    )
    return RunSummary(
        pages=_count(connection, select(func.count()).where(Page.run_id == run_id)),
        images=_count(connection, select(func.count()).where(Image.run_id == run_id)),
        images_fetched=_count(
            connection,
            select(func.count()).where(Image.run_id == run_id, Image.fetched.is_(True)),
        ),
        skips=_count(connection, select(func.count()).where(Skip.run_id == run_id)),
        findings=_frozen_pairs({(sev, out): int(n) for sev, out, n in findings}),
        skip_reasons=tuple((kind, reason, int(n)) for kind, reason, n in skip_reasons),
    )


def _frozen_pairs(values: Mapping[tuple[str, str], int]) -> Mapping[tuple[str, str], int]:
    """Return a read-only copy of a mapping keyed by pairs."""
    return MappingProxyType(dict(values))


def suppressions(connection: Connection, run_id: int) -> tuple[SuppressionStatus, ...]:
    """Return the suppressions register a check recorded for the run (empty if none)."""
    rows = connection.execute(
        select(*SuppressionRow.__table__.columns)
        .where(SuppressionRow.run_id == run_id)
        .order_by(SuppressionRow.id)
    )
    return tuple(
        SuppressionStatus(
            entry=SuppressionInfo(
                reason=row.reason,
                author=row.author,
                created=row.created,
                expires=row.expires,
                fingerprint=row.fingerprint,
                rule=row.rule_id,
                scope=row.scope,
                approved_by=row.approved_by,
                false_positive=bool(row.false_positive),
            ),
            status=row.status,
            matched=row.matched,
        )
        for row in rows
    )
