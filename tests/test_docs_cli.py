"""Docs cannot fall behind the CLI: every command and every option must appear in docs/cli.md."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from auditor.cli import app

CLI_DOC = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, typer.main.TyperCommand | typer.main.TyperGroup]]:
    root = typer.main.get_command(app)
    found = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        if sub:
            found.extend((f"{name} {child}", child_command) for child, child_command in sub.items())
        else:
            found.append((name, command))
    return found


COMMANDS = _commands()


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_command_and_options_are_documented(name: str, command: typer.main.TyperCommand) -> None:
    assert f"auditor {name}" in CLI_DOC, f"`auditor {name}` is not in docs/cli.md"
    for param in command.params:
        for flag in getattr(param, "opts", []):
            if flag.startswith("-"):
                assert f"`{flag}`" in CLI_DOC or f"{flag} " in CLI_DOC, (
                    f"{name} {flag} undocumented"
                )


def test_every_command_is_found() -> None:
    names = {name for name, _ in COMMANDS}
    assert {"crawl", "report", "export", "policies list", "schema"} <= names
