"""The programme's published tables: figures through disclosure control,
laid out for the page, its charts and the CSV. Nothing here is raw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.programme import disclosure
from server.programme.disclosure import Published
from server.programme.services import ALL, SINGLE, TABLES, Figures, Unit, cell


@dataclass(frozen=True)
class Table:
    id: str
    measure: str
    columns: list[str]  # stable identifiers; the last is ALL (the row's total)
    rows: list[tuple[Unit, list[Published]]]


def published_tables(figures: Figures) -> list[Table]:
    """Every table of the page, each cell as published (counts or "< N")."""
    shown = disclosure.publish(figures.values, figures.groups, figures.threshold)
    tables: list[Table] = []
    for table_id, (measure, columns, first) in TABLES.items():
        rows = [
            (unit, [shown[cell(measure, unit.key, c, first)] for c in [*columns, ALL]])
            for unit in figures.units
        ]
        tables.append(Table(table_id, measure, [*columns, ALL], rows))
    for measure in SINGLE:
        rows = [(unit, [shown[(measure, unit.key)]]) for unit in figures.units]
        tables.append(Table(measure, measure, [ALL], rows))
    return tables


def csv_rows(figures: Figures, tables: list[Table]) -> list[list[Any]]:
    """One CSV row per published cell: where it is, and its value or "< N"."""
    out: list[list[Any]] = []
    for table in tables:
        for unit, cells in table.rows:
            country = unit.country.value if unit.country else ""
            name = unit.name if unit.kind == "organisation" else ""
            for column, value in zip(table.columns, cells, strict=True):
                shown: Any = f"< {value.threshold}" if value.value is None else value.value
                out.append([figures.quarter.key, table.id, unit.kind, country, name, column, shown])
    return out
