"""Work a manifest audit sends to its worker processes.

Kept apart from the orchestrator so a worker imports only this, the manifest model and the
extractors (the pool preloads it), never the store, the fetcher or the policy engine.
"""

from __future__ import annotations

from auditor.extract import ExtractLimits, ImageFacts, extract_image
from auditor.manifest.model import LocalImage, LocalImageError


def extract_local(local: LocalImage, max_bytes: int, limits: ExtractLimits) -> ImageFacts | str:
    """Read a stored copy and extract its facts; return the reason instead if it is unreadable.

    The bytes are read here, in the worker, so they never cross the process boundary.
    """
    try:
        data = local.read(max_bytes)
    except LocalImageError as exc:
        return str(exc)
    return extract_image(data, limits)
