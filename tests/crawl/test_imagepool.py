"""Worker processes that fetch images and examine them where the bytes arrive (imagepool).

Real worker processes, real loopback servers: the fetcher clears each hop (gate, redirects,
politeness) and the pool sends it from a worker, which decodes a complete 2xx image there and
sends back only the status, the headers and the facts.
"""

from __future__ import annotations

import asyncio
import operator
import os
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest

from auditor.crawl.exchange import Exchanger, FetchLimits, FetchResult, Hop, utc_now_iso
from auditor.crawl.fetcher import Fetcher
from auditor.crawl.forkserver import start_fork_server
from auditor.crawl.imagepool import ImagePool, WorkerLostError, WorkerSetup
from auditor.extract import ExtractLimits, extract_image
from auditor.testing import SiteServer

_T = TypeVar("_T")
UA = "TestAuditBot/9.9 (+https://tests.invalid/bot)"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "images"
PHOTO = (FIXTURES / "photo.jpg").read_bytes()
LIMITS = FetchLimits(per_host_concurrency=10, total_timeout=10.0)
SETUP = WorkerSetup(user_agent=UA, limits=LIMITS, extract=ExtractLimits(detect_faces=False))

SITE_YAML = """
routes:
  - path: /moved.jpg
    redirect: /photo.jpg
  - path: /slow.jpg
    delay: 1.5
  - path: /sleepy
    delay: 0.6
    body: zzz
"""


@pytest.fixture
def site(site_server: Callable[[str | Path], SiteServer], tmp_path: Path) -> SiteServer:
    root = tmp_path / "site"
    root.mkdir()
    (root / "photo.jpg").write_bytes(PHOTO)
    (root / "slow.jpg").write_bytes(PHOTO)
    (root / "big.jpg").write_bytes(PHOTO * 3)
    (root / "_site.yaml").write_text(SITE_YAML, encoding="utf-8")
    return site_server(root)


def with_pool(
    work: Callable[[ImagePool, Fetcher], Awaitable[_T]],
    processes: int = 1,
    setup: WorkerSetup = SETUP,
    **options: int,
) -> _T:
    """Run ``work`` with a fresh pool and a fetcher trusting loopback, in a new event loop."""

    async def main() -> _T:
        async with (
            ImagePool(setup, processes, **options) as pool,
            Fetcher(user_agent=UA, limits=LIMITS) as fetcher,
        ):
            fetcher.trust_targets(["http://127.0.0.1/"])
            return await work(pool, fetcher)

    return asyncio.run(main())


def test_an_image_comes_back_examined_without_its_bytes(site: SiteServer) -> None:
    async def work(pool: ImagePool, fetcher: Fetcher) -> FetchResult:
        return await fetcher.fetch(f"{site.base_url}/photo.jpg", max_bytes=10**7, via=pool.send)

    result = with_pool(work)
    assert result.ok
    assert result.body is None
    assert result.header("content-type") == "image/jpeg"
    assert result.facts == extract_image(PHOTO, SETUP.extract)


def test_redirects_are_followed_by_the_fetcher_and_each_hop_is_gated(site: SiteServer) -> None:
    seen: list[str] = []

    async def gate(url: str) -> str | None:
        seen.append(url)
        return None

    async def work(pool: ImagePool, fetcher: Fetcher) -> FetchResult:
        url = f"{site.base_url}/moved.jpg"
        return await fetcher.fetch(url, max_bytes=10**7, gate=gate, via=pool.send)

    result = with_pool(work)
    assert result.redirects == (f"{site.base_url}/moved.jpg",)
    assert seen == [f"{site.base_url}/moved.jpg", f"{site.base_url}/photo.jpg"]
    assert result.facts is not None
    assert result.facts.sha256 == extract_image(PHOTO).sha256


def test_error_pages_and_refusals_come_back_unexamined(site: SiteServer) -> None:
    async def work(pool: ImagePool, fetcher: Fetcher) -> tuple[FetchResult, FetchResult]:
        missing = await fetcher.fetch(f"{site.base_url}/gone.jpg", max_bytes=10**7, via=pool.send)
        big = await fetcher.fetch(f"{site.base_url}/big.jpg", max_bytes=len(PHOTO), via=pool.send)
        return missing, big

    missing, big = with_pool(work)
    assert (missing.status, missing.body, missing.facts) == (404, None, None)
    assert big.error == "too_large"
    assert big.facts is None


def test_calls_return_values_and_raise_what_the_function_raised() -> None:
    async def work(pool: ImagePool, _fetcher: Fetcher) -> int:
        with pytest.raises(ZeroDivisionError):
            await pool.call(operator.truediv, 1, 0)
        return await pool.call(os.getpid)

    assert with_pool(work) != os.getpid()


def _fork_servers() -> set[int]:
    """Pids of this process's children that run ``multiprocessing``'s fork server."""
    return _children(os.getpid(), b"multiprocessing.forkserver")


