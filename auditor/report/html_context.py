"""The run-level sections of the HTML report: scope and method, packs, coverage, aggregates.

Each builder turns :class:`~auditor.report.data.ReportData` into the frozen rows the template
lays out (``None`` when the report has no run, e.g. a declaration-only check), so the template
never computes anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auditor.model import Evaluation
from auditor.report.data import ReportData

__all__ = [
    "PER_JURISDICTION_COLUMNS",
    "Aggregates",
    "Coverage",
    "Pack",
    "Scope",
    "aggregates",
    "coverage",
    "packs",
    "scope",
]


@dataclass(frozen=True)
class TargetRow:
    """One configured target as stored with the run."""

    url: object
    max_pages: object
    max_depth: object
    scope: object
    jurisdictions: object
    categories: object


@dataclass(frozen=True)
class Scope:
    """What the run was configured to look at (conventions.md 8.3)."""

    targets: tuple[TargetRow, ...]
    crawl: tuple[tuple[str, object], ...]
    crawler: tuple[tuple[str, object], ...]
    jurisdictions: tuple[str, ...]
    policies: object
    options: tuple[tuple[str, object], ...]


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def scope(data: ReportData) -> Scope | None:
    if data.run is None:
        return None
    config = data.run.config
    targets = []
    codes: set[str] = set()
    raw_targets = config.get("targets")
    for raw in raw_targets if isinstance(raw_targets, list | tuple) else ():
        target = _mapping(raw) or {"url": raw}
        found = target.get("jurisdictions")
        if isinstance(found, list):
            codes.update(str(code) for code in found if code)
        targets.append(
            TargetRow(
                url=target.get("url"),
                max_pages=target.get("max_pages"),
                max_depth=target.get("max_depth"),
                scope=target.get("scope"),
                jurisdictions=found,
                categories=target.get("categories"),
            )
        )
    crawler = _mapping(config.get("crawler"))
    markets = crawler.get("markets")
    if isinstance(markets, list):
        codes.update(str(code) for code in markets if code)
    declared = [(key, value) for key, value in crawler.items() if value not in (None, [], {})]
    return Scope(
        targets=tuple(targets),
        crawl=tuple(sorted(_mapping(config.get("crawl")).items())),
        crawler=tuple(sorted(declared)),
        jurisdictions=tuple(sorted(codes)),
        policies=config.get("policies"),
        options=tuple(sorted(data.run.options.items())),
    )


@dataclass(frozen=True)
class Pack:
    """A policy pack whose rules were evaluated, from the rule metadata."""

    name: str
    jurisdiction: str
    rules: tuple[str, ...]


def packs(data: ReportData) -> list[Pack]:
    packs: dict[tuple[str, str], list[str]] = {}
    for rule in data.rules.values():
        packs.setdefault((rule.pack, rule.jurisdiction), []).append(rule.id)
    return [Pack(name, code, tuple(sorted(ids))) for (name, code), ids in sorted(packs.items())]


@dataclass(frozen=True)
class Coverage:
    """Pages and images attempted, fetched and skipped, and signals not evaluated."""

    counts: tuple[tuple[str, object], ...]
    skip_reasons: tuple[tuple[str, str, int], ...]
    not_evaluated: tuple[tuple[str, str, int], ...]


def coverage(data: ReportData) -> Coverage | None:
    if data.run is None or data.summary is None:
        return None
    summary = data.summary
    unevaluated = Counter(
        (signal.mechanism, signal.evaluation.value)
        for signals in data.evidence.values()
        for signal in signals
        if signal.evaluation is not Evaluation.EVALUATED
    )
    return Coverage(
        counts=(
            ("Run status", data.run.status),
            ("Pages fetched", summary.pages),
            ("Images seen", summary.images),
            ("Images fetched", summary.images_fetched),
            ("URLs skipped", summary.skips),
            ("Errors", data.run.counters.errors),
        ),
        skip_reasons=summary.skip_reasons,
        not_evaluated=tuple(
            (mechanism, evaluation, n) for (mechanism, evaluation), n in sorted(unevaluated.items())
        ),
    )


@dataclass(frozen=True)
class Aggregates:
    """The dataset aggregates the dataset rules were evaluated on."""

    facts: tuple[tuple[str, object], ...]
    per_jurisdiction: tuple[tuple[str, Mapping[str, Any]], ...]
    other: tuple[tuple[str, object], ...]


PER_JURISDICTION_COLUMNS = (
    ("expected_images", "Images"),
    ("expected_with_faces", "With faces"),
    ("expected_with_gps", "With GPS"),
    ("expected_reserved_collected", "Collected despite a reservation"),
)


def aggregates(data: ReportData) -> Aggregates | None:
    if not data.aggregates:
        return None
    values = data.aggregates
    per = _mapping(values.get("per_jurisdiction"))
    return Aggregates(
        facts=tuple(sorted(_mapping(values.get("facts")).items())),
        per_jurisdiction=tuple((code, _mapping(row)) for code, row in sorted(per.items())),
        other=tuple(
            (key, value)
            for key, value in sorted(values.items())
            if key not in {"facts", "per_jurisdiction"}
        ),
    )
