"""Geometry of the small bar charts on the progress page, drawn as inline SVG.

Pure functions: the template only places what is computed here. In a
right-to-left language time runs from right to left, so the x coordinates
are mirrored (the first month is drawn at the right edge).
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 320
HEIGHT = 140
# Room for the month labels under the bars and the value labels above them.
TOP = 18
BOTTOM = 22
SIDE = 8
GAP = 0.25  # share of a slot left empty between bars


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    centre: float  # x of the labels under and above the bar
    value: float | None


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]


def bar_chart(values: list[float | None], *, maximum: float, rtl: bool) -> Chart:
    """Bars for ``values`` (None: no bar), scaled so ``maximum`` fills the height.

    Args:
        values: one value per slot, oldest first.
        maximum: the value drawn at full height (at least the largest value).
        rtl: mirror the x axis for a right-to-left page.
    """
    count = max(len(values), 1)
    slot = (WIDTH - 2 * SIDE) / count
    bar_width = slot * (1 - GAP)
    usable = HEIGHT - TOP - BOTTOM
    baseline = float(HEIGHT - BOTTOM)
    top = max([maximum, *(v for v in values if v is not None)]) or 1.0
    bars = []
    for index, value in enumerate(values):
        start = SIDE + index * slot + (slot - bar_width) / 2
        if rtl:
            start = WIDTH - start - bar_width
        height = usable * (value or 0) / top
        bars.append(
            Bar(
                x=round(start, 1),
                y=round(baseline - height, 1),
                width=round(bar_width, 1),
                height=round(height, 1),
                centre=round(start + bar_width / 2, 1),
                value=value,
            )
        )
    return Chart(WIDTH, HEIGHT, baseline, bars)
