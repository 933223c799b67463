"""Baseline and suppression files: round trips, versions and located errors (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.baseline import load_baseline, write_baseline
from auditor.errors import ConfigError
from auditor.suppressions import load_suppressions
from tests.gate.test_gate import finding


def test_baseline_round_trip_is_sorted_and_readable(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    written = write_baseline(
        path, [finding("b" * 32, rule="R-B"), finding("a" * 32, rule="R-A")],
        policy_hash="p" * 64, created="2026-01-01T00:00:00+00:00",
    )  # fmt: skip
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Findings accepted")
    assert text.index("R-A") < text.index("R-B")
    loaded = load_baseline(path)
    assert loaded == written
    assert loaded.fingerprints == {"a" * 32, "b" * 32}


def test_a_newer_baseline_version_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text("schema_version: 9\ntool_version: x\ncreated: y\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="newer than this auditor"):
        load_baseline(path)


def test_a_malformed_baseline_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text(
        "schema_version: 1\ntool_version: x\ncreated: y\nfindings:\n  - fingerprint: nope\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_baseline(path)
    assert any(problem.line == 5 for problem in caught.value.problems)


SUPPRESSIONS = """\
schema_version: 1
suppressions:
  - fingerprint: {fp}
    reason: Archive under legal hold, ref LH-2024-11
    author: a.compliance@example.org
    created: 2025-01-10
    expires: 2025-07-10
  - rule: UK-GDPR-A05-1E-RETENTION
    scope: "https://www.example.org/archive/*"
    reason: reviewed
    author: dpo@example.org
    created: 2025-02-01
"""


def test_suppression_file_loads_with_lines(tmp_path: Path) -> None:
    path = tmp_path / ".auditor-ignore.yaml"
    path.write_text(SUPPRESSIONS.format(fp="a" * 32), encoding="utf-8")
    loaded = load_suppressions(path)
    assert [e.rule or e.fingerprint for e in loaded.entries] == [
        "a" * 32,
        "UK-GDPR-A05-1E-RETENTION",
    ]
    assert loaded.entries[0].expires == "2025-07-10"
    assert loaded.lines == (3, 8)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param(
            "  - fingerprint: {fp}\n    author: a\n    created: 2025-01-01\n",
            "reason",
            id="reason-required",
        ),
        pytest.param(
            "  - fingerprint: {fp}\n    rule: R-X\n    reason: r\n    author: a\n"
            "    created: 2025-01-01\n",
            "either a fingerprint or a rule",
            id="one-target",
        ),
        pytest.param(
            "  - scope: 'https://x/*'\n    reason: r\n    author: a\n    created: 2025-01-01\n",
            "fingerprint or a rule",
            id="scope-needs-rule",
        ),
    ],
)
def test_invalid_suppressions_are_config_errors(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / ".auditor-ignore.yaml"
    path.write_text(
        "schema_version: 1\nsuppressions:\n" + entry.format(fp="a" * 32), encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_suppressions(path)
    assert caught.value.exit_code == 2
    text = "\n".join(problem.message for problem in caught.value.problems)
    assert message in text
    assert all(problem.line is not None for problem in caught.value.problems)
