"""The command line: the only module that parses arguments, prints, draws progress or exits.

Data goes to stdout (reports, exports, summaries); progress, logs and errors go to stderr, so
``auditor export ... > images.jsonl`` is always clean. Errors are one line per problem with no
traceback; exit codes follow DESIGN 4.2 (0 clean, 1 findings over the threshold, 2 usage, config
or policy error, 3 the audit could not complete).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TextIO

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Column, Table
from rich.text import Text

from auditor import __version__
from auditor.config import AuditConfig, Target, config_json_schema, load_config
from auditor.errors import AuditorError, UsageError
from auditor.model import Finding, ImageRecord, PageRecord, Severity, SkipRecord
from auditor.optout import DEFAULT_LIST_FILE
from auditor.policy import explain, load_packs, policy_json_schema, run_pack_tests, validate_files

if TYPE_CHECKING:
    from auditor.audit import AuditSummary
    from auditor.check import CheckOutcome
    from auditor.optout.listfile import OptOutEntry
    from auditor.report.data import ReportData
    from auditor.signals.optout_list import OptOutMatcher
    from auditor.store import Store

# The crawl, store and report stacks (httpx, SQLAlchemy, alembic) are imported inside the
# commands that use them: they cost over a second, and `--version`, `policies` and `schema`
# should answer at once.

app = typer.Typer(
    name="auditor",
    help="Audit image crawling for consent signals and data-protection rules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policies_app = typer.Typer(
    help="List, validate, explain and test policy packs.", no_args_is_help=True
)
app.add_typer(policies_app, name="policies")
optout_app = typer.Typer(
    help="Keep the opt-out list: objections and erasure requests (photos, URLs, domains).",
    no_args_is_help=True,
)
app.add_typer(optout_app, name="optout")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[
    str,
    typer.Option("--db", help="SQLite file, or a database URL such as postgresql+psycopg://..."),
]
# None: the config's ``optout`` section decides (its defaults are the measured ones).
OptOutThresholdOption = Annotated[
    int | None,
    typer.Option(
        "--optout-threshold",
        min=0,
        help="Photo hash distance that is a match (default: optout.hamming_threshold, 6 of 64).",
    ),
]
OptOutNearBandOption = Annotated[
    int | None,
    typer.Option(
        "--optout-near-band",
        min=0,
        help="Bits past the threshold that need review (default: optout.near_band, 4).",
    ),
]
LOG_INTERVAL_SECONDS = 5.0


def _version(value: bool) -> None:
    if value:
        out.print(f"auditor {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Audit image crawling for consent signals and data-protection rules."""


class _Progress:
    """Draws crawl progress: a live panel on a terminal, periodic log lines otherwise."""

    def __init__(self, *, quiet: bool, verbose: bool) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.pages = self.images = self.skips = self.findings = 0
        self.severity: dict[str, int] = {}
        self.started = time.monotonic()
        self.last_log = self.started
        self.live: Live | None = None
        self.db = ""

    def run_started(self, run_id: int, db: str) -> None:
        self.db = db
        if not self.quiet:
            err.print(f"run {run_id}: writing to {db}")

    def page_done(self, page: PageRecord) -> None:
        self.pages += 1
        self._tick()

    def image_done(self, image: ImageRecord, findings: tuple[Finding, ...]) -> None:
        self.images += 1
        self.findings += len(findings)
        for finding in findings:
            self.severity[finding.severity.value] = self.severity.get(finding.severity.value, 0) + 1
        self._tick()

    def skipped(self, skip: SkipRecord) -> None:
        self.skips += 1
        if self.verbose:
            detail = f" ({skip.detail})" if skip.detail else ""
            self._log(f"skip {skip.kind} {skip.url}: {skip.reason}{detail}")
        self._tick()

    def _log(self, line: str) -> None:
        if self.live is not None:
            self.live.console.print(line, markup=False)
        else:
            err.print(line, markup=False)

    def _line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return (
            f"{self.pages} pages, {self.images} images ({self.images / elapsed:.1f}/s), "
            f"{self.findings} findings, {self.skips} skipped, {elapsed:.0f}s"
        )

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_row("[bold]auditing[/]", self._line())
        worst = ", ".join(
            f"{self.severity[s.value]} {s.value}"
            for s in sorted(Severity, key=lambda s: -s.rank)
            if self.severity.get(s.value)
        )
        table.add_row("[bold]findings[/]", worst or "none yet")
        return table

    def _tick(self) -> None:
        if self.quiet:
            return
        if self.live is not None:
            self.live.update(self._table())
        elif time.monotonic() - self.last_log >= LOG_INTERVAL_SECONDS:
            self.last_log = time.monotonic()
            err.print(f"progress: {self._line()}", markup=False)

    @contextmanager
    def display(self) -> Iterator[None]:
        if self.quiet or not err.is_terminal:
            yield
            return
        with Live(self._table(), console=err, refresh_per_second=4, transient=True) as live:
            self.live = live
            try:
                yield
            finally:
                self.live = None


