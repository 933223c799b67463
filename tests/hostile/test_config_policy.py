"""Hostile configuration and policy files: malformed YAML, tags that try to build objects or
run commands, alias bombs, unknown keys, and message templates that try to reach Python
attributes.

Each case runs the real CLI entry point (:func:`auditor.cli.main`, in process) on a file from
``fixtures/hostile/config_policy/<case>/`` and expects exit code 2, a short error that says
what is wrong (never a traceback), within a second or two, and nothing executed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from auditor.cli import main

from .harness import FIXTURES, Record, record_outcome

CASES = FIXTURES / "config_policy"
#: Words the one-line error must contain, per case: it says what is wrong and where.
EXPECTED = {
    "malformed_yaml": ("audit.yaml:2", "YAML syntax error"),
    "yaml_tags": ("audit.yaml", "tag"),
    "unknown_keys": ("robot_tokens", "robots_tokens"),
    "yaml_bomb": ("audit.yaml",),
    "template_attributes": ("hostile-pack.yaml:15", "unknown fact"),
    "policy_tags": ("hostile-pack.yaml", "tag"),
}


def prepare(case: str, tmp_path: Path) -> tuple[Path, Path]:
    """Copy the case's file into ``tmp_path`` with ``{marker}`` pointing at a file there."""
    marker = tmp_path / "executed"
    [source] = sorted((CASES / case).glob("*.yaml"))
    target = tmp_path / source.name
    target.write_text(source.read_text(encoding="utf-8").replace("{marker}", str(marker)))
    return target, marker


def run_cli(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    """Run ``auditor ARGS`` through the console script's entry point; (exit code, output)."""
    monkeypatch.setattr("sys.argv", ["auditor", *args])
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_files_are_clear_errors_and_nothing_runs(
    case: str,
    tmp_path: Path,
    record_property: Record,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, marker = prepare(case, tmp_path)
    if path.name == "audit.yaml":
        args = ["check", "-c", str(path), "--declaration-only"]
    else:
        args = ["policies", "validate", str(path)]
    started = time.monotonic()
    code, output = run_cli(args, capsys, monkeypatch)
    elapsed = time.monotonic() - started
    survived = (
        code == 2
        and "Traceback" not in output
        and all(word in output for word in EXPECTED[case])
        and not marker.exists()
        and elapsed < 10
    )
    record_outcome(
        record_property, f"config_policy/{case}", survived=survived, data_lost=False,
        seconds=elapsed,
    )  # fmt: skip
    assert not marker.exists(), "a YAML tag was executed"
    assert code == 2, output
    assert "Traceback" not in output
    assert all(word in output for word in EXPECTED[case]), output
    assert elapsed < 10, f"{elapsed:.1f} s"
