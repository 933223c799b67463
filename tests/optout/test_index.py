"""The Hamming index must answer exactly what a linear scan answers, for any list and radius.

The truth is computed independently of the index's arithmetic (imagehash's ``phash_distance``,
or counting the ones of ``bin()``), so a shared mistake cannot hide.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.extract.phash import phash_distance
from auditor.optout.index import CHUNK_BITS, HammingIndex


def seeded(seed: int) -> random.Random:
    """Reproducible test data (not secrets)."""
    return random.Random(seed)  # noqa: S311


def flip(value: int, bits: tuple[int, ...]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def hex64(value: int) -> str:
    return f"{value:016x}"


def brute_force(entries: list[str], query: str, radius: int) -> list[tuple[int, int]]:
    found = [(phash_distance(h, query), i) for i, h in enumerate(entries)]
    return sorted((i, d) for d, i in found if d <= radius)


def as_set(result: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Order-free comparison form (ties in distance may come in any order)."""
    return sorted(result)


# Entries near the query (a few flipped bits) as well as random ones: random 64-bit hashes are
# almost never within 10 bits of each other, so they alone would test only empty answers.
near_hashes = st.tuples(
    st.integers(0, 2**64 - 1),
    st.lists(st.lists(st.integers(0, 63), max_size=16), max_size=40),
    st.lists(st.integers(0, 2**64 - 1), max_size=40),
)
# Far-away fillers keep the list longer than the probes of every radius drawn below (1668 at
# radius 13), so the tables answer, not the linear fallback.
_FILLER_RNG = seeded(0)
FILLERS = [_FILLER_RNG.getrandbits(64) for _ in range(2000)]


def bin_distance(first: int, second: int) -> int:
    return bin(first ^ second).count("1")


@settings(max_examples=150, deadline=None)
@given(near_hashes, st.integers(0, 13))
def test_query_equals_a_linear_scan(
    data: tuple[int, list[list[int]], list[int]], radius: int
) -> None:
    query, flips, others = data
    values = [flip(query, tuple(bits)) for bits in flips] + others + FILLERS
    index = HammingIndex(64, ((hex64(v), i) for i, v in enumerate(values)))
    assert index.probes(radius) < len(index)
    expected = sorted(
        (i, d) for i, v in enumerate(values) if (d := bin_distance(v, query)) <= radius
    )
    assert as_set(index.query(hex64(query), radius)) == expected
    assert as_set(index.scan(hex64(query), radius)) == expected


@pytest.mark.parametrize("radius", [6, 10])
def test_short_lists_are_scanned_with_the_same_answer(radius: int) -> None:
    query = 0xFEDCBA9876543210
    entries = [hex64(flip(query, tuple(range(k)))) for k in range(12)]
    index = HammingIndex(64, ((h, i) for i, h in enumerate(entries)))
    assert index.probes(radius) >= len(index)
    assert as_set(index.query(hex64(query), radius)) == brute_force(entries, hex64(query), radius)


@pytest.mark.parametrize("radius", [0, 6, 10, 14])
def test_tables_agree_with_imagehash_at_the_tight_pigeonhole_bound(radius: int) -> None:
    size = 5000
    rnd = seeded(size * 100 + radius)
    query = rnd.getrandbits(64)
    entries = [hex64(rnd.getrandbits(64)) for _ in range(size)]
    # Every distance up to radius + 2, spread over the chunks as evenly as it gets: the
    # pigeonhole bound of the probe radii is tight exactly there.
    for distance in range(radius + 3):
        bits = tuple((k * CHUNK_BITS + k // 4) % 64 for k in range(distance))
        entries.append(hex64(flip(query, bits)))
    index = HammingIndex(64, ((h, i) for i, h in enumerate(entries)))
    assert index.probes(radius) < len(index)
    found = index.query(hex64(query), radius)
    assert as_set(found) == brute_force(entries, hex64(query), radius)
    assert [d for _, d in found] == sorted(d for _, d in found), "nearest first"


def test_the_edge_of_the_radius_is_inside() -> None:
    query = 0x0123456789ABCDEF
    entries = {d: hex64(flip(query, tuple(range(0, 64, 64 // 16))[:d])) for d in (5, 6, 7)}
    index = HammingIndex(64, ((h, d) for d, h in entries.items()))
    assert index.query(hex64(query), 6) == [(5, 5), (6, 6)]
    assert index.query(hex64(query), 5) == [(5, 5)]


def test_256_bit_hashes_are_indexed_the_same_way() -> None:
    """hash_size 16 gives 64 hex digits: the index cuts them into 16 chunks."""
    rnd = seeded(7)
    query = rnd.getrandbits(256)
    values = [flip(query, tuple(rnd.sample(range(256), k))) for k in range(25)]
    values += [rnd.getrandbits(256) for _ in range(300)]
    entries = [f"{v:064x}" for v in values]
    index = HammingIndex(256, ((h, i) for i, h in enumerate(entries)))
    for radius in (0, 10, 20):
        assert index.probes(radius) < len(index)
        expected = brute_force(entries, f"{query:064x}", radius)
        assert as_set(index.query(f"{query:064x}", radius)) == expected


def test_odd_widths_get_a_narrower_last_chunk() -> None:
    """hash_size 6 gives 36 bits (9 hex digits): chunks of 16, 16 and 4 bits."""
    query = 0x123456789
    entries = [f"{flip(query, tuple(range(k))):09x}" for k in range(8)]
    index = HammingIndex(36, ((h, i) for i, h in enumerate(entries)))
    assert as_set(index.query(f"{query:09x}", 3)) == [(0, 0), (1, 1), (2, 2), (3, 3)]


def test_a_hash_of_another_width_is_refused() -> None:
    index = HammingIndex(64, [("0" * 16, "a")])
    with pytest.raises(ValueError, match="has 256 bits; this index holds 64"):
        index.query("0" * 64, 6)
    with pytest.raises(ValueError, match="not hexadecimal"):
        HammingIndex(64, [("g" * 16, "a")])
    with pytest.raises(ValueError, match="radius"):
        index.query("0" * 16, -1)


def test_an_empty_index_finds_nothing() -> None:
    index: HammingIndex[str] = HammingIndex(64, [])
    assert len(index) == 0
    assert index.query("f" * 16, 10) == []