def _summary(summary: AuditSummary) -> None:
    counters = summary.counters
    out.print(
        f"run {summary.run_id} {summary.status}: {counters.pages} pages, {counters.images} images "
        f"({counters.images_fetched} fetched), {counters.skips} skipped",
        markup=False,
    )
    outcomes = ", ".join(f"{n} {o}" for o, n in counters.findings.items()) or "none"
    severities = ", ".join(
        f"{counters.by_severity[s.value]} {s.value}"
        for s in sorted(Severity, key=lambda s: -s.rank)
        if counters.by_severity.get(s.value)
    )
    out.print(f"findings: {outcomes}" + (f" ({severities})" if severities else ""), markup=False)
    out.print(f"database: {Path(summary.db).resolve() if '://' not in summary.db else summary.db}")
    out.print(
        f"next: auditor report --db {summary.db} --format md -o report.md   |   "
        f"auditor export --db {summary.db} --what findings",
        markup=False,
    )


@app.command()
def crawl(
    urls: Annotated[list[str] | None, typer.Argument(help="Sites to audit (or use -c).")] = None,
    config_file: Annotated[Path | None, typer.Option("-c", "--config", help="audit.yaml")] = None,
    db: DbOption = "audit.db",
    max_pages: Annotated[int | None, typer.Option(min=1, help="Pages per target.")] = None,
    max_depth: Annotated[int | None, typer.Option(min=0, help="Link depth from the seed.")] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, max=64, help="Per host.")] = None,
    delay: Annotated[
        float | None, typer.Option(min=0, help="Seconds between requests per host.")
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="CPU worker processes.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the final summary.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every skip.")] = False,
    optout_threshold: OptOutThresholdOption = None,
    optout_near_band: OptOutNearBandOption = None,
) -> None:
    """Crawl sites, examine every image and store signals and findings."""
    config = load_config(config_file) if config_file else AuditConfig()
    if urls:
        config = config.model_copy(update={"targets": tuple(Target(url=u) for u in urls)})
    if not config.targets:
        raise UsageError("nothing to audit: pass URLs or a config with targets (-c audit.yaml)")
    overrides = {
        name: value
        for name, value in {
            "max_pages": max_pages, "max_depth": max_depth,
            "per_host_concurrency": concurrency, "delay": delay,
        }.items()
        if value is not None
    }  # fmt: skip
    if overrides:
        config = config.model_copy(update={"crawl": config.crawl.model_copy(update=overrides)})
    policy = load_packs(config.policies)
    optout = _optout_matcher(config, optout_threshold, optout_near_band, quiet=quiet)
    from auditor.audit import AuditOptions, run_audit  # noqa: PLC0415 - see the imports note

    progress = _Progress(quiet=quiet, verbose=verbose)
    options = AuditOptions(db=db, workers=workers, optout=optout)
    try:
        with progress.display():
            summary = run_audit(config, policy, options, progress)
    except KeyboardInterrupt:
        err.print(f"interrupted: what was recorded so far is kept in {db}; run the crawl again")
        raise typer.Exit(130) from None
    _summary(summary)


