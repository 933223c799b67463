"""Progress while an audit runs, and the summary printed when it ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.live import Live
from rich.table import Table

from auditor.cli.app import LOG_INTERVAL_SECONDS, err, out
from auditor.model import Finding, ImageRecord, PageRecord, Severity, SkipRecord

if TYPE_CHECKING:
    from auditor.audit import AuditSummary


class Progress:
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


def print_summary(summary: AuditSummary, *, fetched: str = "fetched") -> None:
    """Print the run's counts, where it is stored and what to run next.

    ``fetched`` names what "fetched" means for the run: a manifest audit reads stored copies.
    """
    counters = summary.counters
    pages = f"{counters.pages} pages, " if counters.pages else ""
    out.print(
        f"run {summary.run_id} {summary.status}: {pages}{counters.images} images "
        f"({counters.images_fetched} {fetched}), {counters.skips} skipped",
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
