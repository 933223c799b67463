"""Combine evidence records into one usage verdict per purpose (optout-signals.md 9.4-9.5).

Each record is first widened by the implications (crawl disallowed => everything disallowed;
tdm disallowed => ai-train and genai-train disallowed; ai-train disallowed => genai-train
disallowed), which only ever move a purpose towards ``disallowed``. Records are then combined
most-restrictive-first: any ``disallowed`` wins, else any ``allowed``, else ``unknown``. A
purpose on which mechanisms disagree is reported as a conflict so reviewers see publisher
inconsistency. Records that were not evaluated contribute nothing: absence is never permission.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from auditor.model import Evaluation, Purpose, SignalRecord, Verdict, frozen_map

_IMPLIES: dict[Purpose, tuple[Purpose, ...]] = {
    Purpose.CRAWL: tuple(p for p in Purpose if p is not Purpose.CRAWL),
    Purpose.TDM: (Purpose.AI_TRAIN, Purpose.GENAI_TRAIN),
    Purpose.AI_TRAIN: (Purpose.GENAI_TRAIN,),
}


@dataclass(frozen=True)
class UsageVerdicts:
    """The combined verdict per purpose and the purposes on which evidence conflicts."""

    usage: Mapping[str, Verdict]
    conflicts: tuple[str, ...]


def implied(purposes: Mapping[str, Verdict]) -> dict[Purpose, Verdict]:
    """One record's contribution after the implications of 9.4; unnamed purposes are unknown."""
    result = {purpose: Verdict(purposes.get(purpose.value, Verdict.UNKNOWN)) for purpose in Purpose}
    for source in (Purpose.CRAWL, Purpose.TDM, Purpose.AI_TRAIN):  # order matters: crawl first
        if result[source] is Verdict.DISALLOWED:
            for target in _IMPLIES[source]:
                result[target] = Verdict.DISALLOWED
    return result


def combine(records: Iterable[SignalRecord]) -> UsageVerdicts:
    """Most restrictive wins across every evaluated record."""
    seen: dict[Purpose, set[Verdict]] = {purpose: set() for purpose in Purpose}
    for record in records:
        if record.evaluation is not Evaluation.EVALUATED:
            continue
        for purpose, verdict in implied(record.purposes).items():
            seen[purpose].add(verdict)
    usage: dict[str, Verdict] = {}
    conflicts = []
    for purpose, verdicts in seen.items():
        if Verdict.DISALLOWED in verdicts:
            usage[purpose.value] = Verdict.DISALLOWED
            if Verdict.ALLOWED in verdicts:
                conflicts.append(purpose.value)
        elif Verdict.ALLOWED in verdicts:
            usage[purpose.value] = Verdict.ALLOWED
        else:
            usage[purpose.value] = Verdict.UNKNOWN
    return UsageVerdicts(frozen_map(usage), tuple(conflicts))
