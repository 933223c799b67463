"""How an opt-out match is written into its ``optout_list`` evidence record, and read back.

The record's ``parsed`` field is the stable, machine-read encoding of the match (compact JSON,
keys sorted): ``{"distance": 3, "entry_id": 12, "kind": "phash", "near": false,
"received": "2026-10-01"}``; ``distance`` is null unless the match is by photo. The image facts
``image.optout_*`` are read from it (:mod:`auditor.facts`), also when a stored run is evaluated
again. This module imports nothing heavy: the fact builder runs on the declaration-only path of
``auditor check``, which must not load the signal stack, Pillow or SQLAlchemy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from auditor.model import Evaluation, SignalRecord

__all__ = ["NEAR_NOTE", "OptOutMatch", "decode_match", "encode_match"]

#: The note on a near-threshold match record (verdicts ``unknown``, for review).
NEAR_NOTE = "near-threshold"


@dataclass(frozen=True)
class OptOutMatch:
    """Why an image matched an opt-out entry."""

    entry: str  # the URL, domain or hash on the list
    kind: str  # "url", "domain", "phash"
    received: str | None = None  # when the request was received (ISO date)
    distance: int | None = None  # Hamming distance for perceptual-hash matches
    near: bool = False  # beyond the threshold but within the near band: for review
    entry_id: int | None = None  # the entry's number on the list, to find the request again


def encode_match(found: OptOutMatch) -> str:
    """Return the ``parsed`` text of a match record (see the module docstring)."""
    fields = {
        "kind": found.kind,
        "near": found.near,
        "received": found.received,
        "distance": found.distance,
        "entry_id": found.entry_id,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def decode_match(record: SignalRecord) -> OptOutMatch | None:
    """Read a match back from an ``optout_list`` record; None when it holds no readable match."""
    if record.mechanism != "optout_list" or record.evaluation is not Evaluation.EVALUATED:
        return None
    try:
        fields = json.loads(record.parsed or "")
    except ValueError:
        return None
    if not isinstance(fields, dict) or not isinstance(fields.get("kind"), str):
        return None
    received, distance, entry_id = (fields.get(k) for k in ("received", "distance", "entry_id"))
    return OptOutMatch(
        entry=record.raw_value or "",
        kind=fields["kind"],
        received=received if isinstance(received, str) else None,
        distance=distance if isinstance(distance, int) else None,
        near=fields.get("near") is True or NEAR_NOTE in record.notes,
        entry_id=entry_id if isinstance(entry_id, int) else None,
    )
