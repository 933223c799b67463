"""Shared pieces of the mechanisms that read extension records of the origin's robots.txt.

``robots`` (:mod:`auditor.signals.robots`), ``robots.content_usage``
(:mod:`auditor.signals.content_usage`) and ``robots.disallow_ai_training`` /
``robots.ai_tokens`` (:mod:`auditor.signals.robots_ai`) build their evidence records from the
same robots.txt fetch in the same way. That common part lives
here, once, so the mechanisms cannot drift apart in what a robots-origin record says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from auditor.model import Evaluation, Scope, SignalRecord, Verdict, frozen_map
from auditor.signals.evidence import ImageEvidence

__all__ = ["FALLBACK_TOKEN", "robots_base_notes", "robots_origin_record"]

#: The token read when the crawler declares none: the robots.txt fallback group.
FALLBACK_TOKEN = "*"


def robots_base_notes(evidence: ImageEvidence) -> list[str]:
    """Return the notes every record of the image origin's robots.txt starts with."""
    notes = list(evidence.origin.robots.policy.notes)
    if not evidence.tokens:
        notes.append("no_declared_token")
    return notes


def robots_origin_record(
    evidence: ImageEvidence,
    mechanism: str,
    token: str | None,
    *,
    raw_value: str | None,
    parsed: str | None,
    purposes: Mapping[str, Verdict],
    notes: Sequence[str],
    evaluation: Evaluation = Evaluation.EVALUATED,
) -> SignalRecord:
    """Build a record, with scope ``origin``, about the image from its origin's robots.txt."""
    entry = evidence.origin.robots
    return SignalRecord(
        mechanism=mechanism,
        scope=Scope.ORIGIN,
        source_url=entry.source_url,
        applies_to=evidence.url,
        raw_value=raw_value,
        fetched_at=entry.fetched_at,
        http_status=entry.policy.http_status,
        parsed=parsed,
        purposes=frozen_map(purposes),
        notes=tuple(dict.fromkeys(notes)),
        token=token,
        sha256=entry.sha256,
        evaluation=evaluation,
    )
