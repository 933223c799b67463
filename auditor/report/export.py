"""Exports of a stored run: images, findings or signals as JSON lines or CSV (DESIGN 4.3).

What is exported
    ``images``: one object per image, the DESIGN 4.3 keys first, then extras (site, EXIF,
    contexts, headers, ``usage_conflicts``, and the embedded ``xmp`` and ``c2pa`` facts, null
    when not examined). ``findings``: one object per stored finding. ``signals``: one object per
    signal, image signals and page-level signals alike; every object has ``image_url`` and
    ``page_url``, exactly one of them set (a page-level signal is about the page resource).

JSON lines
    One compact JSON object per line, keys in the stable order of the records' ``to_json()``
    (the documented keys first, then extra keys), non-ASCII characters kept as UTF-8. U+2028 and
    U+2029 are escaped so that tools splitting on Unicode line boundaries see one object per line.

CSV
    One row per record; the header lists the same keys as the JSON objects, in the same order.
    Nested values (lists, objects) are compact JSON in the cell; ``true``/``false`` for booleans
    and an empty cell for null.

    **Formula injection.** Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return as a formula, and crawled pages control many of the
    strings here (URLs, alt text, header values, EXIF text, messages quoting them). Every string
    cell that starts with one of those characters (or their full-width forms) is prefixed with an
    apostrophe, which spreadsheets hide and treat as "this is text". Only string values are
    defused: numbers (a negative longitude) and the JSON of nested values (which always starts
    with ``[`` or ``{``) are written unchanged. The auditor's own vocabulary (verdicts, outcomes,
    hashes, ISO timestamps) never starts with those characters, so in practice only values that
    came from outside are ever changed. A consumer that needs the raw value strips one leading
    apostrophe from cells that start with ``'`` followed by a trigger character.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO

if TYPE_CHECKING:
    from auditor.store import Store

What = Literal["images", "findings", "signals"]
Format = Literal["jsonl", "csv"]

#: First characters that make a spreadsheet evaluate a cell (OWASP CSV injection), plus their
#: full-width forms, which some spreadsheet programs normalise.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


class Exportable(Protocol):
    """A stored record that can be exported."""

    def to_json(self) -> dict[str, Any]:
        """Return the export object."""
        ...


def _records(store: Store, run_id: int, what: What) -> tuple[tuple[str, ...], Iterator[Any]]:
    # The store's record modules load the extractors (Pillow, NumPy): only exports need them,
    # not the CSV report that shares this module's cell writer.
    from auditor.store.exports import ImageExport, SignalExport  # noqa: PLC0415
    from auditor.store.run_records import FindingExport  # noqa: PLC0415

    if what == "images":
        return ImageExport.json_keys, store.iter_images(run_id)
    if what == "findings":
        return FindingExport.json_keys, store.iter_findings(run_id)
    if what == "signals":
        return SignalExport.json_keys, store.iter_signals(run_id)
    raise ValueError(f"cannot export {what!r}: choose images, findings or signals")


def json_line(data: dict[str, Any]) -> str:
    """Return ``data`` as one compact JSON line (no trailing newline)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def defuse(text: str) -> str:
    """Return ``text`` safe from spreadsheet formula injection (see the module docstring)."""
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def csv_cell(value: Any) -> str | int | float:
    """Return one CSV cell for a JSON value: defused text, a number, JSON for nested values."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return defuse(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def write_jsonl(records: Iterable[Exportable], out: TextIO) -> int:
    """Write one JSON object per line; return how many were written."""
    count = 0
    for record in records:
        out.write(json_line(record.to_json()))
        out.write("\n")
        count += 1
    return count


def write_csv(records: Iterable[Exportable], keys: tuple[str, ...], out: TextIO) -> int:
    """Write a header of ``keys`` and one defused row per record; return the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(keys)
    count = 0
    for record in records:
        data = record.to_json()
        writer.writerow([csv_cell(data[key]) for key in keys])
        count += 1
    return count


def export(store: Store, run_id: int, what: What, fmt: Format, out: TextIO) -> int:
    """Write run ``run_id``'s ``what`` to ``out`` in ``fmt``; return the number of records."""
    keys, records = _records(store, run_id, what)
    if fmt == "jsonl":
        return write_jsonl(records, out)
    if fmt == "csv":
        return write_csv(records, keys, out)
    raise ValueError(f"cannot export as {fmt!r}: choose jsonl or csv")


Exporter = Callable[["Store", int, TextIO], int]
"""An entry of :data:`auditor.report.EXPORTERS`: ``(store, run_id, out) -> rows written``."""


def exporter(what: What, fmt: Format) -> Exporter:
    """Return the exporter of ``what`` in ``fmt`` (for the registry)."""

    def run(store: Store, run_id: int, out: TextIO) -> int:
        return export(store, run_id, what, fmt, out)

    run.__name__ = f"export_{what}_{fmt}"
    run.__doc__ = f"Export a run's {what} as {fmt}."
    return run
