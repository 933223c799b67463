"""CPU milliseconds per image for each stage of a real audit, measured in-process.

The auditor has no timing hooks, and its CPU work is spread over an event loop and a process
pool, so per-stage cost cannot be read off the end-to-end run. This script runs one complete,
ordinary audit (``auditor.audit.run_audit`` on the benchmark's ``audit.yaml``) in this process
with timers wrapped around the stage functions, without changing any file of the package:

- the worker processes (``auditor.audit.image_pool``) are replaced by an in-process pool: the
  HTTP exchanges run on the event loop, page parsing and image extraction on **one worker
  thread**, so all of it runs here and can be timed with ``time.thread_time()`` (CPU of the
  calling thread only, so the two threads never count each other's work);
- each stage function is wrapped where the orchestrator looks it up at call time:

  ========== ==========================================================================
  stage      functions timed
  ========== ==========================================================================
  parse      ``discover_job`` as ``auditor.audit`` calls it (HTML parsing and discovery)
  hash       ``identity_facts`` (sha256 of the bytes) and the ``phash`` extractor
  decode     ``prepare`` (header, limits, the reduced-scale decodes)
  metadata   the ``basic``, ``exif``, ``xmp`` and ``c2pa`` extractors
  faces      the ``faces`` extractor
  signals    every image and page mechanism, and ``combine`` (usage verdicts)
  jurisdiction ``estimate`` and ``gps_region`` (the offline GPS gazetteer)
  policy     the fact maps (``image_facts``, ``site_facts``), ``RuleEvaluator.run``
             and the dataset tally
  store      every ``StoreWriter`` method (batched inserts and commits)
  fetch      the rest of the event-loop thread: HTTP (httpx), robots gate, frontier,
             crawler and recorder bookkeeping
  ========== ==========================================================================

Only the outermost timed call counts when stages nest (a flush inside ``add_image`` is
``store`` once). Figures are totals divided by the number of images examined, so per-page
costs (parse, page signals) are spread over the images. Threads share one GIL here, which
changes wall time but not the CPU time each thread uses.

Run (the harness does this in a subprocess)::

    .venv/bin/python bench/stages.py -c audit.yaml --db /tmp/stages.db
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

POOL_FACTORY = "image_pool"
"""The function ``auditor.audit`` builds a crawl's worker processes with."""
WORKER_STAGES = ("parse", "decode", "hash", "metadata", "faces")


class InstrumentationError(RuntimeError):
    """A stage function moved: the timers would silently read zero, so stop instead."""


STAGES = (
    "fetch", "parse", "decode", "hash", "metadata", "faces", "signals", "jurisdiction",
    "policy", "store",
)  # fmt: skip


