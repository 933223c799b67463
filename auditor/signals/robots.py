"""robots.txt as evidence about the *declared* crawler (mechanism ``robots``).

The auditor obeys robots.txt for its own token when it fetches; this module answers a different
question: may the audited crawler, identified by its declared ``robots_tokens``, crawl this image?
It reads the robots.txt of the image's **own** origin (optout-signals.md section 0, rule 1). A
crawler with no declared token is judged by the ``*`` group, which governs every unnamed crawler,
and the record says so.
"""

from __future__ import annotations

from auditor.crawl.robots import RobotsAvailability, RobotsDecision, path_and_query
from auditor.model import Scope, SignalRecord, Verdict, frozen_map
from auditor.signals.evidence import ImageEvidence

#: The token used when the declaration names none: the group every unnamed crawler falls under.
FALLBACK_TOKEN = "*"


def _raw_value(decision: RobotsDecision) -> str | None:
    if decision.rule is None:
        return None
    field = "Allow" if decision.rule.allow else "Disallow"
    return f"{field}: {decision.rule.pattern} (line {decision.rule.line})"


def robots_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """One record per declared token: the crawl verdict RFC 9309 gives that token for the image."""
    entry, url, tokens = evidence.origin.robots, evidence.url, evidence.tokens
    path = path_and_query(url)
    notes_base = list(entry.policy.notes)
    if not tokens:
        notes_base.append("no_declared_token")
    records = []
    for token in tokens or (FALLBACK_TOKEN,):
        decision = entry.policy.decide(token, path)
        notes = [*notes_base]
        if entry.policy.availability is not RobotsAvailability.PARSED:
            notes.append(f"robots_{entry.policy.availability.value}")
        verdict = Verdict.ALLOWED if decision.allowed else Verdict.DISALLOWED
        records.append(
            SignalRecord(
                mechanism="robots",
                scope=Scope.ORIGIN,
                source_url=entry.source_url,
                applies_to=url,
                raw_value=_raw_value(decision),
                fetched_at=entry.fetched_at,
                http_status=entry.policy.http_status,
                parsed=decision.reason,
                purposes=frozen_map({"crawl": verdict}),
                notes=tuple(dict.fromkeys(notes)),
                token=token,
                sha256=entry.sha256,
            )
        )
    return records
