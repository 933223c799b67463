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

Each worker runs its own event loop (many exchanges in flight) and examines one image at a time,
so memory is one decode at a time. A body of up to :data:`INLINE_EXAMINE_BYTES` is examined on
the event loop itself. There are as many workers as cores, so a second thread wins no core, and
the worker's two threads contended for the GIL: on 10,000 small images the crawl took 7-10 %
less wall time without the hand-over (6 of 7 alternating pairs, bench/README.md); with face
detection on (20-60 ms per image on the loop) it was no slower. Larger bodies (multi-megapixel
photos) go to the worker's one extraction thread, whose decoding releases the GIL, so the
worker's other exchanges keep moving meanwhile. A small body can still decode into many pixels
(up to ``ExtractLimits.max_pixels``): such a file holds the loop for about a second, far within
the exchanges' read timeout, and the bytes waiting meanwhile sit in the socket buffers.

Jobs and replies travel over a socket pair as length-prefixed pickles, read and written by the event
loops themselves: helper threads that block in ``send``/``recv`` were measured to cost the crawling
process 1.4 ms per job waiting for the GIL after each system call, and a thread per direction
doubled the crawl's wall time. A job goes to the worker with the fewest jobs in flight. A worker is
replaced after :data:`JOBS_PER_WORKER` jobs (a decoder's heap fragments, so a long-lived process
would grow with the crawl); one that dies takes only its jobs in flight with it: each of those
images is reported with the error ``worker_lost``, and a new worker takes its place. Each
retiring or lost worker gets exactly one replacement, so the pool never outgrows its size; a job
that finds every worker retiring waits the few milliseconds a replacement takes to start.

The pool also runs plain function calls (page parsing, on the extraction thread) for the crawl,
so one set of processes serves both phases.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pickle
import signal
import socket
import struct
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from auditor.crawl.exchange import Exchanger, FetchLimits, FetchResult, Hop
from auditor.crawl.forkserver import fork_context
from auditor.errors import AuditorError
from auditor.extract import ExtractLimits, ImageFacts, extract_image

_T = TypeVar("_T")

#: Jobs a worker process runs before it is replaced (bounds its memory).
JOBS_PER_WORKER = 2000

#: Image bodies up to this size are examined on the worker's event loop, larger ones on its
#: extraction thread (see the module docstring). 1 MiB holds a thumbnail or a 1-2 MP photo.
INLINE_EXAMINE_BYTES = 1 << 20

_HOP, _CALL = "hop", "call"
_LENGTH = struct.Struct("!Q")


class WorkerLostError(AuditorError):
    """A worker process stopped while it had jobs in flight."""


@dataclass(frozen=True)
class WorkerSetup:
    """What every worker needs to send hops and examine what they bring back."""

    user_agent: str
    limits: FetchLimits
    extract: ExtractLimits
    inline_examine_bytes: int = INLINE_EXAMINE_BYTES
    """Largest body examined on the event loop rather than on the extraction thread."""


async def send_and_examine(
    hop: Hop, exchanger: Exchanger, examine: Callable[[bytes], Awaitable[ImageFacts]]
) -> tuple[FetchResult, float]:
    """Send ``hop``; return its result with a complete 2xx body replaced by ``examine``'s facts.

    No body travels further: an error page or a redirect's body is not evidence, and an image's
    bytes are summed up by its facts.
    """
    result, spent = await exchanger.send(hop)
    if result.body is None:
        return result, spent
    facts = await examine(result.body) if result.ok else None
    return replace(result, body=None, facts=facts), spent


# --- framing: both ends are event loops on a socket pair ------------------------------------


def _frame(message: object) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