def _children(parent: int, command_part: bytes = b"") -> set[int]:
    """Pids of ``parent``'s children whose command line contains ``command_part``."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent_of = int(stat.read_text().rpartition(")")[2].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):  # the process ended meanwhile
            continue
        if parent_of == parent and command_part in command:
            children.add(int(stat.parent.name))
    return children


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_workers_are_forked_from_the_server_started_ahead() -> None:
    start_fork_server()
    start_fork_server()  # already running: nothing more is started
    (server,) = _fork_servers()

    async def work(pool: ImagePool, _fetcher: Fetcher) -> int:
        return await pool.call(os.getppid)

    assert with_pool(work) == server
    assert _fork_servers() == {server}


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts threads in /proc")
@pytest.mark.parametrize(
    ("inline_examine_bytes", "worker_threads"),
    [(len(PHOTO), 1), (len(PHOTO) - 1, 2)],
    ids=["on-the-event-loop", "on-the-extraction-thread"],
)
def test_images_up_to_the_inline_size_are_examined_on_the_workers_event_loop(
    site: SiteServer, inline_examine_bytes: int, worker_threads: int
) -> None:
    """The worker's extraction thread is started by the first larger body, not before."""
    setup = replace(SETUP, inline_examine_bytes=inline_examine_bytes)

    async def work(pool: ImagePool, fetcher: Fetcher) -> tuple[FetchResult, list[int]]:
        result = await fetcher.fetch(f"{site.base_url}/photo.jpg", max_bytes=10**7, via=pool.send)
        workers = [pid for server in _fork_servers() for pid in _children(server)]
        return result, [len(list(Path(f"/proc/{pid}/task").iterdir())) for pid in workers]

    result, threads = with_pool(work, setup=setup)
    assert result.facts == extract_image(PHOTO, SETUP.extract)
    assert threads == [worker_threads]


def test_a_worker_is_replaced_after_its_quota_of_jobs_and_nothing_is_lost(
    site: SiteServer,
) -> None:
    async def work(pool: ImagePool, fetcher: Fetcher) -> tuple[set[int], list[FetchResult]]:
        pids = {await pool.call(os.getpid) for _ in range(7)}
        url = f"{site.base_url}/photo.jpg"
        results = await asyncio.gather(
            *(fetcher.fetch(url, max_bytes=10**7, via=pool.send) for _ in range(8))
        )
        return pids, list(results)

    pids, results = with_pool(work, jobs_per_worker=3)
    assert len(pids) == 3  # 7 calls, 3 per worker
    assert all(result.ok and result.facts is not None for result in results)


def test_workers_retiring_together_are_replaced_one_for_one() -> None:
    """Balanced jobs bring both workers to their quota at once; no job may start a third."""

    async def work(pool: ImagePool, _fetcher: Fetcher) -> tuple[set[int], int]:
        pids = await asyncio.gather(*(pool.call(os.getpid) for _ in range(60)))
        return set(pids), pool.started

    pids, started = with_pool(work, processes=2, jobs_per_worker=3)
    assert len(pids) == 20  # every worker took its 3 jobs
    assert started == 2 + 20  # the first two, then one replacement per retirement


def test_a_dying_worker_takes_only_its_jobs_in_flight_and_is_replaced(site: SiteServer) -> None:
    async def work(pool: ImagePool, fetcher: Fetcher) -> tuple[FetchResult, str, FetchResult]:
        slow = asyncio.create_task(
            fetcher.fetch(f"{site.base_url}/slow.jpg", max_bytes=10**7, via=pool.send)
        )
        await asyncio.sleep(0.3)  # the slow image is in flight on the only worker
        with pytest.raises(WorkerLostError) as lost:
            await pool.call(os._exit, 3)
        after = await fetcher.fetch(f"{site.base_url}/photo.jpg", max_bytes=10**7, via=pool.send)
        return await slow, str(lost.value), after

    slow, message, after = with_pool(work)
    assert slow.error == "worker_lost"
    assert slow.error_detail is not None
    assert "exit code 3" in slow.error_detail
    assert "exit code 3" in message
    assert after.ok
    assert after.facts is not None


def test_a_hosts_requests_share_several_small_transports_and_all_run_at_once(
    site: SiteServer,
) -> None:
    """per_host_concurrency 10 is three transports (4, 4, 2 connections), all usable together."""

    async def main() -> int:
        exchanger = Exchanger(user_agent=UA, limits=LIMITS)
        hop = Hop(
            "127.0.0.1", f"{site.base_url}/sleepy", ("127.0.0.1",), max_bytes=100,
            accept="*/*", started=utc_now_iso(), truncate=False, budget=10.0,
        )  # fmt: skip
        try:
            sends = [asyncio.create_task(exchanger.send(hop)) for _ in range(10)]
            await asyncio.wait(sends, return_when=asyncio.FIRST_COMPLETED)
            # The server answers each request 0.6 s after receiving it, so a request that had
            # to wait for a free connection cannot have arrived before the first answer.
            arrived = sum(path == "/sleepy" for _, path, _ in site.requests)
            results = await asyncio.gather(*sends)
        finally:
            await exchanger.aclose()
        assert all(result.body == b"zzz" for result, _ in results)
        return arrived

    # Ten 0.6 s responses: all ten requests are out before any answer when every pool can
    # take its share (no clock in the assertion: a loaded machine only makes the wave slower).
    assert asyncio.run(main()) == 10
