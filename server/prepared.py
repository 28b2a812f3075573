"""Queries whose SQL is built once per process, then run with new values.

Tortoise builds a query's SQL anew each time it runs, through pypika: for
the sign-in session's look-up (three tables joined, some forty columns) that
was most of its cost, about a millisecond on every signed-in request, for a
statement that differs only in one value. A ``Prepared`` query builds its
SQL once per database dialect from an ordinary queryset whose changing
value is a placeholder, and later runs that SQL with the real value bound
as a parameter (never pasted into the text), turning rows into models as
Tortoise itself does (``execute_select``, with ``select_related``).

It leans on two of Tortoise's inner names (``_make_query`` and
``_select_related_idx``), so tortoise-orm is pinned (requirements.lock) and
tests/test_home_queries.py checks each prepared query against the same
queryset run the ordinary way, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

MODEL = TypeVar("MODEL", bound=Model)
# Stands for the value while the SQL is built; no real value looks like it.
PLACEHOLDER = "\x00homeward-prepared-value\x00"


@dataclass(frozen=True)
class _Built:
    sql: str
    values: tuple[Any, ...]
    slot: int  # where the placeholder is among the values
    select_related_idx: Any


class Prepared(Generic[MODEL]):
    """``Prepared(lambda value: Model.filter(field=value)…)``; then
    ``await prepared.all(actual)`` is what ``await make(actual)`` returns."""

    def __init__(self, make: Callable[[Any], QuerySet[MODEL]]) -> None:
        self._make = make
        # Per dialect: tests run SQLite and PostgreSQL, and an app server
        # could be pointed at either.
        self._built: dict[str, _Built] = {}

    def _build(self, query: QuerySet[MODEL]) -> _Built:
        if query._prefetch_map or query._prefetch_queries or query._annotations:
            # Run as more than one statement, or read back beyond the models.
            raise ValueError("a prepared query is one plain select")
        query._make_query()
        sql, values = query.query.get_parameterized_sql()
        if values.count(PLACEHOLDER) != 1:
            raise ValueError("a prepared query takes its value exactly once")
        return _Built(sql, tuple(values), values.index(PLACEHOLDER), query._select_related_idx)

    async def all(self, value: Any) -> list[MODEL]:
        query = self._make(PLACEHOLDER)
        query._choose_db_if_not_chosen()
        connection = query._db
        dialect = connection.capabilities.dialect
        built = self._built.get(dialect)
        if built is None:
            built = self._built[dialect] = self._build(query)
        values = list(built.values)
        values[built.slot] = value
        executor = connection.executor_class(
            model=query.model,
            db=connection,
            prefetch_map={},
            prefetch_queries={},
            select_related_idx=built.select_related_idx,
        )
        found: list[MODEL] = await executor.execute_select(built.sql, values)
        return found

    async def first(self, value: Any) -> MODEL | None:
        found = await self.all(value)
        return found[0] if found else None
