"""The benchmark of issue 7: the auditor against img2dataset, same URL list, same run.

Run from the repository root (``make bench`` runs this with its defaults)::

    .venv/bin/python bench/run.py [--scenarios realistic:1000,realistic:10000,small:1000,1mp:1000]
                                  [--seed 7] [--repeat N] [--skip-img2dataset] [--no-stages]

For each scenario (``mix:images``) the harness

1. generates the seeded site with its ground truth (``bench/sitegen.py``), or reuses it from
   ``bench/work/`` when one with the same mix, size and seed is already there;
2. serves it with nginx on loopback (``bench/nginx.py``; installed on Debian when missing);
3. runs the unchanged ``auditor crawl`` CLI on it twice, with face detection and without
   (``crawl.detect_faces: false``), crawling from the index page with the politeness delay off and
   32 requests in flight (its image-worker count), so that the auditor is not throttled by its
   own manners on a loopback server;
4. runs img2dataset on the identical URL list (``bench/img2dataset_runner.py``: its default
   settings; optionally again with ``resize_mode=no``, download only);
5. checks each auditor run against the ground truth through ``auditor export``;

(with ``--repeat N``, steps 3 and 4 run N times, interleaved, and each tool's median run is
reported with the range), then once, on the first scenario, measures CPU milliseconds per
image and stage (``bench/stages.py``). Results go to ``bench/results/latest.json`` and
``latest.md``, and the Markdown is printed.

While each auditor run goes, the monitor also times a probe workload and counts the image rows
stored, in 5-second windows (``bench/pace.py``), so that the 10,000 -> 100,000 scaling check can
compare the runs in the machine's fast state; ``bench/summary.py`` turns the results into the
target checks and the tables.

Throughput is *image URLs per second*: every URL of the list handled (fetched and examined, or
listed with the reason it was not) divided by the wall time of the whole command, start-up and
the page crawl included. Both tools get the same URL list; img2dataset refuses some by design
(404s, truncated files, ``X-Robots-Tag: noai``), so its successes are reported separately.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
import img2dataset_runner
import sitegen
from correctness import compare, load_jsonl
from measure import Measured, run_measured
from nginx import NginxMissingError, NginxServer
from summary import AUDIT_RUNS, AUDITOR_KEYS, FULL_AGREEMENT, markdown, target_checks

BENCH: Final = Path(__file__).resolve().parent
REPO: Final = BENCH.parent
AUDITOR: Final = REPO / ".venv" / "bin" / "auditor"
PYTHON: Final = REPO / ".venv" / "bin" / "python"
DEFAULT_SCENARIOS: Final = "realistic:1000,realistic:10000,small:1000,1mp:1000"
CONCURRENCY: Final = 32
"""Requests in flight per host: the crawler's image-worker count (``IMAGE_WORKERS``)."""
_R = TypeVar("_R")


@dataclass(frozen=True)
class AuditRun:
    """One measured ``auditor crawl`` with its correctness check."""

    faces: bool
    measured: Measured
    images: int
    images_fetched: int
    db_rows: int
    agreement: dict[str, object]

    def as_json(self, urls: int) -> dict[str, object]:
        m = self.measured
        return {
            "faces": self.faces,
            "images": self.images,
            "images_fetched": self.images_fetched,
            "wall_s": round(m.wall_s, 3),
            "urls_per_s": round(urls / m.wall_s, 1),
            "cpu_s": round(m.cpu_s, 2),
            "cpu_ms_per_image": round(1000 * m.cpu_s / max(urls, 1), 2),
            "peak_rss_mb": round(m.peak_rss_mb, 1),
            "peak_tree_rss_mb": round(m.peak_tree_rss_mb, 1),
            "processes": m.processes,
            "db_rows": self.db_rows,
            "db_rows_per_s": round(self.db_rows / m.wall_s, 1),
            "correctness": self.agreement,
            "probe_ms": None if m.probe_ms is None else round(m.probe_ms, 3),
        }


