"""Dataset aggregates: what the whole run collected, for rules whose subject is the dataset.

Some law judges a collection rather than an image: the AI Act's ban on untargeted face scraping
is about building a database, the Clearview pattern about what a crawl amounts to. The tally
below is fed each image once, as it is recorded, and keeps only counters, so memory stays
constant however large the crawl.

``dataset.images_refetched`` and ``dataset.reserved_since_collection`` (reserved now, not at
collection) exist only when ``auditor manifest --refetch`` read the live sources: the report's
dataset section then sets signals at collection against signals now.

``dataset.optout_collected`` (images fetched although they match the operator's opt-out list)
is missing when no opt-out list was configured: nothing could be checked, which is not zero.

Shares have honest denominators: ``faces_share`` counts only images on which face detection ran,
``gps_share`` only images whose EXIF was read, ``reserved_share`` only fetched images; a share
with an empty denominator is left out (missing), so no rule can pass on it.

``dataset.jurisdiction.<CODE>`` is the *expected share* of images concerning a jurisdiction:
the mean of the per-image likelihoods over the images that had any jurisdiction evidence.
:meth:`DatasetTally.summary` also breaks faces, GPS and reservations down per jurisdiction
(each image weighted by its likelihood), for reports; it is stored with the run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from auditor.model import ImageRecord
from auditor.policy.facts import JURISDICTIONS

__all__ = ["DatasetTally"]

_DIGITS = 4
#: The tally's counters and per-jurisdiction sums, by attribute name (its checkpoint state).
_COUNTERS = (
    "optout_collected", "images", "fetched", "faces_examined", "with_faces", "exif_examined",
    "with_gps", "reserved_collected", "with_jurisdiction", "refetched", "reserved_since",
)  # fmt: skip
_SUMS = ("likelihood", "faces_by_jurisdiction", "gps_by_jurisdiction", "reserved_by_jurisdiction")


def _share(part: float, whole: int) -> float | None:
    return round(part / whole, _DIGITS) if whole else None


class DatasetTally:
    """Running counts over every image of a run."""

    def __init__(self, *, optout_checked: bool) -> None:
        self.optout_checked = optout_checked
        self.optout_collected = 0
        self.images = 0
        self.fetched = 0
        self.faces_examined = 0
        self.with_faces = 0
        self.exif_examined = 0
        self.with_gps = 0
        self.reserved_collected = 0
        self.with_jurisdiction = 0
        self.refetched = 0  # manifest --refetch: images whose live source was read
        self.reserved_since = 0  # ... and reserved now, with no reservation at collection
        self.likelihood: defaultdict[str, float] = defaultdict(float)
        self.faces_by_jurisdiction: defaultdict[str, float] = defaultdict(float)
        self.gps_by_jurisdiction: defaultdict[str, float] = defaultdict(float)
        self.reserved_by_jurisdiction: defaultdict[str, float] = defaultdict(float)

    def state(self) -> dict[str, Any]:
        """Return every count as plain JSON data, for a resumable run's checkpoint."""
        state: dict[str, Any] = {name: getattr(self, name) for name in _COUNTERS}
        state.update({name: dict(getattr(self, name)) for name in _SUMS})
        return state

    def restore(self, state: Mapping[str, Any]) -> None:
        """Continue from a :meth:`state` (floats survive JSON exactly, so sums carry on equal)."""
        for name in _COUNTERS:
            setattr(self, name, int(state[name]))
        for name in _SUMS:
            sums: defaultdict[str, float] = defaultdict(float)
            sums.update({str(code): float(value) for code, value in state[name].items()})
            setattr(self, name, sums)

    def add_evaluated(self, image: ImageRecord, facts: Mapping[str, object]) -> None:
        """Count an image from the fact map its rules were evaluated on (crawl and re-check)."""
        disallowing = facts.get("signals.disallowing")
        reserved = bool(facts.get("signals.reserving"))
        self.add(
            image,
            reserved=reserved,
            opted_out=isinstance(disallowing, list) and "optout_list" in disallowing,
        )
        if "signals.reserving_now" in facts:
            self.refetched += 1
            self.reserved_since += bool(facts["signals.reserving_now"]) and not reserved

    def add(self, image: ImageRecord, *, reserved: bool, opted_out: bool = False) -> None:
        """Count one finished image.

        ``reserved``: a non-heuristic reservation covered it; ``opted_out``: it matched the
        operator's opt-out list.
        """
        self.images += 1
        self.optout_collected += image.fetched and opted_out
        facts = image.facts
        has_faces = facts is not None and facts.faces is not None and facts.faces.count > 0
        has_gps = facts is not None and facts.exif is not None and facts.exif.gps_present
        collected_reserved = image.fetched and reserved
        if image.fetched:
            self.fetched += 1
        if facts is not None and facts.faces is not None:
            self.faces_examined += 1
            self.with_faces += has_faces
        if facts is not None and facts.exif is not None:
            self.exif_examined += 1
            self.with_gps += has_gps
        self.reserved_collected += collected_reserved
        if image.jurisdictions:
            self.with_jurisdiction += 1
            for code, value in image.jurisdictions.items():
                self.likelihood[code] += value
                self.faces_by_jurisdiction[code] += value * has_faces
                self.gps_by_jurisdiction[code] += value * has_gps
                self.reserved_by_jurisdiction[code] += value * collected_reserved

    def facts(self) -> dict[str, object]:
        """Return the ``dataset.*`` facts; a share with an empty denominator is left out."""
        facts: dict[str, object] = {
            "dataset.images": self.images,
            "dataset.images_fetched": self.fetched,
            "dataset.faces_examined": self.faces_examined,
            "dataset.images_with_faces": self.with_faces,
            "dataset.images_with_gps": self.with_gps,
            "dataset.reserved_collected": self.reserved_collected,
        }
        if self.optout_checked:
            facts["dataset.optout_collected"] = self.optout_collected
        if self.refetched:
            facts["dataset.images_refetched"] = self.refetched
            facts["dataset.reserved_since_collection"] = self.reserved_since
        shares = {
            "dataset.faces_share": _share(self.with_faces, self.faces_examined),
            "dataset.gps_share": _share(self.with_gps, self.exif_examined),
            "dataset.reserved_share": _share(self.reserved_collected, self.fetched),
            "dataset.jurisdiction_unknown": _share(
                self.images - self.with_jurisdiction, self.images
            ),
        }
        for code in JURISDICTIONS:
            shares[f"dataset.jurisdiction.{code}"] = _share(
                self.likelihood[code], self.with_jurisdiction
            )
        facts.update({name: value for name, value in shares.items() if value is not None})
        return facts

    def summary(self) -> dict[str, Any]:
        """Return everything counted, with the per-jurisdiction breakdown, for the run record."""
        per_jurisdiction = {
            code: {
                "expected_images": round(self.likelihood[code], 3),
                "expected_with_faces": round(self.faces_by_jurisdiction[code], 3),
                "expected_with_gps": round(self.gps_by_jurisdiction[code], 3),
                "expected_reserved_collected": round(self.reserved_by_jurisdiction[code], 3),
            }
            for code in JURISDICTIONS
            if self.likelihood[code] > 0
        }
        return {
            "facts": self.facts(),
            "images_with_jurisdiction_evidence": self.with_jurisdiction,
            "per_jurisdiction": per_jurisdiction,
        }
