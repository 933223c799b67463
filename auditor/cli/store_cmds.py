"""``auditor report`` and ``auditor export``: read a stored run, never crawl again."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from auditor.cli.app import DbOption, err
from auditor.errors import UsageError
from auditor.policy import load_packs

if TYPE_CHECKING:
    from auditor.store import Store


def output_stream(path: Path | None) -> TextIO:
    if path is None or str(path) == "-":
        return sys.stdout
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def open_run(store_db: str, run: int | None) -> tuple[Store, int]:
    from auditor.store import open_store  # noqa: PLC0415 - see the imports note

    store = open_store(store_db, create=False)
    run_id = run if run is not None else store.latest_run_id()
    if run_id is None:
        store.close()
        raise UsageError(f"{store_db} holds no runs yet: run `auditor crawl` first")
    store.run(run_id)  # raises StoreError for an unknown run
    return store, run_id


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
    store, run_id = open_run(db, run)
    rules = rule_infos(load_packs(None, include_proposed=True))
    with store:
        data = from_store(store, run_id, rules=rules, now=datetime.now(UTC))
    with closing(output_stream(output)) as stream:
        REPORTERS[fmt](data, stream)
    if output is not None:
        err.print(f"wrote {output}")


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
    store, run_id = open_run(db, run)
    with store, closing(output_stream(output)) as stream:
        rows = exporter(store, run_id, stream)
    if output is not None:
        err.print(f"wrote {rows} rows to {output}")


@contextmanager
def closing(stream: TextIO) -> Iterator[TextIO]:
    try:
        yield stream
    finally:
        if stream is not sys.stdout:
            stream.close()