@app.command()
def manifest(
    path: Annotated[
        Path,
        typer.Argument(
            help="A CSV/TSV, JSONL or Parquet manifest, a folder, or img2dataset output."
        ),
    ],
    config_file: Annotated[Path, typer.Option("-c", "--config", help="audit.yaml")],
    db: DbOption = "audit.db",
    refetch: Annotated[
        bool,
        typer.Option("--refetch", help="Also read the live source: its signals as they are now."),
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the interrupted audit of this manifest.")
    ] = False,
    workers: Annotated[int | None, typer.Option(min=1, help="CPU worker processes.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the final summary.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every skip.")] = False,
    optout_threshold: OptOutThresholdOption = None,
    optout_near_band: OptOutNearBandOption = None,
) -> None:
    """Audit what a crawler already collected: every row of a manifest, resumably."""
    config = load_config(config_file)
    policy = load_packs(config.policies)
    optout = _optout_matcher(config, optout_threshold, optout_near_band, quiet=quiet)
    from auditor.manifest_audit import ManifestOptions, run_manifest_audit  # noqa: PLC0415

    progress = _Progress(quiet=quiet, verbose=verbose)
    options = ManifestOptions(
        db=db, workers=workers, optout=optout, config_path=str(config_file), refetch=refetch,
        resume=resume,
    )  # fmt: skip
    try:
        with progress.display():
            summary = run_manifest_audit(path, config, policy, options, progress)
    except KeyboardInterrupt:
        again = f"auditor manifest {path} -c {config_file} --db {db} --resume"
        err.print(f"interrupted: what was recorded so far is kept in {db}; continue with: {again}")
        raise typer.Exit(130) from None
    _summary(summary)
    _deletions_hint(summary)


def _deletions_hint(summary: AuditSummary) -> None:
    out.print(
        f"deletion list: auditor export --db {summary.db} --what deletions --format csv",
        markup=False,
    )


def _optout_matcher(
    config: AuditConfig, threshold: int | None, near_band: int | None, *, quiet: bool
) -> OptOutMatcher | None:
    """Open the config's ``optout_list`` before anything is crawled (a missing file is exit 2)."""
    if config.optout_list is None:
        return None
    from auditor.optout.matcher import configured_optout_list  # noqa: PLC0415 - imports note

    matcher = configured_optout_list(
        config,
        threshold=config.optout.hamming_threshold if threshold is None else threshold,
        near_band=config.optout.near_band if near_band is None else near_band,
    )
    if matcher is not None and not quiet:
        err.print(f"opt-out list: {matcher.source} ({matcher.size} entries)", markup=False)
    return matcher


_CHECK_OUTPUTS = ("sarif", "junit", "json", "html", "md")


@app.command()
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
        _optout_matcher(config, optout_threshold, optout_near_band, quiet=True)
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
    progress = _Progress(quiet=True, verbose=False)
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
        with _closing(_output(path)) as stream:
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


def _output(path: Path | None) -> TextIO:
    if path is None or str(path) == "-":
        return sys.stdout
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def _run_id(store_db: str, run: int | None) -> tuple[Store, int]:
    from auditor.store import open_store  # noqa: PLC0415 - see the imports note

    store = open_store(store_db, create=False)
    run_id = run if run is not None else store.latest_run_id()
    if run_id is None:
        store.close()
        raise UsageError(f"{store_db} holds no runs yet: run `auditor crawl` first")
    store.run(run_id)  # raises StoreError for an unknown run
    return store, run_id


