"""The command-line contract: exit codes, one-line errors, stdout for data, stderr for the rest."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor import __version__
from auditor.testing.siteserver import SiteServer


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert any(text in line for line in lines), result.stderr
    assert all(line.startswith("error: ") for line in lines), result.stderr


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"auditor {__version__}"


def test_unreachable_target_exits_3_and_keeps_the_run(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    result = run_cli("crawl", f"http://127.0.0.1:{closed_port()}/", "--db", str(db), "-q")
    assert_one_line_error(result, 3, "no target could be reached")
    listing = run_cli("export", "--db", str(db), "--what", "findings")
    assert listing.returncode == 0  # the run and its declaration findings were recorded


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_config_key_is_located_with_a_suggestion(tmp_path: Path) -> None:
    config = write(tmp_path, "audit.yaml", "crawler:\n  name: x\n  retension_days: 3\n")
    result = run_cli("crawl", "-c", str(config), "--db", str(tmp_path / "a.db"))
    assert_one_line_error(result, 2, "audit.yaml:3:")
    assert "did you mean 'retention_days'" in result.stderr


def test_every_config_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = "crawler:\n  purposes: [ai-trian]\n  retention_days: -1\ntargets: [ftp://x]\n"
    config = write(tmp_path, "audit.yaml", text)
    result = run_cli("crawl", "-c", str(config))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) >= 3


def test_malformed_yaml_is_located(tmp_path: Path) -> None:
    config = write(tmp_path, "audit.yaml", "crawler:\n  name: [unclosed\n")
    assert_one_line_error(run_cli("crawl", "-c", str(config)), 2, "audit.yaml:")


def test_yaml_object_tags_are_refused_without_running_them(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f'crawler: !!python/object/apply:os.system ["touch {marker}"]\n'
    config = write(tmp_path, "audit.yaml", text)
    result = run_cli("crawl", "-c", str(config))
    assert result.returncode == 2
    assert not marker.exists()


def test_nothing_to_audit_is_a_usage_error() -> None:
    assert_one_line_error(run_cli("crawl"), 2, "nothing to audit")


def test_report_on_a_missing_database(tmp_path: Path) -> None:
    result = run_cli("report", "--db", str(tmp_path / "none.db"))
    assert_one_line_error(result, 2, "no database at")
    assert not (tmp_path / "none.db").exists()


def test_unknown_export_combination(tmp_path: Path) -> None:
    result = run_cli("export", "--db", str(tmp_path / "a.db"), "--format", "xml")
    assert_one_line_error(result, 2, "cannot export images as xml")


def test_bad_option_is_a_usage_error() -> None:
    result = run_cli("crawl", "--max-pages", "zero")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_policies_list_and_explain() -> None:
    listing = run_cli("policies", "list")
    assert listing.returncode == 0
    assert "uk-gdpr" in listing.stdout
    explained = run_cli("policies", "explain", "UK-GDPR-A06-LAWFUL-BASIS")
    assert explained.returncode == 0
    assert "Art" in explained.stdout
    assert "crawler.lawful_basis" in explained.stdout


def test_policies_explain_unknown_rule_suggests() -> None:
    result = run_cli("policies", "explain", "UK-GDPR-A35-DPAI")
    assert_one_line_error(result, 2, "did you mean 'UK-GDPR-A35-DPIA'")


def test_policies_validate_reports_file_and_line(tmp_path: Path) -> None:
    pack = write(
        tmp_path,
        "broken.yaml",
        "pack: broken\ntitle: t\njurisdiction: UK\nversion: '1'\nstatus: in_force\n"
        "sources: [https://ico.org.uk/]\nrules:\n  - id: BROKEN-R1\n    title: t\n"
        "    subject: image\n    severity: high\n    references: [x]\n"
        "    fail_when: {fact: image.nope, eq: 1}\n    message: m\n    remediation: r\n",
    )
    result = run_cli("policies", "validate", str(pack))
    assert result.returncode == 2
    assert f"{pack}:13" in result.stderr
    assert "image.nope" in result.stderr
    assert run_cli("policies", "validate").returncode == 0


def test_policies_test_runs_the_shipped_fixtures() -> None:
    result = run_cli("policies", "test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("0 failed")


@pytest.mark.parametrize("which", ["audit", "policy"])
def test_schema_is_json(which: str) -> None:
    result = run_cli("schema", which)
    assert result.returncode == 0
    assert json.loads(result.stdout)["$schema"].startswith("https://json-schema.org/")


@pytest.fixture
def demo_site(site_server: Callable[[str], SiteServer]) -> SiteServer:
    return site_server("demo")


def test_quiet_prints_only_the_summary(tmp_path: Path, demo_site: SiteServer) -> None:
    args = ("crawl", demo_site.url("/"), "--db", str(tmp_path / "a.db"), "--delay", "0")
    result = run_cli(*args, "--max-pages", "1", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("run 1 complete: 1 pages")
    assert "next: auditor report" in result.stdout
    with sqlite3.connect(tmp_path / "a.db") as db:  # coverage loss is recorded, never silent
        [(detail,)] = db.execute("SELECT detail FROM skips WHERE reason = 'max_pages'")
    assert "page budget of 1 reached" in detail


def test_verbose_logs_every_skip(tmp_path: Path, demo_site: SiteServer) -> None:
    args = ("crawl", demo_site.url("/"), "--db", str(tmp_path / "a.db"), "--delay", "0", "-v")
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert f"skip page {demo_site.url('/private/admin.html')}: robots_disallowed" in result.stderr
    assert "skip image" in result.stderr
    assert "run 1: writing to" in result.stderr  # plain log lines when not on a terminal


def test_a_finished_crawl_leaves_nothing_but_the_database(
    tmp_path: Path, demo_site: SiteServer
) -> None:
    """The store is closed before the exit freeze (cli._skip_exit_collections) skips any clean-up.

    An unclosed SQLite connection would leave ``-wal``/``-shm`` files holding part of the run.
    """
    db = tmp_path / "a.db"
    result = run_cli("crawl", demo_site.url("/"), "--db", str(db), "--delay", "0", "-q")
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.db"]
    with sqlite3.connect(db) as conn:
        [(status,)] = conn.execute("SELECT status FROM runs")
    assert status == "complete"


def test_the_entry_point_freezes_the_survivors_at_exit() -> None:
    code = (
        "import atexit, gc, sys\n"
        "from auditor.cli import main\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
        "sys.argv = ['auditor', '--version']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "frozen True"
