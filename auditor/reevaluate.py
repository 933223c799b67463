"""Re-evaluate a stored run with the current declaration and packs, without crawling again.

``auditor check --from-db`` answers "what would today's rules say about what we collected?":
the stored images, sites and their evidence are turned back into facts exactly as the recorder
built them during the crawl (same fact builders, same dataset tally), and every subject is
evaluated again. Nothing is written: the stored run stays the evidence of what was seen then.
Facts are judged as of collection (signals, jurisdictions and face counts recorded then), with
``now`` for image ages; site likelihoods are recomputed from the stored pages as the crawl did.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from auditor.aggregates import DatasetTally
from auditor.config import AuditConfig
from auditor.crawl.urls import origin_of
from auditor.evaluator import RuleEvaluator
from auditor.facts import SiteFacts, image_facts, site_facts
from auditor.jurisdiction import PageLocale, estimate, merge_strongest
from auditor.model import Finding, Subject
from auditor.policy import PolicySet
from auditor.store import Store

__all__ = ["Reevaluation", "reevaluate"]


@dataclass(frozen=True)
class Reevaluation:
    """The findings of every subject, and the evaluator with its per-rule outcome counts."""

    findings: tuple[Finding, ...]
    evaluator: RuleEvaluator


def reevaluate(
    store: Store,
    run_id: int,
    config: AuditConfig,
    policy: PolicySet,
    clock: Callable[[], datetime],
) -> Reevaluation:
    """Evaluate declaration, image, site and dataset rules over stored run ``run_id``."""
    evaluator = RuleEvaluator(policy, config, clock)
    categories = {origin_of(target.url): target.categories or None for target in config.targets}
    declared = {origin_of(target.url): target.jurisdictions for target in config.targets}
    robots: dict[str, str | None] = {}
    for stored_site in store.iter_sites(run_id):
        robots_file = stored_site.file("robots")
        robots[stored_site.origin] = robots_file.status if robots_file else None
    findings: list[Finding] = list(evaluator.run(Subject.DECLARATION, {}))
    optout_checked = bool(config.optout_list)
    tally = DatasetTally(optout_checked=optout_checked)
    images_per_site: Counter[str] = Counter()
    for stored in store.iter_images(run_id):
        record = stored.to_record()
        page_origins = [origin_of(url) for url in record.page_urls]
        site_categories = next(
            (categories[o] for o in page_origins if categories.get(o)), categories.get(record.site)
        )
        site = SiteFacts(record.site, robots.get(record.site), {}, categories=site_categories)
        facts = {**site_facts(site), **image_facts(record, clock())}
        tally.add_evaluated(record, facts)
        images_per_site[record.site] += 1
        page_url = record.page_urls[0] if record.page_urls else None
        findings.extend(
            evaluator.run(
                Subject.IMAGE, facts, image_url=record.url, page_url=page_url, site=record.site
            )
        )
    pages_per_site: Counter[str] = Counter()
    site_jurisdictions: dict[str, dict[str, float]] = {}
    for page in store.iter_pages(run_id):
        pages_per_site[page.site] += 1
        page_record = page.to_record()
        located = estimate(
            [page_record.final_url],
            declared.get(page.site, ()),
            locales=[PageLocale.of(page_record)],
        )
        merge_strongest(site_jurisdictions.setdefault(page.site, {}), located.likelihoods)
    for origin, status in robots.items():
        site = SiteFacts(
            origin,
            status,
            site_jurisdictions.get(origin, {}),
            pages=pages_per_site[origin],
            images=images_per_site[origin],
            categories=categories.get(origin),
        )
        findings.extend(evaluator.run(Subject.SITE, site_facts(site), site=origin))
    findings.extend(evaluator.run(Subject.DATASET, tally.facts()))
    return Reevaluation(tuple(findings), evaluator)
