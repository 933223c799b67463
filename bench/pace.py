"""How fast the machine itself was during a measurement, and the throughput of its fast spells.

Why this exists: the machines this benchmark runs on are shared virtual machines whose CPUs
switch between two speeds for tens of seconds to minutes at a time. Measured with
:func:`probe_ms` while the auditor ran (bench/README.md, "Scaling"): the probe took 1.15-1.2 ms
of thread CPU time in one state and 2.0-2.4 ms in the other, hardly anything in between, and
the auditor's CPU per image followed it (13-15 ms against 21-25 ms on the realistic mix, so 130-150
against 70-90 URLs/s). A 75-second run can fall wholly into either state, and a 15-minute run
mixes both, so the end-to-end throughputs of two runs made minutes apart (the 10k -> 100k
scaling target) compare the machine's states, not the pipeline. Interleaved rounds cope with
this for tool-against-tool ratios; runs of different lengths cannot be interleaved.

So while a command runs, :class:`PaceRecorder` times the probe every :data:`PROBE_EVERY_S`
seconds in the harness's own monitoring thread (under 0.5 % of one core) and, when given a
progress counter, closes a :class:`Window` every :data:`WINDOW_S` seconds: how many items were
finished and how fast the probe ran. :func:`fast_rate` then counts only the steady windows
(past start-up, before the end) in which the probe ran within :data:`FAST_FACTOR` of the
fastest probe of the whole benchmark. Scaling the throughput by the probe instead was tried and
rejected: in the slow state the probe slows by about 1.9x but the auditor by about 1.6x, so
slow windows corrected that way came out at 159-172 URLs/s against 119-135 measured in fast
ones.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

PROBE_EVERY_S = 0.5
"""Seconds between two probe runs."""

WINDOW_S = 5.0
"""Length of a progress window in seconds."""

FAST_FACTOR = 1.3
"""A window is in the fast state when its probe took at most this times the fastest probe."""

_PROBE_BLOCK = b"\x5a" * 65_536


def probe_ms() -> float:
    """Run a fixed, mixed workload once and return the thread CPU time it took, in ms.

    Dictionary and string work as in the interpreter-bound parts of the pipeline, plus one
    SHA-256 of 64 KiB as in its C parts; about 1.2 ms on the benchmark's machines when fast.
    Thread CPU time, not wall time, so waiting for a core under load does not count.
    """
    started = time.thread_time_ns()
    counts: dict[str, int] = {}
    for number in range(3_000):
        key = f"k{number % 97}"
        counts[key] = counts.get(key, 0) + len(key)
    hashlib.sha256(_PROBE_BLOCK).digest()
    return (time.thread_time_ns() - started) / 1e6


@dataclass(frozen=True)
class Window:
    """One stretch of a run: its length, what was finished in it, and the probe's median."""

    seconds: float
    done: int
    probe_ms: float

    def as_json(self) -> list[float]:
        """Compact form for the results file: ``[seconds, done, probe_ms]``."""
        return [round(self.seconds, 3), self.done, round(self.probe_ms, 3)]

    @classmethod
    def from_json(cls, value: Sequence[float]) -> Window:
        """Inverse of :meth:`as_json`."""
        return cls(float(value[0]), int(value[1]), float(value[2]))


class PaceRecorder:
    """Probes the machine and, with a ``progress`` counter, records windows; call :meth:`tick`."""

    def __init__(
        self,
        progress: Callable[[], int | None] | None = None,
        *,
        window_s: float = WINDOW_S,
        probe_every_s: float = PROBE_EVERY_S,
    ) -> None:
        self._progress = progress
        self._window_s = window_s
        self._probe_every_s = probe_every_s
        self.probes: list[float] = []
        self.windows: list[Window] = []
        self._next_probe = self._window_start = time.perf_counter()
        self._window_probes: list[float] = []
        self._done = 0

    def tick(self) -> None:
        """Probe if one is due, and close the current window if it is over."""
        now = time.perf_counter()
        if now >= self._next_probe:
            measured = probe_ms()
            self.probes.append(measured)
            self._window_probes.append(measured)
            self._next_probe = now + self._probe_every_s
        if self._progress is not None and now - self._window_start >= self._window_s:
            self._close_window(now)

    def finish(self) -> None:
        """Close the last, partial window (it is never counted as steady)."""
        if self._progress is not None:
            self._close_window(time.perf_counter())

    @property
    def median_probe_ms(self) -> float | None:
        """Median probe time over the whole command, ``None`` if it ended before the first."""
        return statistics.median(self.probes) if self.probes else None

    def _close_window(self, now: float) -> None:
        assert self._progress is not None  # noqa: S101 - only called with a counter
        counted = self._progress()
        done = self._done if counted is None else max(counted, self._done)
        probe = statistics.median(self._window_probes) if self._window_probes else 0.0
        self.windows.append(Window(now - self._window_start, done - self._done, probe))
        self._done, self._window_start, self._window_probes = done, now, []


@dataclass(frozen=True)
class FastRate:
    """Throughput over a run's steady windows in the fast state, and how much of it was slow."""

    per_s: float | None
    """Items per second in steady fast windows; ``None`` when there were none."""
    fast_s: float
    """Seconds of steady windows in the fast state."""
    slow_share: float
    """Share of the steady seconds spent in the slow state (0..1)."""


def fast_rate(runs: Sequence[Sequence[Window]], fastest_probe_ms: float) -> FastRate:
    """Items per second over the runs' steady windows whose probe was fast (module docstring).

    ``runs`` holds each round's windows. Steady: after a run's first window that finished
    anything (start-up, the first pages and the first batch written are not the pipeline's
    pace) and before its last one (partial, with the final flush).
    """
    steady = [window for windows in runs for window in _steady(windows)]
    limit = FAST_FACTOR * fastest_probe_ms
    fast = [window for window in steady if 0 < window.probe_ms <= limit]
    steady_s = sum(window.seconds for window in steady)
    fast_s = sum(window.seconds for window in fast)
    per_s = sum(window.done for window in fast) / fast_s if fast_s else None
    slow_share = 1 - fast_s / steady_s if steady_s else 0.0
    return FastRate(per_s, fast_s, slow_share)


def _steady(windows: Sequence[Window]) -> Sequence[Window]:
    first = next((i for i, window in enumerate(windows) if window.done), None)
    return () if first is None else windows[first + 1 : -1]
