"""One line of the performance table, and the few ways its figures are written."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """A measured figure with the ceiling (or reference) it is read against.

    Every field is already text: each benchmark knows best how to write its
    own figures, and the report only lays them out.
    """

    area: str
    measure: str
    result: str
    reference: str = "—"
    ratio: str = "—"
    target: str = "—"
    notes: str = ""


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def rate(values: Sequence[float]) -> str:
    """The median of several runs, with their spread so the noise shows."""
    if len(values) == 1:
        return f"{values[0]:,.0f} req/s"
    return f"{median(values):,.0f} req/s ({min(values):,.0f}–{max(values):,.0f})"


def ratio(value: float) -> str:
    return f"{value:.2f}"


# Decimal units, as the targets are written and as browsers' tools show them.
def kilobytes(size: float) -> str:
    return f"{size / 1000:.1f} KB"


def megabytes(size: float) -> str:
    return f"{size / 1_000_000:.1f} MB"
