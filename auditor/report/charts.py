"""Horizontal bar charts for the HTML report, laid out here as numbers the template draws.

The report is offline and has no script, so charts are inline SVG; computing every bar's
geometry in Python keeps the template a plain drawing of these values, and makes the layout
testable without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MAX_CHART_BARS", "Bar", "BarChart", "bar_chart"]

MAX_CHART_BARS = 20
"""Bars in one chart; the remainder is summed into a last "other" bar."""

_CHART_WIDTH = 640
_CHART_LABEL = 190  # right edge of the label column
_CHART_VALUE = 60  # room right of the longest bar for its value
_BAR_HEIGHT = 20
_BAR_GAP = 8
_CHART_PAD = 6
_LABEL_CHARS = 28


@dataclass(frozen=True)
class Bar:
    """One bar of a horizontal bar chart, with its computed geometry."""

    label: str
    full_label: str
    value: int
    y: int
    width: float
    css: str


@dataclass(frozen=True)
class BarChart:
    """An inline SVG bar chart: the template draws exactly these numbers."""

    id: str
    title: str
    width: int
    height: int
    label_x: int
    bars: tuple[Bar, ...]

    @property
    def value_x(self) -> int:
        """Return where the value column starts: bars begin here too."""
        return self.label_x + 8


def bar_chart(chart_id: str, title: str, items: Sequence[tuple[str, int, str]]) -> BarChart:
    """Lay out ``(label, value, css class)`` bars, longest scaled to the plot width.

    Bars past :data:`MAX_CHART_BARS` are summed into one "other" bar so a crawl with hundreds of
    rules still gives a readable chart (the tables list every rule).
    """
    if len(items) > MAX_CHART_BARS:
        rest = items[MAX_CHART_BARS - 1 :]
        label = f"{len(rest)} others"
        items = [*items[: MAX_CHART_BARS - 1], (label, sum(value for _, value, _ in rest), "bar")]
    plot = _CHART_WIDTH - _CHART_LABEL - 8 - _CHART_VALUE
    top = max((value for _, value, _ in items), default=0) or 1
    bars = []
    for index, (label, value, css) in enumerate(items):
        short = label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "\u2026"
        bars.append(
            Bar(
                label=short,
                full_label=label,
                value=value,
                y=_CHART_PAD + index * (_BAR_HEIGHT + _BAR_GAP),
                width=round(plot * value / top, 1),
                css=css,
            )
        )
    height = 2 * _CHART_PAD + len(bars) * (_BAR_HEIGHT + _BAR_GAP) - _BAR_GAP
    return BarChart(chart_id, title, _CHART_WIDTH, max(height, 0), _CHART_LABEL, tuple(bars))
