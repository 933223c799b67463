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
from typing import Final

PRELOAD: Final = (
    "auditor.crawl.imagepool",
    "auditor.crawl.discover",
    "auditor.extract",
    "imagehash",
    "numpy",
    "scipy.fftpack",
)
"""Modules the fork server imports: the pool's, and those the extractors import on first use
(``imagehash`` and ``numpy``, which the crawling process does without, and ``scipy.fftpack``,
which ``imagehash.phash`` imports on its first call)."""


def start_fork_server() -> None:
    """Start the fork server with :data:`PRELOAD`, unless it already runs; return at once.

    The server's import goes on in its own process. A server already running keeps the modules
    it was started with: the first caller decides, which is why the pool asks for the same ones.
    """
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(PRELOAD))
    multiprocessing.forkserver.ensure_running()
