"""``auditor crawl`` and ``auditor manifest``: run an audit and store it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditor.cli.app import DbOption, OptOutNearBandOption, OptOutThresholdOption, err, out
from auditor.cli.progress import Progress, print_summary
from auditor.config import AuditConfig, Target, load_config
from auditor.crawl.forkserver import start_fork_server
from auditor.errors import UsageError
from auditor.policy import load_packs

if TYPE_CHECKING:
    from auditor.audit import AuditSummary
    from auditor.signals.optout_list import OptOutMatcher


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
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the interrupted crawl with this config.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the final summary.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every skip.")] = False,
    optout_threshold: OptOutThresholdOption = None,
    optout_near_band: OptOutNearBandOption = None,
) -> None:
    """Crawl sites, examine every image and store signals and findings."""
    start_fork_server()  # its import runs on another core while this one sets up the run
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
    optout = optout_matcher(config, optout_threshold, optout_near_band, quiet=quiet)
    from auditor.audit import AuditOptions, run_audit  # noqa: PLC0415 - see the imports note

    progress = Progress(quiet=quiet, verbose=verbose)
    options = AuditOptions(
        db=db, workers=workers, optout=optout,
        config_path=str(config_file) if config_file else None, resume=resume,
    )  # fmt: skip
    try:
        with progress.display():
            summary = run_audit(config, policy, options, progress)
    except KeyboardInterrupt:
        where = ["-c", str(config_file)] if config_file else list(urls or ())
        again = " ".join(["auditor crawl", *where, "--db", db, "--resume"])
        err.print(
            f"interrupted: what was recorded so far is kept in {db}; continue with: {again}",
            markup=False,
        )
        raise typer.Exit(130) from None
    print_summary(summary)


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
    optout = optout_matcher(config, optout_threshold, optout_near_band, quiet=quiet)
    from auditor.manifest_audit import ManifestOptions, run_manifest_audit  # noqa: PLC0415

    progress = Progress(quiet=quiet, verbose=verbose)
    options = ManifestOptions(
        db=db, workers=workers, optout=optout, config_path=str(config_file), refetch=refetch,
        resume=resume,
    )  # fmt: skip
    try:
        with progress.display():
            summary = run_manifest_audit(path, config, policy, options, progress)
    except KeyboardInterrupt:
        again = f"auditor manifest {path} -c {config_file} --db {db} --resume"
        err.print(
            f"interrupted: what was recorded so far is kept in {db}; continue with: {again}",
            markup=False,
        )
        raise typer.Exit(130) from None
    print_summary(summary, fetched="analysed")
    deletions_hint(summary)


def deletions_hint(summary: AuditSummary) -> None:
    out.print(
        f"deletion list: auditor export --db {summary.db} --what deletions --format csv",
        markup=False,
    )


def optout_matcher(
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
