"""robots.txt as evidence about the *declared* crawler (mechanism ``robots``).

The auditor obeys robots.txt for its own token when it fetches; this module answers a different
question: may the audited crawler, identified by its declared ``robots_tokens``, crawl this image?
It reads the robots.txt of the image's **own** origin (optout-signals.md section 0, rule 1). A
crawler with no declared token is judged by the ``*`` group, which governs every unnamed crawler,
and the record says so.
"""

from __future__ import annotations

from auditor.crawl.robots import REFUSED_NOTE, RobotsAvailability, RobotsDecision, path_and_query
from auditor.model import Evaluation, SignalRecord, Verdict
from auditor.signals.evidence import ImageEvidence
from auditor.signals.robots_ext import FALLBACK_TOKEN, robots_base_notes, robots_origin_record

__all__ = ["FALLBACK_TOKEN", "robots_signals"]


def _raw_value(decision: RobotsDecision) -> str | None:
    if decision.rule is None:
        return None
    field = "Allow" if decision.rule.allow else "Disallow"
    return f"{field}: {decision.rule.pattern} (line {decision.rule.line})"


def robots_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """One record per declared token: the crawl verdict RFC 9309 gives that token for the image."""
    policy = evidence.origin.robots.policy
    path = path_and_query(evidence.url)
    notes = robots_base_notes(evidence)
    if REFUSED_NOTE in policy.notes:  # never fetched (network safety): no evidence either way
        return [
            robots_origin_record(
                evidence, "robots", None, raw_value=None, parsed="robots.txt not fetched",
                purposes={}, notes=[*notes, REFUSED_NOTE], evaluation=Evaluation.NOT_EVALUATED,
            )
        ]  # fmt: skip
    if policy.availability is not RobotsAvailability.PARSED:
        notes.append(f"robots_{policy.availability.value}")
    records = []
    for token in evidence.tokens or (FALLBACK_TOKEN,):
        decision = policy.decide(token, path)
        verdict = Verdict.ALLOWED if decision.allowed else Verdict.DISALLOWED
        records.append(
            robots_origin_record(
                evidence,
                "robots",
                token,
                raw_value=_raw_value(decision),
                parsed=decision.reason,
                purposes={"crawl": verdict},
                notes=notes,
            )
        )
    return records
