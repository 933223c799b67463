"""The benchmark's repeated rounds: which run is reported, and what the table shows."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import run  # noqa: E402
import summary  # noqa: E402 - bench/ is not a package
from measure import Measured  # noqa: E402

URLS = 1000


def audit_run(wall_s: float, percent: float = 100.0) -> run.AuditRun:
    measured = Measured(0, wall_s, wall_s * 1.8, 150.0, 400.0, 4, "", "")
    return run.AuditRun(False, measured, URLS, 946, 9000, {"percent": percent, "mismatches": []})


def test_the_median_run_is_reported_with_every_rounds_throughput() -> None:
    figures = run.auditor_figures([audit_run(12.5), audit_run(10.0), audit_run(20.0)], URLS)
    assert figures["wall_s"] == 12.5
    assert figures["urls_per_s"] == 80.0
    assert figures["urls_per_s_runs"] == [80.0, 100.0, 50.0]


def test_of_an_even_number_of_rounds_the_faster_middle_run_is_reported() -> None:
    assert run.auditor_figures([audit_run(20.0), audit_run(10.0)], URLS)["wall_s"] == 10.0


def test_the_worst_rounds_correctness_is_reported() -> None:
    figures = run.auditor_figures([audit_run(10.0), audit_run(11.0, 99.5), audit_run(12.0)], URLS)
    assert figures["wall_s"] == 11.0
    assert figures["correctness"] == {"percent": 99.5, "mismatches": []}
    figures = run.auditor_figures([audit_run(10.0, 98.0), audit_run(11.0), audit_run(12.0)], URLS)
    assert figures["correctness"] == {"percent": 98.0, "mismatches": []}


def test_the_table_shows_the_range_of_several_rounds_only() -> None:
    assert summary._throughput({"urls_per_s": 80.0, "urls_per_s_runs": [80.0, 100.0, 50.0]}) == (
        "80 (50-100)"
    )
    assert summary._throughput({"urls_per_s": 80.0, "urls_per_s_runs": [80.0]}) == "80"
    assert summary._throughput({"urls_per_s": 80.0}) == "80"


def test_the_tables_name_the_processor_and_read_results_recorded_before_it_was() -> None:
    environment = {"cpus": 2, "machine": "x86_64", "python": "3.11.7", "nginx": "1.22.1",
                   "img2dataset": "1.47.0"}  # fmt: skip
    results = {"started_at": "2026-11-23T17:00:00+00:00", "seed": 7, "scenarios": []}
    old = summary.markdown({**results, "environment": environment})
    new = summary.markdown({**results, "environment": {**environment, "cpu": "AMD EPYC"}})
    assert old.startswith("Benchmark of 2026-11-23T17:00:00+00:00 on 2 CPUs (model not recorded,")
    assert new.startswith("Benchmark of 2026-11-23T17:00:00+00:00 on 2 CPUs (AMD EPYC, x86_64,")
    assert run.cpu_model().strip()  # this machine's, read from /proc/cpuinfo where there is one


def test_the_median_is_shown_as_the_round_it_is() -> None:
    """img2dataset's median is recorded unrounded, its rounds to 0.1: 68.54 is the round 68.5."""
    shown = summary._throughput({"urls_per_s": 68.538, "urls_per_s_runs": [60.9, 68.5]})
    assert shown == "68 (61-68)"
