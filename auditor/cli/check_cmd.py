"""``auditor check``: the CI gate, with its report files, GitHub output and verdict line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditor.cli.app import DbOption, OptOutNearBandOption, OptOutThresholdOption, err
from auditor.cli.audit_cmds import optout_matcher
from auditor.cli.progress import Progress
from auditor.cli.store_cmds import closing, output_stream
from auditor.config import load_config
from auditor.errors import UsageError
from auditor.model import Severity
from auditor.policy import load_packs

if TYPE_CHECKING:
    from auditor.check import CheckOutcome
    from auditor.report.data import ReportData


_CHECK_OUTPUTS = ("sarif", "junit", "json", "html", "md")


def check(
    config_file: Annotated[
        Path, typer.Option("-c", "--config", envvar="AUDITOR_CONFIG", help="audit.yaml")
    ] = Path("audit.yaml"),
    fail_on: Annotated[
        Severity, typer.Option(envvar="AUDITOR_FAIL_ON", help="Lowest severity that fails.")
    ] = Severity.HIGH,
    fail_on_review: Annotated[
        bool, typer.Option(envvar="AUDITOR_FAIL_ON_REVIEW", help="Reviews count too.")
    ] = False,
    fail_on_insufficient: Annotated[
        bool,
        typer.Option(envvar="AUDITOR_FAIL_ON_INSUFFICIENT", help="Missing data counts too."),
    ] = False,
    exit_zero: Annotated[
        bool, typer.Option(envvar="AUDITOR_EXIT_ZERO", help="Report only: exit 0 unless 2.")
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option(envvar="AUDITOR_BASELINE", help="Only findings not in it fail."),
    ] = None,
    write_baseline: Annotated[
        Path | None, typer.Option(help="Write the current findings as the baseline.")
    ] = None,
    suppressions: Annotated[
        Path | None,
        typer.Option(envvar="AUDITOR_SUPPRESSIONS", help="Default: .auditor-ignore.yaml."),
    ] = None,
    declaration_only: Annotated[
        bool, typer.Option(help="Evaluate the declaration rules only (no crawl).")
    ] = False,
    from_db: Annotated[
        str | None, typer.Option(help="Re-evaluate a stored run instead of crawling.")
    ] = None,
    run: Annotated[int | None, typer.Option(help="Run id for --from-db (default latest).")] = None,
    db: DbOption = "audit.db",
    sarif: Annotated[Path | None, typer.Option(help="Write SARIF 2.1.0 here.")] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Write the JSON report here.")
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Write the HTML report here.")] = None,
    md: Annotated[Path | None, typer.Option(help="Write the Markdown report here.")] = None,
    annotations: Annotated[
        bool | None,
        typer.Option(
            "--annotations/--no-annotations",
            help="GitHub workflow annotations (default: on in GitHub Actions).",
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="CPU worker processes.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the verdict.")] = False,
    optout_threshold: OptOutThresholdOption = None,
    optout_near_band: OptOutNearBandOption = None,
) -> None:
    """Gate CI: evaluate, then exit 1 on findings at or above --fail-on (DESIGN 4.2)."""
    from auditor.check import CheckOptions, Mode, run_check  # noqa: PLC0415 - imports note
    from auditor.gate import GateOptions  # noqa: PLC0415
    from auditor.suppressions import DEFAULT_SUPPRESSIONS  # noqa: PLC0415

    if declaration_only and from_db:
        raise UsageError("--declaration-only and --from-db exclude each other: pick one")
    config = load_config(config_file)
    policy = load_packs(config.policies)
    if suppressions is None and DEFAULT_SUPPRESSIONS.is_file():
        suppressions = DEFAULT_SUPPRESSIONS
    mode: Mode = "declaration-only" if declaration_only else "from-db" if from_db else "crawl"
    optout = (
        optout_matcher(config, optout_threshold, optout_near_band, quiet=True)
        if mode == "crawl"
        else None
    )
    options = CheckOptions(
        mode=mode,
        db=from_db or db,
        run_id=run,
        gate=GateOptions(fail_on, fail_on_review, fail_on_insufficient, exit_zero),
        config_path=config_file,
        baseline=baseline,
        write_baseline=write_baseline,
        suppressions=suppressions,
        workers=workers,
        optout=optout,
    )
    progress = Progress(quiet=True, verbose=False)
    outcome = run_check(config, policy, options, progress)
    outputs = dict(zip(_CHECK_OUTPUTS, (sarif, junit, json_file, html, md), strict=True))
    _write_check_outputs(outcome.data, outputs)
    _github(outcome.data, annotations)
    _check_summary(outcome, quiet=quiet)
    raise typer.Exit(outcome.exit_code)


def _write_check_outputs(data: ReportData, targets: dict[str, Path | None]) -> None:
    if not any(targets.values()):
        return
    from auditor.report import REPORTERS  # noqa: PLC0415 - see the imports note

    for fmt, path in targets.items():
        if path is None:
            continue
        with closing(output_stream(path)) as stream:
            REPORTERS[fmt](data, stream)
        err.print(f"wrote {path}", markup=False)


def _github(data: ReportData, annotations: bool | None) -> None:
    """Annotations on stdout and the job summary, when running in GitHub Actions."""
    from auditor.report.github import annotations as lines  # noqa: PLC0415
    from auditor.report.github import job_summary  # noqa: PLC0415

    in_actions = os.environ.get("GITHUB_ACTIONS") == "true"
    if annotations if annotations is not None else in_actions:
        for line in lines(data):
            print(line)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if in_actions and summary_file:
        try:
            with Path(summary_file).open("a", encoding="utf-8") as stream:
                stream.write(job_summary(data))
        except OSError as exc:
            err.print(f"warning: cannot write the job summary: {exc.strerror}", markup=False)


def _check_summary(outcome: CheckOutcome, *, quiet: bool) -> None:
    data, gate = outcome.data, outcome.data.gate
    assert gate is not None  # noqa: S101 - run_check always sets the gate
    for warning in gate.warnings:
        err.print(f"warning: {warning}", markup=False)
    states = data.states()
    counted = "/".join(o.value for o in gate.counted_outcomes)
    verdict = "FAIL" if gate.blocking else "PASS"
    if gate.exit_zero:
        verdict += " (--exit-zero: report only)"
    where = f"run {outcome.run_id}" if outcome.run_id is not None else data.mode
    err.print(
        f"check {verdict}: {gate.blocking} new {counted} finding(s) at or above "
        f"{gate.fail_on.value} ({where}); {states['new']} new, {states['baselined']} baselined, "
        f"{states['suppressed']} suppressed, {len(gate.fixed)} fixed since the baseline",
        markup=False,
    )
    if outcome.baseline_written is not None:
        err.print(f"baseline: wrote {outcome.baseline_written} finding(s)", markup=False)
    if not quiet:
        blocking = [
            view
            for view in data.findings
            if view.state == "new"
            and view.finding.outcome in gate.counted_outcomes
            and view.finding.severity.rank >= gate.fail_on.rank
        ]
        for view in blocking[:10]:
            finding = view.finding
            err.print(
                f"  {finding.severity.value} {finding.rule_id}: "
                f"{finding.subject_url or finding.subject.value}",
                markup=False,
            )
        if len(blocking) > 10:  # noqa: PLR2004 - the summary's length
            err.print(f"  ... and {len(blocking) - 10} more (see the reports)", markup=False)
