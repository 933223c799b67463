"""External opt-out registries (scope ``list``): the Spawning Do-Not-Train registry slot.

optout-signals.md 5.1: without an API key, on an API error, or for a URL missing from the
answer, the registry's status is ``not_evaluated`` and the verdict unknown, never "allowed" and
never silently skipped, so every image's evidence shows that the registry was not consulted.
Querying the registry sends image URLs to a third party, so it must be opted into explicitly;
until a client is configured this mechanism records exactly that.
"""

from __future__ import annotations

from auditor.model import Evaluation, Scope, SignalRecord, frozen_map
from auditor.signals.evidence import ImageEvidence

SPAWNING_API = "https://opts-api.spawningaiapi.com/api/v2/query/urls/"


def spawning_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """Record that the Spawning registry was not consulted for this image."""
    return [
        SignalRecord(
            mechanism="registry.spawning",
            scope=Scope.LIST,
            source_url=SPAWNING_API,
            applies_to=evidence.url,
            raw_value=None,
            purposes=frozen_map(),
            notes=("no_api_key_configured",),
            evaluation=Evaluation.NOT_EVALUATED,
        )
    ]
