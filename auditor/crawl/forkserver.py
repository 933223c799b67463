"""The fork server the crawl's worker processes come from, started before it is needed.

Every worker of :class:`~auditor.crawl.imagepool.ImagePool` is forked from ``multiprocessing``'s
fork server, which imports the modules in :data:`PRELOAD` once, so that each worker starts in
milliseconds. That import takes about 1.1 s of CPU on the benchmark machine. Left to the pool,
the server starts only when the crawl asks for its first worker, after the crawling process has
imported the rest of the auditor and set up the run, and the crawl then waits for the server's
import. ``auditor crawl`` calls :func:`start_fork_server` first thing instead, so the server
imports on another core while the crawling process does its own set-up (bench/README.md has
the measurement).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
from collections.abc import Sequence
from multiprocessing.context import ForkServerContext
from typing import Final

PRELOAD: Final = (
    "auditor.crawl.imagepool",
    "auditor.crawl.discover",
    "auditor.extract",
    "imagehash",
    "numpy",
    "scipy.fftpack",
    "imagecodecs",
    "onnx",
)
"""Modules the fork server imports: the pool's, and those the extractors import on first use
(``imagehash`` and ``numpy``, which the crawling process does without, ``scipy.fftpack``,
which ``imagehash.phash`` imports on its first call, ``imagecodecs``, which decodes still
WebPs, and ``onnx``, which the face detector imports on its first call: about 0.1 s a worker
otherwise). Where one cannot be imported, the server goes on without it. ``onnxruntime`` is
left to the workers: its import starts a thread, which a forked child would not have."""


def fork_context(extra: Sequence[str] = ()) -> ForkServerContext:
    """Return the ``forkserver`` context, its server set to preload :data:`PRELOAD` and ``extra``.

    A server already running keeps the modules it was started with: the first caller decides,
    which is why every pool asks for :data:`PRELOAD` (``extra`` counts only if this call's
    settings are the ones the server starts with).
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*PRELOAD, *extra])
    return context


def start_fork_server() -> None:
    """Start the fork server with :data:`PRELOAD`, unless it already runs; return at once.

    The server's import goes on in its own process.
    """
    fork_context()
    multiprocessing.forkserver.ensure_running()
