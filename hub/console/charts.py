"""Bar charts drawn on the server: the geometry of an inline SVG, no script, no style attribute.

A page builds a :class:`BarChart` with :func:`bar_chart` (one row per label, each row one or
more segments laid end to end) and shows it with the ``bar_chart`` macro of
``templates/charts.html``, which writes ``<svg>`` with ``<rect>`` and ``<text>`` elements. The
colours come from CSS classes in ``static/console.css`` (the Content-Security-Policy refuses
inline styles). Every chart stands beside a table with the same numbers: the chart is for the
eye, the table for reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["Bar", "BarChart", "Segment", "bar_chart"]

#: The drawing's size in SVG units (it scales to the page's width).
WIDTH = 640
ROW = 28
LABEL = 120
VALUE = 150
GAP = 8


@dataclass(frozen=True)
class Segment:
    """A piece of a bar: where it starts and how wide it is, its CSS class and its tooltip."""

    x: Decimal
    width: Decimal
    css: str
    title: str


@dataclass(frozen=True)
class Bar:
    """One row: its label, its segments, the text written after it, and its vertical place."""

    label: str
    segments: tuple[Segment, ...]
    value: str
    y: int

    @property
    def text_y(self) -> int:
        return self.y + ROW // 2 + 4

    @property
    def value_x(self) -> Decimal:
        end = max((s.x + s.width for s in self.segments), default=Decimal(LABEL))
        return end + GAP


@dataclass(frozen=True)
class BarChart:
    """The SVG's size, its bars, and its accessible title."""

    title: str
    width: int
    height: int
    bars: tuple[Bar, ...]


#: A row as a page gives it: (label, [(value, css class, tooltip), ...], text after the bar).
Row = tuple[str, Sequence[tuple[Decimal | int, str, str]], str]


def _units(value: Decimal) -> Decimal:
    """A coordinate as the SVG is written: two decimals."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def bar_chart(title: str, rows: Sequence[Row]) -> BarChart:
    """A horizontal bar chart: each row's segments scaled so the longest row fills the width
    left for bars (values of zero or less draw nothing)."""
    span = WIDTH - LABEL - VALUE - 2 * GAP
    totals = [
        sum((max(Decimal(v), Decimal(0)) for v, _, _ in parts), Decimal(0)) for _, parts, _ in rows
    ]
    largest = max(totals, default=Decimal(0))
    bars = []
    for index, (label, parts, value) in enumerate(rows):
        x = Decimal(LABEL + GAP)
        segments = []
        for amount, css, tip in parts:
            size = Decimal(amount)
            if size <= 0 or largest <= 0:
                continue
            width = size / largest * span
            segments.append(Segment(_units(x), _units(max(width, Decimal(1))), css, tip))
            x += width
        bars.append(Bar(label, tuple(segments), value, index * (ROW + GAP // 2)))
    height = max(len(rows), 1) * (ROW + GAP // 2)
    return BarChart(title, WIDTH, height, tuple(bars))
