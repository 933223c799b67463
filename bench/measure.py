"""Run a command and measure it as a process tree: wall time, CPU, peak memory.

Why a tree: both tools under test fork helpers (the auditor a forkserver and one extraction
worker per core; img2dataset a downloader and a logger process), so the figures that matter
are the whole tree's CPU time and each process's peak resident memory.

- **CPU** is the larger of two readings. ``getrusage(RUSAGE_CHILDREN)`` before and after the
  command counts the child and every descendant that was *waited for* up the chain; but a
  helper that is left to exit on its own (the auditor's multiprocessing forkserver and its
  workers are re-parented to init) is never added there. So the monitor also keeps, per
  process of the tree, the last user+system time read from ``/proc/<pid>/stat`` and sums them
  (missing at most the last poll interval of each process). Commands run one at a time.
- **Peak RSS per process** is the largest ``VmHWM`` (the kernel's high-water mark of resident
  memory) seen for any process of the tree, polled from ``/proc`` every 100 ms; ``VmHWM`` is
  monotonic, so a poll after the peak catches it even if the peak fell between polls. Only a
  helper that lives for less than one poll can escape it.
- **Peak tree RSS** is the largest sum of ``VmRSS`` over the tree at one poll (sampled, so a
  lower bound of the true peak).
- **The machine's pace** (:mod:`pace`): the same thread times a fixed probe workload and, when
  the caller passes a progress counter, records how much was finished in each window, so that
  runs can be compared in the machine's fast state.

Linux only (``/proc``); psutil is not needed.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pace import PaceRecorder, Window

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Measured:
    """What one command cost."""

    returncode: int
    wall_s: float
    cpu_s: float
    """User plus system time of the whole tree."""
    peak_rss_mb: float
    """Largest peak resident memory of any one process of the tree."""
    peak_tree_rss_mb: float
    """Largest sampled sum of resident memory over the tree."""
    processes: int
    """Distinct processes seen in the tree."""
    stdout: str
    stderr: str
    probe_ms: float | None = None
    """Median time of the machine-speed probe during the command (:func:`pace.probe_ms`)."""
    windows: tuple[Window, ...] = ()
    """Progress windows, when the command was run with a progress counter."""


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces: split after the last ")"
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_pids(root: int) -> list[int]:
    """``root`` and all its descendants alive now."""
    children = _children_map()
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _cpu_ticks(pid: int) -> int:
    """User plus system clock ticks of ``pid`` itself (not its children), 0 when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def _memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in kB, or zeros when the process is gone."""
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, hwm


class TreeMonitor:
    """Polls the memory of a process tree, and the machine's pace, in a background thread."""

    def __init__(self, root: int, progress: Callable[[], int | None] | None = None) -> None:
        self.root = root
        self.pace = PaceRecorder(progress)
        self.peak_hwm_kb = 0
        self.peak_tree_kb = 0
        self.seen: set[int] = set()
        self.ticks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMonitor:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.pace.finish()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self.pace.tick()
            self._stop.wait(POLL_SECONDS)

    @property
    def cpu_s(self) -> float:
        return sum(self.ticks.values()) / os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        total = 0
        for pid in tree_pids(self.root):
            rss, hwm = _memory_kb(pid)
            if rss or hwm:
                self.seen.add(pid)
            total += rss
            self.peak_hwm_kb = max(self.peak_hwm_kb, hwm)
            ticks = _cpu_ticks(pid)
            if ticks:
                self.ticks[pid] = max(ticks, self.ticks.get(pid, 0))
        self.peak_tree_kb = max(self.peak_tree_kb, total)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    progress: Callable[[], int | None] | None = None,
) -> Measured:
    """Run ``command`` to completion and return its costs (stdout/stderr captured).

    ``progress``, when given, is called every few seconds from the monitoring thread and returns
    how many items the command has finished so far (``None`` when it cannot tell yet).
    """
    cpu_before = _children_cpu()
    started = time.perf_counter()
    with subprocess.Popen(  # noqa: S603 - the harness's own commands
        list(command),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        with TreeMonitor(process.pid, progress) as monitor:
            stdout, stderr = process.communicate(timeout=timeout)
        wall = time.perf_counter() - started
    return Measured(
        returncode=process.returncode,
        wall_s=wall,
        cpu_s=max(_children_cpu() - cpu_before, monitor.cpu_s),
        peak_rss_mb=monitor.peak_hwm_kb / 1024,
        peak_tree_rss_mb=monitor.peak_tree_kb / 1024,
        processes=len(monitor.seen),
        stdout=stdout,
        stderr=stderr,
        probe_ms=monitor.pace.median_probe_ms,
        windows=tuple(monitor.pace.windows),
    )