def compile_auditor() -> None:
    """Compile the auditor's modules to bytecode once, as installing its wheel would.

    ``make`` installs the project in editable mode, which compiles nothing, and where
    ``PYTHONDONTWRITEBYTECODE`` is set (as on the benchmark's machine) no run writes the cache
    either: every auditor process would then compile its sources again at start-up (0.2-0.8 s
    of a 1,000-image run here), while img2dataset, installed from wheels, runs compiled code.
    ``compileall`` writes the cache whatever that variable says.
    """
    if not compileall.compile_dir(REPO / "auditor", quiet=1):
        raise RuntimeError("compiling the auditor's modules failed")


def audit_yaml(base_url: str, pages: int, *, faces: bool) -> str:
    """The audit.yaml for one site: declared crawler BenchBot, crawl from the index page."""
    budget = pages + 10
    return f"""# generated by bench/run.py
crawler:
  name: bench-crawler
  robots_tokens: [{sitegen.BOT_TOKEN}]
  purposes: [ai-train]
targets:
  - {{url: "{base_url}/", max_pages: {budget}}}
crawl:
  max_pages: {budget}
  max_depth: 3
  per_host_concurrency: {CONCURRENCY}
  delay: 0
  detect_faces: {"true" if faces else "false"}
"""


def site_for(mix: str, images: int, seed: int, work: Path) -> tuple[Path, dict[str, Any]]:
    """Generate the site, or reuse one already generated with the same parameters."""
    site = work / f"site-{mix}-{images}-s{seed}"
    truth_path = site / "ground_truth.json"
    if truth_path.exists():
        meta = json.loads(truth_path.read_text())["meta"]
        if (meta["mix"], meta["images"], meta["seed"]) == (mix, images, seed):
            print(f"reusing {site}", file=sys.stderr)
            return site, json.loads(truth_path.read_text())
    print(f"generating {mix} site with {images} images in {site}", file=sys.stderr)
    summary = sitegen.generate(images, seed, site, mix)
    print(f"  {summary.bytes / 1e6:.0f} MB in {summary.seconds:.0f} s", file=sys.stderr)
    return site, json.loads(truth_path.read_text())


def count_rows(db: Path) -> int:
    """Rows written to the store's tables (FTS shadow and bookkeeping tables excluded)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        names = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not row[0].startswith(("sqlite_", "alembic")) and "fts" not in row[0]
        ]
        return sum(
            connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]  # noqa: S608
            for name in names
        )


def stored_images(db: Path) -> Callable[[], int | None]:
    """A progress counter for a running audit: the image rows its database holds so far.

    Every URL of the list ends as one ``images`` row (fetched and examined, or listed with the
    reason it was not), written in batches. ``None`` while the database or its tables do not
    exist yet; each call opens its own short read-only connection, so it never holds back the
    writer or a WAL checkpoint.
    """

    def count() -> int | None:
        try:
            connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)
        except sqlite3.Error:
            return None
        try:
            return int(connection.execute("SELECT COUNT(*) FROM images").fetchone()[0])
        except sqlite3.Error:
            return None
        finally:
            connection.close()

    return count


def run_auditor(
    site_dir: Path, truth: dict[str, Any], base_url: str, work: Path, *, faces: bool
) -> AuditRun:
    label = "faces" if faces else "nofaces"
    config = work / f"audit-{label}.yaml"
    pages = truth["meta"]["pages"] + truth["meta"]["lists"] + 1
    config.write_text(audit_yaml(base_url, pages, faces=faces))
    db = work / f"audit-{label}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = dict(os.environ)
    command = [str(AUDITOR), "crawl", "-c", str(config), "--db", str(db), "--quiet"]
    print(f"  auditor crawl ({label})", file=sys.stderr)
    measured = run_measured(command, env=env, progress=stored_images(db))
    if measured.returncode not in (0, 1):
        raise RuntimeError(f"auditor crawl failed ({measured.returncode}): {measured.stderr}")
    exported = subprocess.run(  # noqa: S603 - our own CLI
        [str(AUDITOR), "export", "--db", str(db), "--what", "images", "--format", "jsonl"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    records = load_jsonl(exported.stdout)
    agreement = compare(records, truth, base_url, faces_checked=faces)
    return AuditRun(
        faces=faces,
        measured=measured,
        images=len(records),
        images_fetched=sum(1 for r in records if r.get("fetched")),
        db_rows=count_rows(db),
        agreement=agreement.as_json(),
    )


def _median_run(runs: list[_R], wall: Callable[[_R], float]) -> _R:
    """The run with the median wall time (of an even number, the faster of the middle two)."""
    return sorted(runs, key=wall)[(len(runs) - 1) // 2]


def auditor_figures(runs: list[AuditRun], urls: int) -> dict[str, object]:
    """The median run's figures, every run's throughput, and the worst run's correctness."""
    figures = _median_run(runs, lambda run: run.measured.wall_s).as_json(urls)
    figures["urls_per_s_runs"] = [round(urls / run.measured.wall_s, 1) for run in runs]
    figures["windows_runs"] = [[w.as_json() for w in run.measured.windows] for run in runs]
    worst = min(runs, key=lambda run: float(str(run.agreement["percent"])))
    figures["correctness"] = worst.agreement
    return figures