@app.command()
def report(
    db: DbOption = "audit.db",
    run: Annotated[int | None, typer.Option(help="Run id (default: the latest).")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Report format.")] = "md",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (default stdout).")
    ] = None,
) -> None:
    """Write a report of a stored run, without crawling again."""
    from auditor.report import REPORTERS  # noqa: PLC0415 - see the imports note
    from auditor.report.builder import from_store, rule_infos  # noqa: PLC0415

    if fmt not in REPORTERS:
        raise UsageError(f"unknown report format {fmt!r}; choose one of: {', '.join(REPORTERS)}")
    store, run_id = _run_id(db, run)
    rules = rule_infos(load_packs(None, include_proposed=True))
    with store:
        data = from_store(store, run_id, rules=rules, now=datetime.now(UTC))
    with _closing(_output(output)) as stream:
        REPORTERS[fmt](data, stream)
    if output is not None:
        err.print(f"wrote {output}")


@app.command()
def export(
    db: DbOption = "audit.db",
    what: Annotated[str, typer.Option(help="images, findings, signals or deletions.")] = "images",
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl or csv.")] = "jsonl",
    run: Annotated[int | None, typer.Option(help="Run id (default: the latest).")] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (default stdout).")
    ] = None,
) -> None:
    """Export stored images, findings, signals or the deletion list as JSON lines or CSV."""
    from auditor.report import EXPORTERS  # noqa: PLC0415 - see the imports note

    exporter = EXPORTERS.get((what, fmt))
    if exporter is None:
        choices = ", ".join(f"--what {w} --format {f}" for w, f in EXPORTERS)
        raise UsageError(f"cannot export {what} as {fmt}; choose one of: {choices}")
    store, run_id = _run_id(db, run)
    with store, _closing(_output(output)) as stream:
        rows = exporter(store, run_id, stream)
    if output is not None:
        err.print(f"wrote {rows} rows to {output}")


@contextmanager
def _closing(stream: TextIO) -> Iterator[TextIO]:
    try:
        yield stream
    finally:
        if stream is not sys.stdout:
            stream.close()


@policies_app.command("list")
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


@policies_app.command("validate")
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


@policies_app.command("explain")
def policies_explain(rule_id: Annotated[str, typer.Argument(help="Rule id.")]) -> None:
    """Show what a rule checks, the facts it needs and how to fix a finding."""
    out.print(explain(load_packs(None, include_proposed=True), rule_id).to_text(), markup=False)


@policies_app.command("test")
def policies_test() -> None:
    """Run every pack's rule fixtures (cases that must and must not trigger)."""
    results = run_pack_tests(load_packs(None, include_proposed=True))
    failed = [r for r in results if not r.passed]
    for result in failed:
        err.print(str(result), markup=False)
    out.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


OptOutListOption = Annotated[
    Path | None,
    typer.Option("--list", help=f"The opt-out list file (default {DEFAULT_LIST_FILE})."),
]
OptOutConfigOption = Annotated[
    Path | None, typer.Option("-c", "--config", help="Use the optout_list of this audit.yaml.")
]


def _optout_path(list_file: Path | None, config_file: Path | None) -> Path:
    if list_file is not None and config_file is not None:
        raise UsageError("--list and --config both name the opt-out list: pass one of them")
    if config_file is None:
        return list_file or Path(DEFAULT_LIST_FILE)
    listed = load_config(config_file).optout_list
    if listed is None:
        raise UsageError(
            f"{config_file} sets no optout_list: add `optout_list: {DEFAULT_LIST_FILE}` or "
            "pass --list"
        )
    return Path(listed)


def _entry_line(entry: OptOutEntry) -> str:
    source = f" ({entry.source})" if entry.source else ""
    return f"{entry.id}: {entry.kind} {entry.value}{source}, received {entry.received}"


