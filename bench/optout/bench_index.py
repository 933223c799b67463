"""What does matching an image against a large opt-out list cost? Measure it.

Run from the repository root::

    .venv/bin/python bench/optout/bench_index.py [--sizes 10000 100000 1000000] [--queries 200]

For each list size it builds :class:`auditor.optout.index.HammingIndex` over random 64-bit
hashes (the default ``hash_size``), then times queries at radius 6 (the default threshold) and
10 (threshold plus the near band, what the matcher actually asks) against a linear scan of the
same list (``HammingIndex.scan``: one XOR and popcount per entry, the cost the index avoids).
Half the queries are listed hashes with a few bits flipped, so answers are not all empty; every
query's answer is checked against the scan's. Build time is the fastest of three builds, query
times the median. Memory is what building the index allocates (``tracemalloc``, measured in a
separate build so it does not slow the timed ones), excluding the input strings. Prints a
Markdown table for docs/signals/optout-list.md.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from collections.abc import Callable
from statistics import median

from auditor.optout import DEFAULT_HAMMING_THRESHOLD, DEFAULT_NEAR_BAND
from auditor.optout.index import HammingIndex

RADII = (DEFAULT_HAMMING_THRESHOLD, DEFAULT_HAMMING_THRESHOLD + DEFAULT_NEAR_BAND)


def make_queries(rng: random.Random, listed: list[str], count: int) -> list[str]:
    """Half near a listed hash (1 to 8 bits flipped), half random."""
    queries = []
    for number in range(count):
        if number % 2:
            queries.append(f"{rng.getrandbits(64):016x}")
            continue
        value = int(rng.choice(listed), 16)
        for bit in rng.sample(range(64), rng.randint(1, 8)):
            value ^= 1 << bit
        queries.append(f"{value:016x}")
    return queries


def per_query_us(run: Callable[[str], object], queries: list[str]) -> float:
    """Median microseconds per call over ``queries``."""
    times = []
    for query in queries:
        start = time.perf_counter()
        run(query)
        times.append(time.perf_counter() - start)
    return median(times) * 1e6


def bench(size: int, queries: int, scans: int, seed: int) -> list[str]:
    """Return the table rows for one list size."""
    rng = random.Random(seed + size)
    listed = [f"{rng.getrandbits(64):016x}" for _ in range(size)]
    builds = []
    for _ in range(3):  # the fastest of three: other processes only ever add time
        start = time.perf_counter()
        index = HammingIndex(64, ((value, position) for position, value in enumerate(listed)))
        builds.append(time.perf_counter() - start)
    build = min(builds)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    measured = HammingIndex(64, ((value, position) for position, value in enumerate(listed)))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    memory = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    del measured
    asked = make_queries(rng, listed, queries)
    rows = []
    for radius in RADII:
        hits = 0
        for query in asked[:scans]:
            found = index.query(query, radius)
            if sorted(found) != sorted(index.scan(query, radius)):
                raise SystemExit(f"the index and the scan disagree on {query} at {radius}")
            hits += len(found)
        indexed = per_query_us(lambda q, r=radius: index.query(q, r), asked)
        scanned = per_query_us(lambda q, r=radius: index.scan(q, r), asked[:scans])
        rows.append(
            f"| {size:,} | {radius} | {build:.2f} s | {memory / 2**20:.1f} MiB | "
            f"{index.probes(radius)} | {indexed:,.0f} µs | {scanned:,.0f} µs | "
            f"{scanned / indexed:,.0f}x | {hits / scans:.2f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200, help="indexed queries per radius")
    parser.add_argument("--scans", type=int, default=20, help="linear scans per radius")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    print(
        "| entries | radius | build | index memory | probes | per query (index) "
        "| per query (linear scan) | speed-up | matches per query |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        for row in bench(size, args.queries, min(args.scans, args.queries), args.seed):
            print(row)


if __name__ == "__main__":
    main()
