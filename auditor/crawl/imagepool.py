"""Worker processes that fetch images and examine them where the bytes arrive.

The crawling process decides everything about a request (address checks, the robots gate,
politeness, redirects: :class:`~auditor.crawl.fetcher.Fetcher`), then hands the cleared
:class:`~auditor.crawl.exchange.Hop` to one of these processes, which sends it, reads the body
and, for a complete 2xx response, runs :func:`~auditor.extract.extract_image` on it. Only the
response's status, headers and the extracted facts come back; the image bytes never cross a
process boundary.

Why: measured on the benchmark (bench/README.md), one process running every HTTP exchange,
shipping every body to a decoding pool and then recording the results spent about 7.6 ms of its
own CPU per image and capped the whole audit at that rate, while the pool waited half the time.
Spreading the exchanges over the worker processes moves about half of that work off the
crawling process and removes the pickling and piping of the bodies.

Each worker runs its own event loop (many exchanges in flight) and one extraction thread
(decoding releases the GIL, so the network keeps moving; extraction is serial, so memory is one
decode at a time). A job goes to the worker with the fewest jobs in flight. A worker is replaced
after :data:`JOBS_PER_WORKER` jobs (a decoder's heap fragments, so a long-lived process would
grow with the crawl); one that dies takes only its jobs in flight with it: each of those images
is reported with the error ``worker_lost``, and a new worker takes its place.

The pool also runs plain function calls (page parsing) for the crawl, so one set of processes
serves both phases.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from auditor.crawl.exchange import Exchanger, FetchLimits, FetchResult, Hop
from auditor.errors import AuditorError
from auditor.extract import ExtractLimits, extract_image

_T = TypeVar("_T")

#: Jobs a worker process runs before it is replaced (bounds its memory).
JOBS_PER_WORKER = 2000

#: Modules the fork server imports once, so that each new worker starts in milliseconds.
#: ``__main__`` first: a child of the fork server otherwise imports the main script again (for
#: the ``auditor`` command, the whole CLI: about 2 s of CPU per worker, and workers are replaced
#: every :data:`JOBS_PER_WORKER` jobs); multiprocessing skips that when the server already has
#: it. ``scipy.fftpack`` is what ``imagehash.phash`` imports on its first call.
PRELOAD = (
    "__main__", "auditor.crawl.imagepool", "auditor.crawl.discover", "auditor.extract",
    "scipy.fftpack",
)  # fmt: skip

_HOP, _CALL = "hop", "call"


class WorkerLostError(AuditorError):
    """A worker process stopped while it had jobs in flight."""


@dataclass(frozen=True)
class WorkerSetup:
    """What every worker needs to send hops and examine what they bring back."""

    user_agent: str
    limits: FetchLimits
    extract: ExtractLimits


# --- the worker process ---------------------------------------------------------------------


def _worker_main(conn: Connection, setup: WorkerSetup) -> None:
    """Entry point of a worker process: serve jobs from ``conn`` until told to stop."""
    # The crawling process owns interruption: on Ctrl-C it stops handing out jobs and closes
    # the pipes, which ends the workers; they must not die mid-reply on their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_Worker(conn, setup).serve())


class _Worker:
    def __init__(self, conn: Connection, setup: WorkerSetup) -> None:
        self._conn = conn
        self._setup = setup
        self._cpu = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[tuple[int, str, Any] | None] = asyncio.Queue()

        def receive() -> None:  # blocking reads on their own thread keep the loop free
            while True:
                try:
                    message = self._conn.recv()
                except (EOFError, OSError):
                    message = None
                loop.call_soon_threadsafe(inbox.put_nowait, message)
                if message is None:
                    return

        threading.Thread(target=receive, name="jobs", daemon=True).start()
        exchanger = Exchanger(user_agent=self._setup.user_agent, limits=self._setup.limits)
        running: set[asyncio.Task[None]] = set()
        try:
            while (job := await inbox.get()) is not None:
                task = asyncio.create_task(self._run(*job, exchanger))
                running.add(task)
                task.add_done_callback(running.discard)
            await asyncio.gather(*running)
        finally:
            await exchanger.aclose()
            self._cpu.shutdown()

    async def _run(self, job_id: int, kind: str, payload: Any, exchanger: Exchanger) -> None:
        try:
            if kind == _HOP:
                value: object = await self._hop(payload, exchanger)
            else:
                function, args = payload
                value = await asyncio.get_running_loop().run_in_executor(self._cpu, function, *args)
            reply: tuple[int, bool, object] = (job_id, True, value)
        except Exception as exc:  # noqa: BLE001 - handed back to the caller, like a pool would
            reply = (job_id, False, exc)
        try:
            self._conn.send(reply)
        except (TypeError, AttributeError, ValueError) as exc:  # an unpicklable exception
            self._conn.send((job_id, False, RuntimeError(f"{type(exc).__name__}: {exc}")))

    async def _hop(self, hop: Hop, exchanger: Exchanger) -> tuple[FetchResult, float]:
        result, spent = await exchanger.send(hop)
        if result.body is None:
            return result, spent
        if not result.ok:  # an error page or a redirect: its body is not evidence
            return replace(result, body=None), spent
        loop = asyncio.get_running_loop()
        facts = await loop.run_in_executor(
            self._cpu, extract_image, result.body, self._setup.extract
        )
        return replace(result, body=None, facts=facts), spent


# --- the crawling process's side -------------------------------------------------------------


@dataclass(eq=False)
class _Handle:
    process: BaseProcess
    conn: Connection
    pending: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    jobs: int = 0
    retiring: bool = False


class ImagePool:
    """A fixed number of worker processes; use as an async context manager in the event loop."""

    def __init__(
        self, setup: WorkerSetup, processes: int, *, jobs_per_worker: int = JOBS_PER_WORKER
    ) -> None:
        self._setup = setup
        self._size = max(1, processes)
        self._jobs_per_worker = jobs_per_worker
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(list(PRELOAD))
        self._workers: list[_Handle] = []
        self._ids = itertools.count()
        self._closing = False

    async def __aenter__(self) -> ImagePool:
        for _ in range(self._size):
            self._start()
        return self

    async def __aexit__(self, exc_type: object, *rest: object) -> None:
        self._closing = True
        workers = list(self._workers)
        for worker in workers:
            worker.retiring = True
            _send_quietly(worker.conn, None)
        if exc_type is not None:  # interrupted: nothing in flight is wanted any more
            for worker in workers:
                worker.process.terminate()
        await asyncio.to_thread(_join_all, [worker.process for worker in workers])

    async def send(self, hop: Hop) -> tuple[FetchResult, float]:
        """Send ``hop`` from a worker (a :data:`~auditor.crawl.fetcher.HopSender`).

        A complete 2xx image comes back examined (``facts`` set, ``body`` None).
        """
        try:
            result: tuple[FetchResult, float] = await self._submit(_HOP, hop)
        except WorkerLostError as exc:
            lost = FetchResult(
                hop.url, hop.url, None, (), None, hop.started, error="worker_lost",
                error_detail=str(exc),
            )  # fmt: skip
            return lost, 0.0
        return result

    async def call(self, function: Callable[..., _T], *args: object) -> _T:
        """Run ``function(*args)`` (top-level and picklable) in a worker; raise what it raised."""
        value: _T = await self._submit(_CALL, (function, args))
        return value

    async def _submit(self, kind: str, payload: object) -> Any:
        worker = min(
            (worker for worker in self._workers if not worker.retiring),
            key=lambda worker: len(worker.pending),
        )
        job_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        worker.pending[job_id] = future
        if not _send_quietly(worker.conn, (job_id, kind, payload)):  # it died since its last reply
            worker.pending.pop(job_id, None)
            self._retire(worker)  # its listener removes it; a fresh worker takes the job
            return await self._submit(kind, payload)
        worker.jobs += 1
        if worker.jobs >= self._jobs_per_worker:
            self._retire(worker)
        return await future

    def _start(self) -> None:
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main, args=(theirs, self._setup), name="auditor-worker", daemon=True
        )
        process.start()
        theirs.close()
        worker = _Handle(process, ours)
        self._workers.append(worker)
        threading.Thread(
            target=self._listen,
            args=(worker, asyncio.get_running_loop()),
            name="worker-replies",
            daemon=True,
        ).start()

    def _retire(self, worker: _Handle) -> None:
        """Let ``worker`` finish its jobs in flight and exit; a fresh one takes new jobs."""
        worker.retiring = True
        _send_quietly(worker.conn, None)
        self._start()

    def _listen(self, worker: _Handle, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver ``worker``'s replies to the event loop (runs on its own thread)."""
        with contextlib.suppress(RuntimeError):  # the loop closed first: nobody is waiting
            while True:
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    break
                loop.call_soon_threadsafe(self._deliver, worker, message)
            worker.process.join()
            worker.conn.close()
            loop.call_soon_threadsafe(self._gone, worker)

    @staticmethod
    def _deliver(worker: _Handle, message: tuple[int, bool, Any]) -> None:
        job_id, ok, value = message
        future = worker.pending.pop(job_id, None)
        if future is None or future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def _gone(self, worker: _Handle) -> None:
        self._workers.remove(worker)
        if worker.pending:
            error = WorkerLostError(self._lost_detail(worker))
            for future in worker.pending.values():
                if not future.done():
                    future.set_exception(error)
            worker.pending.clear()
        if not worker.retiring and not self._closing:
            self._start()

    @staticmethod
    def _lost_detail(worker: _Handle) -> str:
        code = worker.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return f"the worker process examining it stopped ({how}) with its jobs in flight"


def _send_quietly(conn: Connection, message: object) -> bool:
    """Send ``message``; False when the worker's end is already gone."""
    try:
        conn.send(message)
    except (BrokenPipeError, ConnectionResetError, OSError):
        return False
    return True


def _join_all(processes: list[BaseProcess], timeout: float = 10.0) -> None:
    for process in processes:
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()