@optout_app.command("add")
def optout_add(
    target: Annotated[str, typer.Argument(help="A photo file, an http(s) URL or a domain.")],
    reason: Annotated[str | None, typer.Option(help="Who asked, and what for.")] = None,
    received: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD the request arrived (default today, UTC).")
    ] = None,
    list_file: OptOutListOption = None,
    config_file: OptOutConfigOption = None,
) -> None:
    """Put a photo (kept only as its perceptual hash), an image URL or a domain on the list."""
    from auditor.optout.listfile import OptOutListFile  # noqa: PLC0415 - see the imports note
    from auditor.optout.targets import parse_received, parse_target  # noqa: PLC0415

    path = _optout_path(list_file, config_file)
    now = datetime.now(UTC)
    when = parse_received(received, now.date())
    found = parse_target(target)  # before the file is created: a bad target leaves no file
    with OptOutListFile.open(path, create=True) as listed:
        entry = listed.add(
            found.kind, found.value, received=when, added_at=now, reason=reason,
            source=found.source,
        )  # fmt: skip
    out.print(f"added {_entry_line(entry)} to {path}", markup=False)


@optout_app.command("remove")
def optout_remove(
    entry: Annotated[
        str, typer.Argument(help="Entry number, or the photo, URL, domain or hash listed.")
    ],
    list_file: OptOutListOption = None,
    config_file: OptOutConfigOption = None,
) -> None:
    """Take an entry off the list, by its number (`auditor optout list`) or by what it names."""
    from auditor.optout.listfile import OptOutListFile  # noqa: PLC0415 - see the imports note
    from auditor.optout.targets import parse_target  # noqa: PLC0415

    path = _optout_path(list_file, config_file)
    with OptOutListFile.open(path) as listed:
        if entry.isdigit():
            found = listed.get(int(entry))
        else:
            target = parse_target(entry)
            found = listed.find(target.kind, target.value)
        if found is None:
            raise UsageError(f"{entry} is not on the opt-out list {path}")
        listed.remove(found.id)
    out.print(f"removed {_entry_line(found)} from {path}", markup=False)


@optout_app.command("list")
def optout_list_entries(
    list_file: OptOutListOption = None,
    config_file: OptOutConfigOption = None,
    fmt: Annotated[
        Literal["table", "jsonl"], typer.Option("--format", "-f", help="table or jsonl.")
    ] = "table",
) -> None:
    """Show every entry: number, kind, value, when the request arrived, why, and from what."""
    from auditor.optout.listfile import OptOutListFile  # noqa: PLC0415 - see the imports note

    path = _optout_path(list_file, config_file)
    with OptOutListFile.open(path, read_only=True) as listed:
        entries = listed.entries()
    if fmt == "jsonl":
        for entry in entries:
            print(json.dumps(asdict(entry), ensure_ascii=False))
        return
    # Wrapped, never cut: a listing whose URLs and hashes end in "..." cannot be acted on.
    names = ("id", "kind", "value", "received", "reason", "source", "added")
    table = Table(*(Column(name, overflow="fold") for name in names))
    for entry in entries:
        cells = (str(entry.id), entry.kind, entry.value, entry.received, entry.reason or "",
                 entry.source or "", entry.added_at[:10])  # fmt: skip
        table.add_row(*(Text(cell) for cell in cells))  # reasons are not rich markup
    out.print(table)


@app.command()
def schema(
    which: Annotated[
        Literal["audit", "policy"], typer.Argument(help="audit (audit.yaml) or policy.")
    ],
) -> None:
    """Print the JSON Schema of audit.yaml or of a policy pack, for editors."""
    document = config_json_schema() if which == "audit" else policy_json_schema()
    out.print(json.dumps(document, indent=2, sort_keys=True), markup=False)


def _print_error(exc: AuditorError) -> None:
    problems = getattr(exc, "problems", None)
    if problems:
        for problem in problems:
            err.print(f"error: {problem}", markup=False)
    else:
        err.print(f"error: {exc}", markup=False)


def main() -> None:
    """Entry point of the ``auditor`` console script and ``python -m auditor``.

    Typer handles usage errors itself (exit 2, with the usage line); every deliberate error of
    the core arrives here as an :class:`AuditorError` and leaves as one line per problem.
    """
    try:
        app(prog_name="auditor")
    except AuditorError as exc:
        _print_error(exc)
        sys.exit(exc.exit_code)
