"""The benchmark's report: the issue's targets, the checks against them and the Markdown table.

Kept apart from ``bench/run.py``, which runs the tools: everything here is a pure function of
the results dictionary that run writes to ``latest.json``, so a report can be rebuilt or tested
without running anything.
"""

from __future__ import annotations

from typing import Any, Final

from pace import Window, fast_rate

TARGETS: Final = {
    # scenario mix -> minimum ratio auditor/img2dataset (issue 7), faces off
    "realistic": 1.5,
    "small": 1.35,
    "1mp": 1.75,
}
FACES_ON_TARGET: Final = 1.0
"""Minimum ratio with face detection on, realistic mix."""
RSS_LIMIT_MB: Final = 200.0
RSS_LIMIT_12MP_MB: Final = 400.0
SCALE_SPEED_LOSS: Final = 0.05
"""Largest throughput loss allowed from the second-largest to the largest realistic run."""
SCALE_MEMORY_GROWTH: Final = 0.15
AUDIT_RUNS: Final = (("nofaces", False), ("faces", True))
"""The auditor runs of a scenario: result key suffix, face detection on."""
AUDITOR_KEYS: Final = tuple(f"auditor_{key}" for key, _ in AUDIT_RUNS)
"""The scenario keys of the auditor runs' figures (a run left out has no key)."""
FULL_AGREEMENT: Final = 100.0


