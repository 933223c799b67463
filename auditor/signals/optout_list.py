"""The opt-out list slot (mechanism ``optout_list``): people's objections and erasure requests.

The list itself (storage, perceptual-hash index, ``auditor optout`` commands) lives in
:mod:`auditor.optout`; this module is the contract between it and the verdicts. A matcher
answers whether an image is on the list; a match makes every purpose ``disallowed``, because an
objection under the data protection packs covers any further processing, not only training. A
near match (a perceptual hash just beyond the threshold) is recorded with ``unknown`` verdicts
and the note ``near-threshold``: it is evidence for a person to judge, not a refusal. No matcher
configured means the mechanism was not evaluated, and the record says so (never "allowed").

The record's ``parsed`` field is the stable, machine-read encoding of the match, written and
read back by :mod:`auditor.optout.record` (the image facts ``image.optout_*`` are built from it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from auditor.model import Evaluation, Purpose, Scope, SignalRecord, Verdict, frozen_map
from auditor.optout.record import NEAR_NOTE, OptOutMatch, encode_match
from auditor.signals.evidence import ImageEvidence

__all__ = ["OptOutMatch", "OptOutMatcher", "optout_mechanism"]


class OptOutMatcher(Protocol):
    """Looks an image up on an opt-out list."""

    source: str  # where the list lives, recorded as the evidence's source

    def match(self, url: str, sha256: str | None, phash: str | None) -> OptOutMatch | None:
        """Return the matching entry, or None."""


def optout_mechanism(
    matcher: OptOutMatcher | None,
) -> Callable[[ImageEvidence], list[SignalRecord]]:
    """Build the ``optout_list`` mechanism for one run's matcher (None: no list configured)."""

    def optout_signals(evidence: ImageEvidence) -> list[SignalRecord]:
        if matcher is None:
            return [
                SignalRecord(
                    mechanism="optout_list",
                    scope=Scope.LIST,
                    source_url="optout_list",
                    applies_to=evidence.url,
                    raw_value=None,
                    purposes=frozen_map(),
                    notes=("no_optout_list_configured",),
                    evaluation=Evaluation.NOT_EVALUATED,
                )
            ]
        facts = evidence.facts
        sha256 = facts.sha256 if facts else evidence.claimed_sha256
        phash = facts.phash if facts and facts.phash else evidence.claimed_phash
        found = matcher.match(evidence.url, sha256, phash)
        if found is None:
            return []
        verdict = Verdict.UNKNOWN if found.near else Verdict.DISALLOWED
        notes = (f"match_{found.kind}", NEAR_NOTE) if found.near else (f"match_{found.kind}",)
        return [
            SignalRecord(
                mechanism="optout_list",
                scope=Scope.LIST,
                source_url=matcher.source,
                applies_to=evidence.url,
                raw_value=found.entry,
                purposes=frozen_map(dict.fromkeys((p.value for p in Purpose), verdict)),
                parsed=encode_match(found),
                fetched_at=found.received,
                notes=notes,
            )
        ]

    return optout_signals
