"""Run the hostile-sites suite (``tests/hostile``) and print its summary table.

Usage: ``python scripts/hostile.py [extra pytest arguments]`` (``make hostile``). It runs pytest
in this process with a small plugin that collects each test's outcome and the case record the
hostile tests attach (family, case, survived, data lost, seconds), then prints one row per
case: a case that failed its test never counts as survived. Crawled cases share one audit, so
their time is that audit's wall time; "-" under data lost marks a check of the machinery itself
(DNS pinning, the store) rather than of a crawled site. The exit status is pytest's, so
the target fails when any case does.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    """One line of the table."""

    family: str
    case: str
    survived: bool
    data_lost: bool | None  # None: the test checks no crawled data (a unit of the machinery)
    seconds: float


class Collector:
    """A pytest plugin that keeps one :class:`Row` per test of the hostile suite."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Take the outcome of each test's call phase (or of a setup that failed)."""
        if report.when != "call" and not (report.when == "setup" and report.failed):
            return
        found = dict(report.user_properties).get("hostile")
        record: dict[str, Any] = found if isinstance(found, dict) else {}
        module = report.nodeid.split("::", 1)[0]
        family = Path(module).stem.removeprefix("test_")
        case = report.nodeid.split("::", 1)[-1]
        self.rows.append(
            Row(
                family=record.get("family", family),
                case=record.get("case", case),
                survived=report.passed and record.get("survived", True),
                data_lost=record.get("data_lost"),
                seconds=float(record.get("seconds", report.duration)),
            )
        )


def table(rows: list[Row]) -> str:
    """Render the rows, one case per line, plus a totals line."""
    header = ("family", "case", "survived", "data lost", "time (s)")
    lines = [
        (
            row.family,
            row.case,
            "yes" if row.survived else "NO",
            "-" if row.data_lost is None else ("YES" if row.data_lost else "no"),
            f"{row.seconds:.1f}",
        )
        for row in rows
    ]
    survived = sum(row.survived for row in rows)
    lost = sum(bool(row.data_lost) for row in rows)
    widths = [max(len(cells[i]) for cells in (header, *lines)) for i in range(len(header))]

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    rule = "  ".join("-" * width for width in widths)
    totals = f"{len(rows)} cases, {survived} survived, {lost} lost data"
    return "\n".join([fmt(header), rule, *map(fmt, lines), rule, totals])


def main(argv: list[str]) -> int:
    """Run the suite, print the table, return pytest's exit status."""
    collector = Collector()
    args = [str(ROOT / "tests" / "hostile"), "-q", "-p", "no:cacheprovider", *argv]
    status = pytest.main(args, plugins=[collector])
    print()
    print(table(collector.rows))
    return int(status)


if __name__ == "__main__":  # the audit's worker processes re-import this module as __mp_main__
    sys.exit(main(sys.argv[1:]))
