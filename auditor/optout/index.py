"""A Hamming-distance index over perceptual hashes: multi-index hashing (Norouzi et al. 2012).

Why multi-index hashing and not a BK-tree
    A BK-tree prunes a subtree only when the triangle inequality rules it out, and on 64-bit
    hashes the distances between unrelated images crowd around 32: at the radii opt-out matching
    needs (6 to 10 bits) most children's distances fall inside the query's band, so a query
    walks a large share of the tree (measured on 100,000 random hashes: 21 % of the nodes at
    radius 6, 71 % at radius 10, slower than a linear scan). Multi-index hashing cuts each hash
    into ``m`` disjoint chunks of :data:`CHUNK_BITS` bits and keeps one table per chunk. By the
    pigeonhole principle a hash within ``r`` bits of the query is within about ``r // m`` bits of
    it on at least one chunk (the exact bound is in ``HammingIndex._radii``), so a query probes
    each table at the few chunk values that close, and compares in full only the entries found
    there. The work per query grows with the radius and with the buckets' size (a 2**-16 share
    of the list each), far below a pass over the list; ``bench/optout/bench_index.py`` measures
    it against a linear scan.

Sizes other than 64 bits
    Hashes are Python integers of any width, so the same index serves ``hash_size`` 16
    (256-bit hashes, 16 chunks) or odd sizes (the last chunk is narrower). One index holds one
    width: the distance between hashes of different sizes means nothing, so
    :class:`~auditor.optout.matcher.DbOptOutList` keeps one index per width.

Layout
    Each table is the entry positions sorted by chunk value plus the offset where each value's
    run starts (``array('I')``, 4 bytes a slot), and 64-bit hashes are packed in an
    ``array('Q')``: about 25 MiB for a million entries, no Python object per entry and chunk.
    When the probes a radius needs outnumber the entries (short lists, large radii), a query
    scans linearly instead: that is then the cheaper of the two.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import accumulate, combinations
from typing import Generic, TypeVar

__all__ = ["CHUNK_BITS", "HammingIndex", "hash_bits"]

T = TypeVar("T")

#: Bits per chunk. Near log2 of the list sizes the index is meant for (10^4 to 10^6 entries), so
#: buckets stay small, while the chunk values within 2 bits (137 of them) stay cheap to probe.
CHUNK_BITS = 16
_WORD_BITS = 64


def hash_bits(phash: str) -> int:
    """Return the width of a hex hash in bits (4 per hex digit, as imagehash writes them)."""
    return 4 * len(phash)


def _parse(phash: str, bits: int) -> int:
    if hash_bits(phash) != bits:
        raise ValueError(f"hash {phash!r} has {hash_bits(phash)} bits; this index holds {bits}")
    try:
        return int(phash, 16)
    except ValueError:
        raise ValueError(f"hash {phash!r} is not hexadecimal") from None


@cache
def _flips(width: int, radius: int) -> tuple[int, ...]:
    """Every mask of ``width`` bits with at most ``radius`` bits set (lowest weights first)."""
    return tuple(
        sum(1 << bit for bit in chosen)
        for weight in range(min(radius, width) + 1)
        for chosen in combinations(range(width), weight)
    )


class HammingIndex(Generic[T]):
    """Entries keyed by hex hashes of one width, queried by Hamming radius."""

    def __init__(self, bits: int, items: Iterable[tuple[str, T]]) -> None:
        """Index ``(hex hash, entry)`` pairs; every hash must be ``bits`` wide."""
        if bits <= 0:
            raise ValueError("an index needs hashes of at least one bit")
        self.bits = bits
        values: list[int] = []
        self._entries: list[T] = []
        for phash, entry in items:
            values.append(_parse(phash, bits))
            self._entries.append(entry)
        # 64-bit hashes (the default hash_size) pack into 8 bytes each; wider ones stay ints.
        self._hashes: Sequence[int] = array("Q", values) if bits <= _WORD_BITS else values
        # (shift, width) of each chunk, low bits first; the last one may be narrower.
        self._chunks = tuple(
            (shift, min(CHUNK_BITS, bits - shift)) for shift in range(0, bits, CHUNK_BITS)
        )
        self._tables = tuple(self._table(shift, width) for shift, width in self._chunks)

    def __len__(self) -> int:
        """Return the number of entries."""
        return len(self._hashes)

    def _table(self, shift: int, width: int) -> tuple[array[int], array[int]]:
        """Sort the entries by one chunk: (positions, where each chunk value's run starts)."""
        mask = (1 << width) - 1
        values = [(value >> shift) & mask for value in self._hashes]
        positions = array("I", sorted(range(len(values)), key=values.__getitem__))
        counts = [0] * ((1 << width) + 1)
        for value in values:
            counts[value + 1] += 1
        return positions, array("I", accumulate(counts))

    def _radii(self, radius: int) -> list[int]:
        """Per-chunk probe radii: any hash within ``radius`` is found in at least one table.

        With ``m`` chunks and ``radius = m * q + a`` (``0 <= a < m``), if the first ``a + 1``
        chunks each differed by more than ``q`` bits and the others by more than ``q - 1``, the
        hashes would differ by at least ``(a + 1)(q + 1) + (m - a - 1) q = radius + 1`` bits.
        So probing the first ``a + 1`` tables within ``q`` and the rest within ``q - 1`` (none
        when that is negative) misses nothing.
        """
        count = len(self._chunks)
        quotient, rest = divmod(radius, count)
        return [quotient if index <= rest else quotient - 1 for index in range(count)]

    def probes(self, radius: int) -> int:
        """Return how many table slots a query of ``radius`` looks up (the cost besides hits)."""
        return sum(
            len(_flips(width, chunk_radius))
            for (_, width), chunk_radius in zip(self._chunks, self._radii(radius), strict=True)
            if chunk_radius >= 0
        )

    def query(self, phash: str, radius: int) -> list[tuple[T, int]]:
        """Return every ``(entry, distance)`` within ``radius`` bits, nearest first.

        The tables answer when the list has more entries than the radius needs probes;
        otherwise comparing with every entry is cheaper, and :meth:`scan` answers.
        """
        if radius < 0:
            raise ValueError("the radius must be 0 or more")
        if self.probes(radius) >= len(self._hashes):
            return self.scan(phash, radius)
        query = _parse(phash, self.bits)
        radii = self._radii(radius)
        candidates: list[int] = []
        for (shift, width), chunk_radius, (positions, offsets) in zip(
            self._chunks, radii, self._tables, strict=True
        ):
            if chunk_radius < 0:
                continue
            value = (query >> shift) & ((1 << width) - 1)
            for flip in _flips(width, chunk_radius):
                probe = value ^ flip
                candidates.extend(positions[offsets[probe] : offsets[probe + 1]])
        # An entry close on several chunks is found several times: the set keeps it once.
        hashes = self._hashes
        found = {
            (distance, position)
            for position in candidates
            if (distance := (hashes[position] ^ query).bit_count()) <= radius
        }
        return [(self._entries[position], distance) for distance, position in sorted(found)]

    def scan(self, phash: str, radius: int) -> list[tuple[T, int]]:
        """Return the same answer as :meth:`query` by comparing with every entry."""
        if radius < 0:
            raise ValueError("the radius must be 0 or more")
        query = _parse(phash, self.bits)
        found = []
        for position, value in enumerate(self._hashes):
            distance = (value ^ query).bit_count()
            if distance <= radius:
                found.append((distance, position))
        found.sort()
        return [(self._entries[position], distance) for distance, position in found]
