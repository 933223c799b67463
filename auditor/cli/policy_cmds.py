"""``auditor policies ...`` and ``auditor schema``: the packs and the JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from auditor.cli.app import err, out
from auditor.config import config_json_schema
from auditor.policy import explain, load_packs, policy_json_schema, run_pack_tests, validate_files

if TYPE_CHECKING:
    pass


def policies_list(
    include_proposed: Annotated[bool, typer.Option(help="Also list proposed packs.")] = False,
) -> None:
    """List the policy packs and how many rules each has."""
    policy = load_packs(None, include_proposed=include_proposed)
    table = Table("pack", "jurisdiction", "status", "version", "rules", "title")
    for pack in policy.packs:
        table.add_row(
            pack.name,
            pack.jurisdiction,
            pack.status,
            str(pack.version),
            str(len(pack.rules)),
            pack.title,
        )
    out.print(table)


def policies_validate(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Pack files (default: shipped packs).")
    ] = None,
) -> None:
    """Check pack files and report every problem with file and line."""
    if files:
        problems = validate_files(files)
        if problems:
            for problem in problems:
                err.print(str(problem), markup=False)
            raise typer.Exit(2)
        out.print(f"{len(files)} file(s) valid")
        return
    policy = load_packs(None, include_proposed=True)
    out.print(f"{len(policy.packs)} pack(s) valid, {sum(len(p.rules) for p in policy.packs)} rules")


def policies_explain(rule_id: Annotated[str, typer.Argument(help="Rule id.")]) -> None:
    """Show what a rule checks, the facts it needs and how to fix a finding."""
    out.print(explain(load_packs(None, include_proposed=True), rule_id).to_text(), markup=False)


def policies_test() -> None:
    """Run every pack's rule fixtures (cases that must and must not trigger)."""
    results = run_pack_tests(load_packs(None, include_proposed=True))
    failed = [r for r in results if not r.passed]
    for result in failed:
        err.print(str(result), markup=False)
    out.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


def schema(
    which: Annotated[
        Literal["audit", "policy"], typer.Argument(help="audit (audit.yaml) or policy.")
    ],
) -> None:
    """Print the JSON Schema of audit.yaml or of a policy pack, for editors."""
    document = config_json_schema() if which == "audit" else policy_json_schema()
    out.print(json.dumps(document, indent=2, sort_keys=True), markup=False)
