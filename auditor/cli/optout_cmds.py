"""``auditor optout add|remove|list``: keep the opt-out list."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Column, Table
from rich.text import Text

from auditor.cli.app import out
from auditor.config import load_config
from auditor.errors import UsageError
from auditor.optout import DEFAULT_LIST_FILE

if TYPE_CHECKING:
    from auditor.optout.listfile import OptOutEntry


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