def _fmt(value: object, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _throughput(run: dict[str, Any]) -> str:
    """URLs/s of the median run, with the range over the rounds when there were several."""
    rounds = run.get("urls_per_s_runs", [])
    spread = f" ({min(rounds):,.0f}-{max(rounds):,.0f})" if len(rounds) > 1 else ""
    # The rounds are recorded to 0.1; the median is rounded alike first, so that it is shown as
    # one of them (68.54 would show as 69 beside a recorded 68.5 shown as 68).
    return _fmt(round(float(run["urls_per_s"]), 1)) + spread


def markdown(results: dict[str, Any]) -> str:
    """The Markdown tables of ``latest.md`` (also printed)."""
    env = results["environment"]
    cpu = env.get("cpu", "model not recorded")  # results written before it was
    lines = [
        f"Benchmark of {results['started_at']} on {env['cpus']} CPUs ({cpu}, {env['machine']}, "
        f"Python {env['python']}, nginx {env['nginx']}, img2dataset {env['img2dataset']}); "
        f"seed {results['seed']}"
        + (
            f"; median of {results['repeat']} interleaved rounds per tool, range in brackets."
            if results.get("repeat", 1) > 1
            else "."
        ),
        "",
        "| scenario | tool | URLs/s | vs img2dataset | fetched | CPU ms/URL | peak RSS/process "
        "MB | peak tree RSS MB | DB rows/s | correct |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scenario in results["scenarios"]:
        name = f"{scenario['mix']} {scenario['images']:,}"
        for key, label, ratio in (
            ("auditor_nofaces", "auditor, faces off", scenario.get("ratio_nofaces")),
            ("auditor_faces", "auditor, faces on", scenario.get("ratio_faces")),
        ):
            if key not in scenario:
                continue
            run = scenario[key]
            lines.append(
                f"| {name} | {label} | {_throughput(run)} | "
                f"{_fmt(ratio, 2) + 'x' if ratio else '-'} | {_fmt(run['images_fetched'])} | "
                f"{_fmt(run['cpu_ms_per_image'], 1)} | {_fmt(run['peak_rss_mb'])} | "
                f"{_fmt(run['peak_tree_rss_mb'])} | {_fmt(run['db_rows_per_s'])} | "
                f"{run['correctness']['percent']:.1f} % |"
            )
        for key, label in (("img2dataset", "img2dataset, defaults"),
                           ("img2dataset_no_resize", "img2dataset, resize_mode=no")):  # fmt: skip
            if key in scenario:
                run = scenario[key]
                lines.append(
                    f"| {name} | {label} | {_throughput(run)} | 1.00x | "
                    f"{_fmt(run['successes'])} | "
                    f"{_fmt(1000 * run['cpu_s'] / max(run['urls'], 1), 1)} | "
                    f"{_fmt(run['peak_rss_mb'])} | {_fmt(run['peak_tree_rss_mb'])} | - | - |"
                )
    stages = next((s["stages"] for s in results["scenarios"] if "stages" in s), None)
    if stages:
        lines += [
            "",
            f"CPU ms per image by stage ({stages['images']:,} images, faces on; "
            "`bench/stages.py`: one in-process audit, thread CPU time per stage):",
            "",
            "| " + " | ".join(stages["cpu_ms_per_image"]) + " | total |",
            "| " + " | ".join("---:" for _ in stages["cpu_ms_per_image"]) + " | ---: |",
            "| "
            + " | ".join(f"{v:.2f}" for v in stages["cpu_ms_per_image"].values())
            + f" | {stages['total_cpu_ms_per_image']:.2f} |",
        ]
    checks = results.get("targets", [])
    if checks:
        lines += ["", "| target | measured | met |", "| --- | --- | --- |"]
        lines += [f"| {c['target']} | {c['measured']} | {'yes' if c['met'] else 'no'} |"
                  for c in checks]  # fmt: skip
    return "\n".join(lines) + "\n"


def _check(target: str, measured: str, met: bool) -> dict[str, object]:
    return {"target": target, "measured": measured, "met": met}


def target_checks(scenarios: list[dict[str, Any]]) -> list[dict[str, object]]:
    """The issue's targets, evaluated on what was measured in this run."""
    checks: list[dict[str, object]] = []
    for scenario in scenarios:
        name = f"{scenario['mix']} {scenario['images']:,}"
        ratio = scenario.get("ratio_nofaces")
        if ratio is not None and scenario["mix"] in TARGETS:
            wanted = TARGETS[scenario["mix"]]
            target = f"{name}: faces off >= {wanted}x img2dataset"
            checks.append(_check(target, f"{ratio:.3f}x", ratio >= wanted))
        ratio = scenario.get("ratio_faces")
        if ratio is not None and scenario["mix"] == "realistic":
            target = f"{name}: faces on >= {FACES_ON_TARGET}x img2dataset"
            checks.append(_check(target, f"{ratio:.3f}x", ratio >= FACES_ON_TARGET))
        limit = RSS_LIMIT_12MP_MB if scenario["mix"] == "realistic" else RSS_LIMIT_MB
        for key in AUDITOR_KEYS:
            if key not in scenario:
                continue
            rss = scenario[key]["peak_rss_mb"]
            target = f"{name} {key}: peak RSS per process <= {limit:.0f} MB"
            checks.append(_check(target, f"{rss:.0f} MB", rss <= limit))
            percent = scenario[key]["correctness"]["percent"]
            target = f"{name} {key}: correctness 100 %"
            checks.append(_check(target, f"{percent:.2f} %", percent == FULL_AGREEMENT))
    realistic = sorted((s for s in scenarios if s["mix"] == "realistic"), key=lambda s: s["images"])
    if len(realistic) > 1:
        checks += _scale_checks(realistic[-2], realistic[-1], fastest_probe_ms(scenarios))
    return checks


def _scale_checks(
    small: dict[str, Any], large: dict[str, Any], fastest: float | None
) -> list[dict[str, object]]:
    """Throughput and memory from the second-largest to the largest realistic run.

    Throughput is compared in the machine's fast state (:mod:`pace`): the two runs are made
    minutes apart and cannot be interleaved. The end-to-end change is shown beside it.
    """
    checks: list[dict[str, object]] = []
    span = f"{small['images']:,} -> {large['images']:,}"
    for key in AUDITOR_KEYS:
        if key not in small or key not in large:
            continue
        raw = large[key]["urls_per_s"] / small[key]["urls_per_s"] - 1
        before, after = (
            fast_rate(_windows(scenario[key]), fastest) if fastest else None
            for scenario in (small, large)
        )
        target = f"{span} {key}: throughput within {SCALE_SPEED_LOSS:.0%}"
        if before is not None and after is not None and before.per_s and after.per_s:
            speed = after.per_s / before.per_s - 1
            measured = (
                f"{speed:+.1%} in the fast state ({before.per_s:,.0f} -> {after.per_s:,.0f} "
                f"URLs/s; slow {before.slow_share:.0%} and {after.slow_share:.0%} of the time); "
                f"{raw:+.1%} end to end"
            )
        else:
            speed, measured = raw, f"{raw:+.1%} end to end (no fast spell in both runs)"
        checks.append(_check(target, measured, speed >= -SCALE_SPEED_LOSS))
        memory = large[key]["peak_rss_mb"] / small[key]["peak_rss_mb"] - 1
        target = f"{span} {key}: memory growth within {SCALE_MEMORY_GROWTH:.0%}"
        checks.append(_check(target, f"{memory:+.1%}", memory <= SCALE_MEMORY_GROWTH))
    return checks


def _windows(figures: dict[str, Any]) -> list[list[Window]]:
    return [[Window.from_json(w) for w in run] for run in figures.get("windows_runs", [])]


def fastest_probe_ms(scenarios: list[dict[str, Any]]) -> float | None:
    """The fastest probe window of any auditor run of this benchmark: the machine's fast pace."""
    probes = [
        window.probe_ms
        for scenario in scenarios
        for key in AUDITOR_KEYS
        if key in scenario
        for run in _windows(scenario[key])
        for window in run
        if window.probe_ms > 0
    ]
    return min(probes, default=None)
