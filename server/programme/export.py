"""The programme view's CSV: the published (suppressed) cells only, audited."""

from __future__ import annotations

from datetime import datetime

from server.accounts.models import User
from server.audit.services import Actor, record
from server.indicators.export import BOM, csv_lines
from server.programme import services
from server.programme.period import Quarter
from server.programme.tables import csv_rows, published_tables

CSV_COLUMNS = ("quarter", "table", "level", "country", "organisation", "column", "value")


async def programme_csv(*, user: User, quarter: Quarter, actor: Actor, now: datetime) -> str:
    """Every published cell of ``quarter`` for the coordinator, one per row."""
    figures = await services.figures_for(user=user, quarter=quarter, actor=actor, now=now)
    rows = csv_rows(figures, published_tables(figures))
    await record(
        actor=actor,
        action="export.programme",
        object_type="programme",
        object_id=quarter.key,
        detail={"rows": len(rows)},
    )
    return BOM + csv_lines([CSV_COLUMNS, *rows])
