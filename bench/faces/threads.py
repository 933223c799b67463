"""Does the ``faces`` extractor need one OpenMP thread per process? Measure it.

Run from the repository root::

    .venv/bin/python bench/faces/threads.py [--images N]

``yuface`` bundles libgomp, which by default runs every detection on one thread per core. The
auditor already runs one extraction process per core (``auditor.audit``: a forkserver
``ProcessPoolExecutor``), so the question is what the extra threads cost. This script pushes the
face fixtures through ``extract_image`` in such a pool, first as shipped (the extractor imports
``yuface`` with ``OMP_NUM_THREADS=1``), then with libgomp's default (each worker imports
``yuface`` itself before the extractor does), and prints wall time per image, CPU time per
image and the OpenMP thread count the workers report. It also runs a single worker each way,
the latency of one image on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import ctypes
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from importlib import util
from pathlib import Path

from auditor.extract import extract_image

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "images" / "faces"


def openmp_threads() -> int:
    """``omp_get_max_threads()`` of yuface's own libgomp (the one loaded in this process)."""
    spec = util.find_spec("yuface")
    if spec is None or spec.origin is None:
        raise SystemExit("yuface is not installed")
    libs = Path(spec.origin).parent.parent / "yuface.libs"
    gomp = ctypes.CDLL(str(next(libs.glob("libgomp*.so*"))))
    return int(gomp.omp_get_max_threads())


def default_openmp() -> None:
    """Worker initializer: load yuface (and libgomp) before the extractor's one-thread import."""
    import yuface  # noqa: F401, PLC0415 - imported for its side effect on libgomp


def warm_up(data: bytes) -> int:
    """Run one extraction (imports everything) and report the worker's OpenMP threads."""
    extract_image(data)
    return openmp_threads()


def timed(data: bytes) -> float:
    """CPU ms the whole worker process (every thread) spends on one ``extract_image``."""
    start = time.process_time()
    extract_image(data)
    return (time.process_time() - start) * 1000


def measure(blobs: list[bytes], workers: int, *, default_threads: bool) -> tuple[float, float, int]:
    """(wall ms per image, CPU ms per image, OpenMP threads per worker) for one pool."""
    context = multiprocessing.get_context("forkserver")  # as auditor.audit runs extraction
    context.set_forkserver_preload(["auditor.extract"])
    initializer = default_openmp if default_threads else None
    with ProcessPoolExecutor(workers, mp_context=context, initializer=initializer) as pool:
        threads = max(pool.map(warm_up, [blobs[0]] * workers))
        start = time.perf_counter()
        cpu = sum(pool.map(timed, blobs))
        wall = time.perf_counter() - start
    return wall / len(blobs) * 1000, cpu / len(blobs), threads


def main() -> None:
    """Measure both ways with one worker and with one worker per core."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--images", type=int, default=60, help="images per measurement")
    args = parser.parse_args()
    os.environ.pop("OMP_NUM_THREADS", None)  # measure libgomp's own default, not the shell's
    photos = [(FIXTURES / name).read_bytes() for name in ("portrait.jpg", "group.jpg")]
    blobs = [photos[i % len(photos)] for i in range(args.images)]
    cores = os.cpu_count() or 1
    print(f"{cores} cores; {len(blobs)} images (portrait.jpg and group.jpg alternately)")
    print("| workers | OpenMP | threads/worker | wall ms/image | CPU ms/image |")
    print("|---|---|---|---|---|")
    for workers in sorted({1, cores}):
        for default_threads in (False, True):
            wall, cpu, threads = measure(blobs, workers, default_threads=default_threads)
            mode = "libgomp default" if default_threads else "as shipped (1)"
            print(f"| {workers} | {mode} | {threads} | {wall:.1f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
