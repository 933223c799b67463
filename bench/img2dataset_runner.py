"""Run img2dataset on the benchmark's URL list, in its own virtualenv, and measure it.

Why its own virtualenv: img2dataset pins its own stack (albumentations, OpenCV, pyarrow,
fsspec, webdataset) that must not leak into the auditor's environment, and the comparison is
fair only if img2dataset runs as its users install it (``pip install img2dataset``). The
virtualenv is ``bench/.venv-img2dataset`` (git-ignored), created on first use with the Python
that runs the harness.

Options: img2dataset's defaults (``processes_count=1``, ``thread_count=256``,
``image_size=256``, ``resize_mode=border``, ``encode_format=jpg``, ``output_format=files``,
``timeout=10``, ``retries=0``, ``compute_hash=sha256``, ``extract_exif=True``, and the default
``disallowed_header_directives`` that honour ``X-Robots-Tag: noai``...), with only
``--url_list`` and ``--output_folder`` given, because those have no usable default. The
environment adds ``NO_ALBUMENTATIONS_UPDATE=1`` (albumentations otherwise checks PyPI for a
newer version at import, which needs the network and is not part of downloading) and
``no_proxy`` for loopback (urllib honours proxy variables). ``--resize-mode no`` is offered for
a second, download-only reading (no resize and re-encode), reported separately.

Standalone::

    .venv/bin/python bench/img2dataset_runner.py --urls /tmp/site/urls.txt [--resize-mode no]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured

HERE: Final = Path(__file__).resolve().parent
VENV: Final = HERE / ".venv-img2dataset"
PACKAGE: Final = "img2dataset"


@dataclass(frozen=True)
class Img2datasetResult:
    """One img2dataset run on a URL list."""

    version: str
    options: dict[str, str]
    urls: int
    successes: int
    failed: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    peak_tree_rss_mb: float

    @property
    def urls_per_s(self) -> float:
        return self.urls / self.wall_s if self.wall_s else 0.0

    @property
    def images_per_s(self) -> float:
        return self.successes / self.wall_s if self.wall_s else 0.0

    def as_json(self) -> dict[str, object]:
        return asdict(self) | {"urls_per_s": self.urls_per_s, "images_per_s": self.images_per_s}


def binary() -> Path:
    return VENV / "bin" / "img2dataset"


def ensure_installed(python: str = sys.executable) -> str:
    """Create the virtualenv and install img2dataset if needed; return its version."""
    if not binary().exists():
        print(f"installing {PACKAGE} into {VENV} (once)", file=sys.stderr)
        subprocess.run([python, "-m", "venv", str(VENV)], check=True)  # noqa: S603
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, PACKAGE], check=True)  # noqa: S603
    done = subprocess.run(  # noqa: S603
        [str(VENV / "bin" / "python"), "-m", "pip", "show", PACKAGE],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return next(
        (line.split(":", 1)[1].strip() for line in done.stdout.splitlines()
         if line.startswith("Version:")),
        "unknown",
    )  # fmt: skip


def _stats(output: Path) -> tuple[int, int]:
    """Sum successes and failures over img2dataset's per-shard ``*_stats.json`` files."""
    successes = failed = 0
    for path in output.glob("*_stats.json"):
        stats = json.loads(path.read_text())
        successes += int(stats.get("successes", 0))
        failed += int(stats.get("count", 0)) - int(stats.get("successes", 0))
    return successes, failed


def run(
    urls_file: Path, *, resize_mode: str | None = None, keep: Path | None = None
) -> Img2datasetResult:
    """Run img2dataset once on ``urls_file``; outputs go to a temp dir (or ``keep``)."""
    version = ensure_installed()
    urls = sum(1 for line in urls_file.read_text().splitlines() if line.strip())
    output = keep or Path(tempfile.mkdtemp(prefix="bench-img2dataset-"))
    if output.exists():
        shutil.rmtree(output)
    options = {"url_list": str(urls_file), "output_folder": str(output)}
    if resize_mode is not None:
        options["resize_mode"] = resize_mode
    command = [str(binary()), *(f"--{key}={value}" for key, value in options.items())]
    env = {
        **os.environ,
        "NO_ALBUMENTATIONS_UPDATE": "1",
        "no_proxy": "127.0.0.1,localhost",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    measured = run_measured(command, env=env)
    if measured.returncode != 0:
        raise RuntimeError(f"img2dataset failed ({measured.returncode}): {measured.stderr[-2000:]}")
    successes, failed = _stats(output)
    if keep is None:
        shutil.rmtree(output, ignore_errors=True)
    shown = {key: value for key, value in options.items() if key not in {"url_list"}}
    shown["output_folder"] = "<temp dir>"
    return Img2datasetResult(
        version=version,
        options=shown,
        urls=urls,
        successes=successes,
        failed=failed,
        wall_s=measured.wall_s,
        cpu_s=measured.cpu_s,
        peak_rss_mb=measured.peak_rss_mb,
        peak_tree_rss_mb=measured.peak_tree_rss_mb,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="Run img2dataset on a URL list and time it.")
    parser.add_argument("--urls", type=Path, required=True, help="urls.txt, one URL per line")
    parser.add_argument("--resize-mode", default=None, help="e.g. 'no' for download only")
    args = parser.parse_args()
    result = run(args.urls, resize_mode=args.resize_mode)
    print(json.dumps(result.as_json(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
