"""CI integration artefacts stay runnable: action.yml and the examples of docs/ci.md.

The composite action and the documented workflows call ``auditor check``; a renamed flag would
only show up as a red pipeline in someone else's repository, so every flag they use is checked
against the CLI's own spelling (the issue-5 contract below, itself checked against the CLI).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from auditor.cli import app
from auditor.suppressions import load_suppressions

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
CI_DOC = ROOT / "docs" / "ci.md"

#: The flags of ``auditor check`` (issue 5), the only ones CI artefacts may use.
CHECK_FLAGS = frozenset(
    {
        "-c",
        "--config",
        "--fail-on",
        "--fail-on-review",
        "--fail-on-insufficient",
        "--exit-zero",
        "--baseline",
        "--write-baseline",
        "--suppressions",
        "--declaration-only",
        "--from-db",
        "--run",
        "--db",
        "--sarif",
        "--junit",
        "--json",
        "--html",
        "--md",
        "--annotations",
        "--no-annotations",
    }
)

_YAML_FENCE = re.compile(r"^```yaml[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_SH_FENCE = re.compile(r"^```(?:sh|yaml)[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return data


def _flags(words: list[str]) -> set[str]:
    """Return the options among ``words`` (``--x=y`` counts as ``--x``)."""
    return {word.split("=", 1)[0] for word in words if word.startswith("-")}


def _check_commands(text: str) -> list[list[str]]:
    """Return the words after ``auditor check`` of every command in ``text``."""
    joined = text.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        _, found, rest = line.partition("auditor check")
        if found:
            commands.append(shlex.split(rest, comments=True))
    return commands


def test_the_contract_flags_are_the_cli_flags() -> None:
    command = typer.main.get_command(app).commands["check"]  # type: ignore[attr-defined]
    cli = {flag for param in command.params for flag in (*param.opts, *param.secondary_opts)}
    assert cli >= CHECK_FLAGS


def test_action_yml_declares_the_documented_inputs() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    defaults = {name: spec.get("default") for name, spec in inputs.items()}
    assert defaults == {
        "config": "audit.yaml",
        "fail-on": "high",
        "baseline": "",
        "suppressions": "",
        "declaration-only": "false",
        "sarif": "auditor.sarif",
        "python-version": "3.12",
    }
    assert all(spec["description"].strip() for spec in inputs.values())
    assert set(action["outputs"]) == {"sarif", "exit-code"}


def test_action_installs_itself_and_runs_check_with_contract_flags() -> None:
    steps = _action()["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert steps[0]["with"]["python-version"] == "${{ inputs.python-version }}"
    install = steps[1]["run"]
    assert 'pip install "${{ github.action_path }}"' in install
    (check,) = [step for step in steps if step.get("id") == "check"]
    script = check["run"]
    # Inputs go through the environment, never into the script text (no script injection).
    assert "${{" not in script
    arrays = re.findall(r"args\+?=\((.*?)\)", script)
    words = [word for array in arrays for word in shlex.split(array)]
    assert words[0] == "check"
    used = _flags(words)
    assert used == {
        "-c",
        "--fail-on",
        "--sarif",
        "--baseline",
        "--suppressions",
        "--declaration-only",
    }
    assert used <= CHECK_FLAGS
    assert 'auditor "${args[@]}"' in script
    assert 'exit "$code"' in script  # the step fails with the check's own exit code


def test_every_yaml_example_of_ci_md_parses() -> None:
    blocks = _YAML_FENCE.findall(CI_DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 4
    for block in blocks:
        yaml.safe_load(block)


def test_the_github_workflow_uploads_sarif_always() -> None:
    blocks = [yaml.safe_load(b) for b in _YAML_FENCE.findall(CI_DOC.read_text(encoding="utf-8"))]
    (workflow,) = [b for b in blocks if isinstance(b, dict) and "jobs" in b]
    steps = workflow["jobs"]["audit"]["steps"]
    (action,) = [s for s in steps if s.get("uses", "").startswith("consent-auditor/")]
    assert set(action["with"]) <= set(_action()["inputs"])
    (upload,) = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload")]
    assert upload["if"] == "always()"
    assert upload["with"]["sarif_file"] == action["with"].get("sarif", "auditor.sarif")
    assert workflow["permissions"]["security-events"] == "write"


@pytest.mark.parametrize("doc", [CI_DOC, ROOT / "README.md"], ids=["ci.md", "README"])
def test_the_gitlab_job_reports_junit_always(doc: Path) -> None:
    blocks = [yaml.safe_load(b) for b in _YAML_FENCE.findall(doc.read_text(encoding="utf-8"))]
    (job,) = [b["consent-audit"] for b in blocks if isinstance(b, dict) and "consent-audit" in b]
    (command,) = _check_commands("\n".join(job["script"]))
    junit = command[command.index("--junit") + 1]
    assert job["artifacts"]["reports"]["junit"] == junit
    assert job["artifacts"]["when"] == "always"


def test_ci_md_uses_only_contract_flags() -> None:
    text = "\n".join(_SH_FENCE.findall(CI_DOC.read_text(encoding="utf-8")))
    commands = _check_commands(text)
    assert len(commands) >= 5
    used = set().union(*(_flags(words) for words in commands))
    assert used <= CHECK_FLAGS, used - CHECK_FLAGS


def test_the_documented_suppressions_file_loads(tmp_path: Path) -> None:
    (block,) = [
        b for b in _YAML_FENCE.findall(CI_DOC.read_text(encoding="utf-8")) if "suppressions:" in b
    ]
    path = tmp_path / ".auditor-ignore.yaml"
    path.write_text(block, encoding="utf-8")
    loaded = load_suppressions(path)
    assert [(e.fingerprint, e.rule, e.scope) for e in loaded.entries] == [
        ("3f9c0e1a5b7d2c4e", None, None),
        (None, "UK-GDPR-A05-1E-RETENTION", "https://www.example.org/archive/*"),
    ]
