"""The caseload questions the ORM cannot ask: "the last N rows per participant".

All are correlated ``ORDER BY … LIMIT`` subqueries, so each participant
costs an index probe on ``(participant_id, occurred_at)`` or
``(participant_id, reviewed_on)`` however long their history; a window
function would read every row of the caseload instead. The SQL is the same
on SQLite and PostgreSQL except for the parameter markers.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise import connections

from server.sessions.models import SessionLog

# Of the last 3 session logs, at least 2 missed raise the flag (kept in the
# SQL text itself: constants, never values from a request).
RECENT_LOGS = 3
MISSED_IN_RECENT = 2

# {0} and {1} become the dialect's parameter markers (organisation, officer).
_MISSED = """
SELECT p.id AS participant_id FROM participant p
WHERE p.organisation_id = {0} AND p.officer_id = {1} AND (
  SELECT COUNT(*) FROM (
    SELECT s.attendance FROM session_log s WHERE s.participant_id = p.id
    ORDER BY s.occurred_at DESC LIMIT 3
  ) recent WHERE recent.attendance = 'missed'
) >= 2
"""

# Walks the (participant_id, occurred_at) index backwards from the newest
# log until an attended one: a row or two, where MAX(...) with the
# attendance condition would read every log of the participant.
_LAST_CONTACTS = """
SELECT p.id AS participant_id, (
  SELECT s.occurred_at FROM session_log s
  WHERE s.participant_id = p.id AND s.attendance = 'attended'
  ORDER BY s.occurred_at DESC LIMIT 1
) AS last FROM participant p
WHERE p.organisation_id = {0} AND p.officer_id = {1}
"""

_LATEST_REVIEWS = """
SELECT (
  SELECT r.id FROM progress_review r WHERE r.participant_id = p.id
  ORDER BY r.reviewed_on DESC, r.created_at DESC, r.id DESC LIMIT 1
) AS review_id FROM participant p
WHERE p.organisation_id = {0} AND p.officer_id = {1}
"""


async def _rows(sql: str, params: list[Any]) -> list[Any]:
    conn = connections.get("default")
    markers = (
        [f"${n}" for n in range(1, len(params) + 1)]
        if conn.capabilities.dialect == "postgres"
        else ["?"] * len(params)
    )
    _, rows = await conn.execute_query(sql.format(*markers), params)
    return list(rows)


async def _ids(sql: str, params: list[Any], column: str) -> set[uuid.UUID]:
    # SQLite hands UUIDs back as text, PostgreSQL as UUID objects.
    rows = await _rows(sql, params)
    return {uuid.UUID(str(row[column])) for row in rows if row[column] is not None}


async def last_contacts(*, organisation_id: int, officer_id: int) -> dict[uuid.UUID, datetime]:
    """When each of the officer's participants last attended a session."""
    rows = await _rows(_LAST_CONTACTS, [organisation_id, officer_id])
    # Raw SQL skips the ORM's conversion: SQLite answers text, PostgreSQL datetimes.
    convert = SessionLog._meta.fields_map["occurred_at"].to_python_value
    return {
        uuid.UUID(str(row["participant_id"])): convert(row["last"])
        for row in rows
        if row["last"] is not None
    }


async def repeatedly_missed(*, organisation_id: int, officer_id: int) -> set[uuid.UUID]:
    """The officer's participants with 2 or more of their last 3 sessions missed."""
    return await _ids(_MISSED, [organisation_id, officer_id], "participant_id")


async def latest_review_ids(*, organisation_id: int, officer_id: int) -> set[uuid.UUID]:
    """The id of the latest progress review of each of the officer's participants."""
    return await _ids(_LATEST_REVIEWS, [organisation_id, officer_id], "review_id")
