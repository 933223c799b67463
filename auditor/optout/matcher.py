"""Match images against the opt-out list file: the ``OptOutMatcher`` the audit runs.

The list is read once, when the matcher is built, into a dict of URLs, a dict of domains and one
:class:`~auditor.optout.index.HammingIndex` per hash width; each image then costs one dict
look-up for its URL, one per label of its host and one index query, never a pass over the list.

Perceptual hashes of the same photo differ by a few bits after resizing or recompression, and
unrelated photos by about half of them. A distance up to ``threshold`` is a match (the image is
``disallowed``); up to ``threshold + near_band`` it is a near match, recorded with ``unknown``
verdicts so the rules ask a person to look (a crop or a filter of the listed photo, or a
different photo of the same scene). The defaults were measured on the fixture photos: a resize
or a WebP copy of ``fixtures/images/photo.jpg`` is 0 to 2 bits away, an 8 % crop 8 bits, and
other scenes drawn by the same generator 12 to 14 bits (unrelated photos are about 32 apart).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from auditor.optout import DEFAULT_HAMMING_THRESHOLD, DEFAULT_NEAR_BAND
from auditor.optout.index import HammingIndex, hash_bits
from auditor.optout.listfile import OptOutEntry, OptOutListFile
from auditor.optout.record import OptOutMatch
from auditor.optout.targets import url_key

if TYPE_CHECKING:
    from auditor.config import AuditConfig

__all__ = ["DbOptOutList", "configured_optout_list"]

# When several entries match, the strongest evidence wins: the earliest request (the one the
# collection time and the erasure deadline are measured against), then the most specific kind.
_KIND_ORDER = {"url": 0, "domain": 1, "phash": 2}

_Hit = tuple[OptOutEntry, int | None]  # an entry and, for hashes, its distance


def _as_match(hit: _Hit, *, near: bool = False) -> OptOutMatch:
    entry, distance = hit
    return OptOutMatch(entry.value, entry.kind, entry.received, distance, near, entry.id)


class DbOptOutList:
    """The opt-out list in an SQLite file (see :mod:`auditor.optout.listfile`), held in memory."""

    def __init__(
        self,
        path: Path,
        *,
        threshold: int = DEFAULT_HAMMING_THRESHOLD,
        near_band: int = DEFAULT_NEAR_BAND,
    ) -> None:
        """Read every entry of ``path`` (read-only) and index the hashes."""
        if threshold < 0 or near_band < 0:
            raise ValueError("the threshold and the near band must be 0 or more")
        self.source = str(path)
        self.threshold = threshold
        self.near_band = near_band
        with OptOutListFile.open(path, read_only=True) as listed:
            entries = listed.entries()
        self._urls = {entry.value: entry for entry in entries if entry.kind == "url"}
        self._domains = {entry.value: entry for entry in entries if entry.kind == "domain"}
        widths: dict[int, list[tuple[str, OptOutEntry]]] = {}
        for entry in entries:
            if entry.kind == "phash":
                widths.setdefault(hash_bits(entry.value), []).append((entry.value, entry))
        self._indexes = {bits: HammingIndex(bits, items) for bits, items in widths.items()}
        self.size = len(entries)

    def match(self, url: str, sha256: str | None, phash: str | None) -> OptOutMatch | None:
        """Return the strongest match of the image; a near match only when nothing matches.

        ``sha256`` is part of the matcher contract but unused: the list holds no byte hashes.
        """
        found: list[_Hit] = []
        key = url_key(url)
        if key is not None:
            if key in self._urls:
                found.append((self._urls[key], None))
            labels = (urlsplit(key).hostname or "").rstrip(".").split(".")
            found.extend(
                (self._domains[domain], None)
                for domain in (".".join(labels[start:]) for start in range(len(labels)))
                if domain in self._domains
            )
        near: list[_Hit] = []
        index = self._indexes.get(hash_bits(phash)) if phash else None
        if phash and index is not None:
            for entry, distance in index.query(phash, self.threshold + self.near_band):
                (found if distance <= self.threshold else near).append((entry, distance))
        if found:
            return _as_match(
                min(found, key=lambda hit: (hit[0].received, _KIND_ORDER[hit[0].kind], hit[1] or 0))
            )
        if near:
            return _as_match(min(near, key=lambda hit: (hit[1] or 0, hit[0].received)), near=True)
        return None


def configured_optout_list(
    config: AuditConfig,
    *,
    threshold: int = DEFAULT_HAMMING_THRESHOLD,
    near_band: int = DEFAULT_NEAR_BAND,
) -> DbOptOutList | None:
    """Open the list audit.yaml names in ``optout_list``; None when it names none.

    A list that is named but missing is an error (exit 2), never an audit without a list: the
    operator asked for the check, so silently skipping it would misreport what was verified.
    """
    if config.optout_list is None:
        return None
    return DbOptOutList(Path(config.optout_list), threshold=threshold, near_band=near_band)
