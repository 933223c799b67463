"""``auditor check`` end to end: the exit-code contract for each path, baselines, fingerprints.

Real CLI subprocesses, a real loopback site, real SQLite files. Exit codes (DESIGN 4.2): 0 clean,
1 findings at or above --fail-on, 2 usage/config/policy error, 3 incomplete; errors outrank
findings; --exit-zero masks 1 and 3, never 2.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from auditor.testing.siteserver import SiteServer

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "sites" / "demo"
CAREFUL = yaml.safe_load((ROOT / "fixtures" / "declarations" / "careful.yaml").read_text())
CLEAN_DECLARATION = {
    **CAREFUL["crawler"],
    "markets": ["UK"],
    "establishments": ["UK"],
}


def auditor(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "GITHUB_ACTIONS": "", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False, env=environment,
    )  # fmt: skip


def write_config(
    path: Path, crawler: dict[str, object], targets: list[str], **extra: object
) -> Path:
    path.write_text(
        yaml.safe_dump({"crawler": crawler, "targets": targets, "policies": ["uk-gdpr"], **extra}),
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def demo() -> Iterator[SiteServer]:
    with SiteServer(DEMO).start() as server:
        yield server


def test_declaration_only_passes_a_careful_declaration(tmp_path: Path) -> None:
    config = write_config(tmp_path / "audit.yaml", CLEAN_DECLARATION, [])
    done = auditor("check", "-c", str(config), "--declaration-only", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "check PASS" in done.stderr


def test_declaration_only_fails_a_clearview_like_declaration_and_locates_it(
    tmp_path: Path,
) -> None:
    crawler = {**CLEAN_DECLARATION, "privacy_notice": None, "retention_days": None}
    config = write_config(tmp_path / "audit.yaml", crawler, [])
    sarif = tmp_path / "out.sarif"
    done = auditor(
        "check", "-c", str(config), "--declaration-only", "--sarif", str(sarif), cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr
    assert "check FAIL" in done.stderr
    results = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
    retention = next(r for r in results if r["ruleId"] == "UK-GDPR-A05-1E-RETENTION")
    location = retention["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "audit.yaml"
    lines = config.read_text(encoding="utf-8").splitlines()
    assert lines[location["region"]["startLine"] - 1].strip().startswith("retention_days:")


def test_fail_on_and_exit_zero(tmp_path: Path) -> None:
    crawler = {**CLEAN_DECLARATION, "privacy_notice": None}  # a high finding, no critical one
    config = write_config(tmp_path / "audit.yaml", crawler, [])
    base = ("check", "-c", str(config), "--declaration-only")
    assert auditor(*base, "--fail-on", "critical", cwd=tmp_path).returncode == 0
    assert auditor(*base, "--fail-on", "high", cwd=tmp_path).returncode == 1
    masked = auditor(*base, "--exit-zero", cwd=tmp_path)
    assert masked.returncode == 0
    assert "--exit-zero" in masked.stderr
    assert auditor(*base, cwd=tmp_path, env={"AUDITOR_FAIL_ON": "critical"}).returncode == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("crawler: {nmae: x}\n", "did you mean 'name'", id="config-error"),
        pytest.param("policies: [no-such-pack]\n", "no-such-pack", id="policy-error"),
    ],
)
def test_configuration_errors_exit_2_even_with_exit_zero(
    tmp_path: Path, text: str, message: str
) -> None:
    config = tmp_path / "audit.yaml"
    config.write_text(text, encoding="utf-8")
    done = auditor("check", "-c", str(config), "--declaration-only", "--exit-zero", cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_suppressions_file_is_exit_2_before_anything_runs(tmp_path: Path) -> None:
    config = write_config(tmp_path / "audit.yaml", CLEAN_DECLARATION, [])
    (tmp_path / ".auditor-ignore.yaml").write_text(
        "schema_version: 1\nsuppressions:\n  - rule: X-Y\n    author: a\n    created: 2025-01-01\n",
        encoding="utf-8",
    )
    done = auditor("check", "-c", str(config), "--declaration-only", cwd=tmp_path)
    assert done.returncode == 2
    assert ".auditor-ignore.yaml:3" in done.stderr
    assert "reason" in done.stderr


def test_unreachable_targets_exit_3_unless_exit_zero(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_config(tmp_path / "audit.yaml", CLEAN_DECLARATION, [f"http://127.0.0.1:{port}/"])
    db = str(tmp_path / "audit.db")
    done = auditor("check", "-c", str(config), "--db", db, "--json", "r.json", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert (tmp_path / "r.json").is_file(), "an incomplete run still writes its outputs"
    masked = auditor("check", "-c", str(config), "--db", db, "--exit-zero", cwd=tmp_path)
    assert masked.returncode == 0


def test_crawl_baseline_suppression_and_stable_fingerprints(
    demo: SiteServer, tmp_path: Path
) -> None:
    crawler = {**CLEAN_DECLARATION, "retention_days": None, "robots_tokens": ["AcmeImageBot"]}
    config = write_config(tmp_path / "audit.yaml", crawler, [demo.url("/")])
    db = str(tmp_path / "audit.db")
    first = auditor(
        "check", "-c", str(config), "--db", db, "--write-baseline", "baseline.yaml",
        "--json", "first.json", cwd=tmp_path,
    )  # fmt: skip
    assert first.returncode == 1, first.stderr
    assert "baseline: wrote" in first.stderr
    second = auditor(
        "check", "-c", str(config), "--db", db, "--baseline", "baseline.yaml",
        "--json", "second.json", "--html", "r.html", "--junit", "r.xml", "--md", "r.md",
        cwd=tmp_path,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    runs = [json.loads((tmp_path / name).read_text()) for name in ("first.json", "second.json")]
    prints = [sorted(f["fingerprint"] for f in run["findings"]) for run in runs]
    assert prints[0] == prints[1], "fingerprints are stable across two runs of the same audit"
    assert {f["state"] for f in runs[1]["findings"]} == {"baselined"}
    for name in ("r.html", "r.xml", "r.md"):
        assert (tmp_path / name).stat().st_size > 0
    # The stored run keeps the states, so a later report shows them without re-checking.
    report = auditor("report", "--db", db, "--format", "json", cwd=tmp_path)
    assert {f["state"] for f in json.loads(report.stdout)["findings"]} == {"baselined"}


def test_from_db_re_evaluates_without_crawling(demo: SiteServer, tmp_path: Path) -> None:
    config = write_config(tmp_path / "audit.yaml", CLEAN_DECLARATION, [demo.url("/")])
    db = str(tmp_path / "audit.db")
    assert auditor("crawl", "-c", str(config), "--db", db, "-q", cwd=tmp_path).returncode == 0
    demo_requests = len(demo.requests)
    changed = {**CLEAN_DECLARATION, "retention_days": None}
    write_config(tmp_path / "audit.yaml", changed, [demo.url("/")])
    done = auditor("check", "-c", str(config), "--from-db", db, "--json", "r.json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert len(demo.requests) == demo_requests, "no request reached the site"
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert "UK-GDPR-A05-1E-RETENTION" in {f["rule_id"] for f in report["findings"]}


def test_declaration_only_loads_neither_the_crawl_nor_the_store(tmp_path: Path) -> None:
    # What keeps the pull-request gate interactive (well under a second, measured in the
    # closing note): the declaration-only path never imports httpx, SQLAlchemy or the extractors.
    config = write_config(tmp_path / "audit.yaml", CLEAN_DECLARATION, [])
    probe = (
        "import sys\n"
        f"sys.argv = ['auditor', 'check', '-c', {str(config)!r}, '--declaration-only', '-q',"
        " '--sarif', 'x.sarif', '--html', 'x.html']\n"
        "from auditor.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('httpx', 'sqlalchemy', 'alembic', 'PIL', 'numpy')"
        " if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == ""
    assert (tmp_path / "x.sarif").is_file()