class StageTimers:
    """Thread CPU seconds per stage; only the outermost timed call of a thread counts."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._local = threading.local()
        self._lock = threading.Lock()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        start = time.thread_time()
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                elapsed = time.thread_time() - start
                with self._lock:
                    self.seconds[name] += elapsed
                    self.calls[name] += 1

    def wrap(self, name: str, function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            with self.stage(name):
                return function(*args, **kwargs)

        return timed


def instrument(timers: StageTimers) -> None:
    """Wrap the stage functions in the loaded auditor modules (this process only)."""
    from auditor import audit, extract, recorder  # noqa: PLC0415
    from auditor.evaluator import RuleEvaluator  # noqa: PLC0415
    from auditor.store.writer import StoreWriter  # noqa: PLC0415

    _lookup(audit, POOL_FACTORY)
    setattr(audit, POOL_FACTORY, InlinePool)
    patch = functools.partial(_patch, timers)
    patch(audit, "discover_job", "parse")
    patch(extract, "identity_facts", "hash")
    patch(extract, "prepare", "decode")
    kinds = {"phash": "hash", "faces": "faces"}
    for name, function in list(extract.EXTRACTORS.items()):
        extract.EXTRACTORS[name] = timers.wrap(kinds.get(name, "metadata"), function)

    original_mechanisms: Callable[..., dict[str, Any]] = _lookup(audit, "image_mechanisms")

    def timed_mechanisms(*args: Any, **kwargs: Any) -> dict[str, Any]:
        mechanisms = original_mechanisms(*args, **kwargs)
        return {name: timers.wrap("signals", m) for name, m in mechanisms.items()}

    audit.image_mechanisms = timed_mechanisms  # type: ignore[attr-defined]
    page_mechanisms: dict[str, Callable[..., Any]] = _lookup(recorder, "PAGE_MECHANISMS")
    recorder.PAGE_MECHANISMS = {  # type: ignore[attr-defined]
        name: timers.wrap("signals", m) for name, m in page_mechanisms.items()
    }
    patch(recorder, "combine", "signals")
    patch(recorder, "estimate", "jurisdiction")
    patch(recorder, "gps_region", "gps_lookup")  # runs in a helper thread (asyncio.to_thread)
    patch(recorder, "image_facts", "policy")
    patch(recorder, "site_facts", "policy")
    patch(_lookup(recorder, "DatasetTally"), "add_evaluated", "policy")
    patch(RuleEvaluator, "run", "policy")
    for method in ("add_site", "add_page", "add_image", "add_skip", "add_findings",
                   "add_rule_stats", "flush", "close", "__exit__"):  # fmt: skip
        patch(StoreWriter, method, "store")


class InlinePool:
    """``auditor.crawl.imagepool.ImagePool``'s interface, run in this process.

    Exchanges run on the event loop (counted as ``fetch``), parsing and extraction on one
    thread, where the wrapped stage functions time them.
    """

    def __init__(self, setup: Any, _processes: int) -> None:
        from auditor.crawl.exchange import Exchanger  # noqa: PLC0415

        self._setup = setup
        self._exchanger = Exchanger(user_agent=setup.user_agent, limits=setup.limits)
        self._thread = ThreadPoolExecutor(max_workers=1)

    async def __aenter__(self) -> InlinePool:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._exchanger.aclose()
        self._thread.shutdown()

    async def send(self, hop: Any) -> tuple[Any, float]:
        from auditor import extract  # noqa: PLC0415
        from auditor.crawl.imagepool import send_and_examine  # noqa: PLC0415

        async def examine(body: bytes) -> Any:
            return await self.call(extract.extract_image, body, self._setup.extract)

        return await send_and_examine(hop, self._exchanger, examine)

    async def call(self, function: Callable[..., R], *args: object) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)


def _lookup(owner: object, name: str) -> Any:
    """``getattr`` that says which instrumentation point moved, instead of a bare error."""
    if not hasattr(owner, name):
        raise InstrumentationError(f"{owner!r} has no {name!r} any more: update bench/stages.py")
    return getattr(owner, name)


def _patch(timers: StageTimers, owner: object, name: str, stage: str) -> None:
    setattr(owner, name, timers.wrap(stage, _lookup(owner, name)))


def measure(config_path: Path, db: str) -> dict[str, object]:
    """Run one instrumented audit; return CPU ms per image per stage."""
    from auditor.audit import AuditOptions, run_audit  # noqa: PLC0415
    from auditor.config import load_config  # noqa: PLC0415
    from auditor.model import Finding, ImageRecord, PageRecord, SkipRecord  # noqa: PLC0415
    from auditor.policy import load_packs  # noqa: PLC0415

    class Quiet:
        def run_started(self, run_id: int, db: str) -> None:
            pass

        def page_done(self, page: PageRecord) -> None:
            pass

        def image_done(self, image: ImageRecord, findings: tuple[Finding, ...]) -> None:
            pass

        def skipped(self, skip: SkipRecord) -> None:
            pass

    timers = StageTimers()
    instrument(timers)
    config = load_config(config_path)
    policy = load_packs(config.policies)
    main_start = time.thread_time()
    wall_start = time.perf_counter()
    summary = run_audit(config, policy, AuditOptions(db=db, workers=1), Quiet())
    main_cpu = time.thread_time() - main_start
    wall = time.perf_counter() - wall_start
    images = max(summary.counters.images, 1)
    silent = [name for name in WORKER_STAGES if not timers.calls.get(name)]
    if silent and summary.counters.images_fetched:
        raise InstrumentationError(
            f"stages {silent} were never timed: the auditor's stage functions moved; "
            "update bench/stages.py instrument()"
        )
    in_loop = ("signals", "jurisdiction", "policy", "store")  # timed in the event-loop thread
    seconds = dict(timers.seconds)
    seconds["fetch"] = max(main_cpu - sum(seconds.get(name, 0.0) for name in in_loop), 0.0)
    # gps_region runs in a helper thread (asyncio.to_thread): add it after the subtraction
    seconds["jurisdiction"] = seconds.get("jurisdiction", 0.0) + seconds.pop("gps_lookup", 0.0)
    return {
        "images": summary.counters.images,
        "images_fetched": summary.counters.images_fetched,
        "pages": summary.counters.pages,
        "wall_s": wall,
        "cpu_ms_per_image": {name: 1000 * seconds.get(name, 0.0) / images for name in STAGES},
        "total_cpu_ms_per_image": 1000 * sum(seconds.get(n, 0.0) for n in STAGES) / images,
        "calls": dict(timers.calls),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Per-stage CPU ms per image of one audit.")
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("-o", "--output", type=Path, default=None)
    args = parser.parse_args()
    result = measure(args.config, args.db)
    text = json.dumps(result, indent=2)
    if args.output:
        args.output.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