def run_stages(base_url: str, truth: dict[str, Any], work: Path) -> dict[str, object]:
    """Per-stage CPU ms per image (``bench/stages.py``), in its own process."""
    config = work / "audit-stages.yaml"
    pages = truth["meta"]["pages"] + truth["meta"]["lists"] + 1
    config.write_text(audit_yaml(base_url, pages, faces=True))
    db = work / "audit-stages.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    out = work / "stages.json"
    print("  per-stage CPU (in-process, instrumented)", file=sys.stderr)
    subprocess.run(  # noqa: S603
        [str(PYTHON), str(BENCH / "stages.py"), "-c", str(config), "--db", str(db), "-o",
         str(out)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    result: dict[str, object] = json.loads(out.read_text())
    return result


def run_scenario(
    mix: str, images: int, args: argparse.Namespace, work: Path, stages: bool
) -> dict[str, object]:
    site_dir, truth = site_for(mix, images, args.seed, work)
    scratch = work / f"run-{mix}-{images}"
    scratch.mkdir(parents=True, exist_ok=True)
    result: dict[str, object] = {"mix": mix, "images": images, "seed": args.seed,
                                 "pages": truth["meta"]["pages"],
                                 "site_mb": round(truth["meta"]["bytes"] / 1e6, 1)}  # fmt: skip
    with NginxServer(site_dir) as server:
        base = server.base_url
        urls = sitegen.write_url_lists(site_dir, base)
        print(f"scenario {mix}:{images} served at {base}", file=sys.stderr)
        result["urls"] = len(urls)
        selected = [(key, faces) for key, faces in AUDIT_RUNS
                    if args.faces in ("both", "on" if faces else "off")]  # fmt: skip
        runs: dict[str, list[AuditRun]] = {key: [] for key, _ in selected}
        defaults: list[img2dataset_runner.Img2datasetResult] = []
        # Rounds interleave the tools, so a slow spell of a shared machine hits both alike.
        for _ in range(args.repeat):
            for key, faces in selected:
                runs[key].append(run_auditor(site_dir, truth, base, scratch, faces=faces))
            if not args.skip_img2dataset:
                print("  img2dataset (defaults)", file=sys.stderr)
                defaults.append(img2dataset_runner.run(site_dir / "urls.txt"))
        for key, measured in runs.items():
            result[f"auditor_{key}"] = auditor_figures(measured, len(urls))
        if defaults:
            default = _median_run(defaults, lambda run: run.wall_s)
            result["img2dataset"] = default.as_json() | {
                "urls_per_s_runs": [round(run.urls_per_s, 1) for run in defaults]
            }
            if args.img2dataset_download_only:
                print("  img2dataset (resize_mode=no)", file=sys.stderr)
                plain = img2dataset_runner.run(site_dir / "urls.txt", resize_mode="no")
                result["img2dataset_no_resize"] = plain.as_json()
            for key, measured in runs.items():
                run = _median_run(measured, lambda run: run.measured.wall_s)
                result[f"ratio_{key}"] = round(
                    (len(urls) / run.measured.wall_s) / default.urls_per_s, 3
                )
        if stages:
            result["stages"] = run_stages(base, truth, scratch)
    return result


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo``), or the platform's answer elsewhere.

    Recorded because the same 2-core VM has run on hosts of very different speed (face detection
    took 89 ms of CPU per image on one day and 40 on the next).
    """
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def nginx_version() -> str:
    from nginx import find_nginx  # noqa: PLC0415

    binary = find_nginx()
    if binary is None:
        return "missing"
    done = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)  # noqa: S603
    return done.stderr.strip().rsplit("/", 1)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the auditor against img2dataset.")
    parser.add_argument(
        "--scenarios",
        default=DEFAULT_SCENARIOS,
        help="comma-separated mix:images (mix: realistic, small, 1mp)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--work",
        type=Path,
        default=BENCH / "work",
        help="generated sites and scratch databases (reused between runs)",
    )
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--skip-img2dataset", action="store_true")
    parser.add_argument(
        "--img2dataset-download-only",
        action="store_true",
        help="also run img2dataset with resize_mode=no",
    )
    parser.add_argument("--no-stages", action="store_true", help="skip the per-stage run")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds per scenario, each running every tool once; the median run is reported",
    )
    parser.add_argument(
        "--faces",
        choices=("both", "off", "on"),
        default="both",
        help="which auditor runs per scenario: face detection off, on, or both (default)",
    )
    args = parser.parse_args(argv)  # fmt: skip
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    scenarios = []
    for item in args.scenarios.split(","):
        mix, _, count = item.strip().partition(":")
        if mix not in sitegen.MIXES or not count.isdigit():
            parser.error(f"bad scenario {item!r}: use mix:images, mix one of "
                         f"{', '.join(sitegen.MIXES)}")  # fmt: skip
        scenarios.append((mix, int(count)))
    if not AUDITOR.exists():
        print(f"{AUDITOR} is missing: run `make test` or `make bench` first", file=sys.stderr)
        return 2
    try:
        from nginx import ensure_nginx  # noqa: PLC0415

        ensure_nginx()
    except NginxMissingError as exc:
        print(exc, file=sys.stderr)
        return 2
    version = "skipped" if args.skip_img2dataset else img2dataset_runner.ensure_installed()
    compile_auditor()
    args.work.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    clock = time.perf_counter()
    results: dict[str, Any] = {
        "started_at": started,
        "seed": args.seed,
        "repeat": args.repeat,
        "environment": {
            "cpus": os.cpu_count(), "cpu": cpu_model(), "machine": platform.machine(),
            "python": platform.python_version(), "nginx": nginx_version(),
            "img2dataset": version, "kernel": platform.release(),
        },
        "scenarios": [],
    }  # fmt: skip
    for index, (mix, count) in enumerate(scenarios):
        stages = index == 0 and not args.no_stages
        results["scenarios"].append(run_scenario(mix, count, args, args.work, stages))
    results["targets"] = target_checks(results["scenarios"])
    results["seconds"] = round(time.perf_counter() - clock, 1)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (args.results / "latest.md").write_text(table)
    print(table)
    failed = [s for s in results["scenarios"]
              for k in AUDITOR_KEYS
              if k in s and s[k]["correctness"]["percent"] < FULL_AGREEMENT]  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