async def _receive(reader: asyncio.StreamReader) -> Any:
    """Return the next message, or ``None`` once the other end has closed."""
    try:
        (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
        return pickle.loads(await reader.readexactly(length))  # noqa: S301 - our own processes
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


async def _streams(conn: Connection) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Asyncio streams over the socket behind a ``multiprocessing`` duplex pipe end."""
    sock = socket.socket(fileno=os.dup(conn.fileno()))
    conn.close()
    return await asyncio.open_connection(sock=sock)


# --- the worker process ---------------------------------------------------------------------


def _worker_main(conn: Connection, setup: WorkerSetup) -> None:
    """Entry point of a worker process: serve jobs from ``conn`` until told to stop."""
    # The crawling process owns interruption: on Ctrl-C it stops handing out jobs and closes
    # the sockets, which ends the workers; they must not die mid-reply on their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_Worker(setup).serve(conn))


class _Worker:
    def __init__(self, setup: WorkerSetup) -> None:
        self._setup = setup
        self._cpu = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")

    async def serve(self, conn: Connection) -> None:
        reader, writer = await _streams(conn)
        exchanger = Exchanger(user_agent=self._setup.user_agent, limits=self._setup.limits)
        running: set[asyncio.Task[None]] = set()
        try:
            while (job := await _receive(reader)) is not None:
                job_id, kind, payload = job
                task = asyncio.create_task(self._run(job_id, kind, payload, exchanger, writer))
                running.add(task)
                task.add_done_callback(running.discard)
            await asyncio.gather(*running)
            await writer.drain()
        finally:
            writer.close()
            await exchanger.aclose()
            self._cpu.shutdown()

    async def _run(
        self, job_id: int, kind: str, payload: Any, exchanger: Exchanger,
        writer: asyncio.StreamWriter,
    ) -> None:  # fmt: skip
        try:
            if kind == _HOP:
                value: object = await send_and_examine(payload, exchanger, self._examine)
            else:
                function, args = payload
                value = await asyncio.get_running_loop().run_in_executor(self._cpu, function, *args)
            reply: tuple[int, bool, object] = (job_id, True, value)
        except Exception as exc:  # noqa: BLE001 - handed back to the caller, like a pool would
            reply = (job_id, False, exc)
        try:
            frame = _frame(reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:  # unpicklable error
            frame = _frame((job_id, False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        writer.write(frame)

    async def _examine(self, body: bytes) -> ImageFacts:
        if len(body) <= self._setup.inline_examine_bytes:
            return extract_image(body, self._setup.extract)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._cpu, extract_image, body, self._setup.extract)


# --- the crawling process's side -------------------------------------------------------------


@dataclass(eq=False)
class _Handle:
    process: BaseProcess
    writer: asyncio.StreamWriter
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
        self._context = fork_context()
        self._workers: list[_Handle] = []
        self._listeners: set[asyncio.Task[None]] = set()
        self._ids = itertools.count()
        self._closing = False
        self._starting = 0  # replacements being started
        self._worker_added = asyncio.Event()  # set (and renewed) whenever a worker joins
        self.started = 0
        """Worker processes started so far: the first ones and every replacement."""

    async def __aenter__(self) -> ImagePool:
        for _ in range(self._size):
            await self._start()
        return self

    async def __aexit__(self, exc_type: object, *rest: object) -> None:
        self._closing = True
        workers = list(self._workers)
        for worker in workers:
            _ask_to_exit(worker)
        if exc_type is not None:  # interrupted: nothing in flight is wanted any more
            for worker in workers:
                worker.process.terminate()
        # Reap first (a worker that does not stop in time is killed), so that every listener
        # then sees its worker's end of the socket close.
        await asyncio.to_thread(_join_all, [worker.process for worker in workers])
        await asyncio.gather(*self._listeners, return_exceptions=True)

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
        worker = await self._least_busy()
        job_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        worker.pending[job_id] = future
        worker.writer.write(_frame((job_id, kind, payload)))
        worker.jobs += 1
        if worker.jobs >= self._jobs_per_worker:
            await self._retire(worker)
        return await future

    async def _least_busy(self) -> _Handle:
        """Return the live worker with the fewest jobs in flight, once there is one.

        While every worker is retiring and their replacements are still starting (balanced
        jobs bring all of them to their quota together), a job waits for a replacement: were
        it to start a worker of its own, every job in that window would, and the pool would
        outgrow its size (56 processes instead of 22 for 60 jobs, 2 workers, quota 3).
        """
        while True:
            live = [worker for worker in self._workers if not worker.retiring]
            if live:
                worker = min(live, key=lambda worker: len(worker.pending))
                if not worker.writer.is_closing():
                    return worker
                await self._retire(worker)  # died since its last reply
            elif self._starting:
                await self._worker_added.wait()
            else:
                await self._start()

    async def _start(self) -> None:
        self._starting += 1
        try:
            await self._spawn()
        finally:  # also when the start failed: a waiting job then tries (and fails) itself
            self._starting -= 1
            self._worker_added.set()
            self._worker_added = asyncio.Event()

    async def _spawn(self) -> None:
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main, args=(theirs, self._setup), name="auditor-worker", daemon=True
        )
        process.start()
        self.started += 1
        theirs.close()
        reader, writer = await _streams(ours)
        worker = _Handle(process, writer)
        self._workers.append(worker)
        listener = asyncio.create_task(self._listen(worker, reader))
        self._listeners.add(listener)
        listener.add_done_callback(self._listeners.discard)

    async def _retire(self, worker: _Handle) -> None:
        """Let ``worker`` finish its jobs in flight and exit; a fresh one takes new jobs."""
        _ask_to_exit(worker)
        await self._start()

    async def _listen(self, worker: _Handle, reader: asyncio.StreamReader) -> None:
        """Deliver ``worker``'s replies until it exits, then account for what it had."""
        while (message := await _receive(reader)) is not None:
            job_id, ok, value = message
            future = worker.pending.pop(job_id, None)
            if future is None or future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        worker.writer.close()
        await asyncio.to_thread(worker.process.join)
        self._workers.remove(worker)
        if worker.pending:
            error = WorkerLostError(self._lost_detail(worker))
            for future in worker.pending.values():
                if not future.done():
                    future.set_exception(error)
            worker.pending.clear()
        if not worker.retiring and not self._closing:
            await self._start()

    @staticmethod
    def _lost_detail(worker: _Handle) -> str:
        code = worker.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return f"the worker process examining it stopped ({how}) with its jobs in flight"


def _ask_to_exit(worker: _Handle) -> None:
    """Take no new jobs to ``worker`` and tell it to exit once its jobs in flight are done."""
    worker.retiring = True
    if not worker.writer.is_closing():  # a worker that already died has nothing to be told
        worker.writer.write(_frame(None))


def _join_all(processes: list[BaseProcess], timeout: float = 10.0) -> None:
    for process in processes:
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()
