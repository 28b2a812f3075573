"""Change sequence numbers for "what changed since N" pulls.

One counter row, incremented inside the writer's transaction. The increment
locks the row until that transaction ends (PostgreSQL row lock; SQLite has
one writer at a time), so numbers are handed out and committed in the same
order: when the counter *reads* N, every change numbered N or less has
committed, and none numbered N or less can commit later. ``high_water``
reads that committed value without taking the lock; a pull sends rows with
``since < seq <= high_water`` and answers ``high_water`` as its cursor, so
a change whose writer has not committed yet (its number is above what the
reader saw) arrives at the next pull instead of being skipped.

The guarantee holds only if every number is taken inside the transaction
that writes the row: ``take_seqs`` refuses a connection that is not one.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import TransactionalDBClient

from server.sync.models import ChangeCounter

# Add to the counter and read it back in one statement (``_bump``).
BUMP = "UPDATE change_counter SET value = value + {} WHERE id = 1 RETURNING value"
PLACEHOLDER = {"postgres": "$1"}  # SQLite's is "?"


async def next_seq(conn: Any) -> int:
    """Take the next change number inside the transaction ``conn``."""
    return await take_seqs(conn, 1)


async def take_seqs(conn: Any, count: int) -> int:
    """Take ``count`` consecutive change numbers inside ``conn``; return the first.

    Raises:
        TypeError: ``conn`` is not an open transaction (the number would
            commit before the row it numbers, and a pull could skip the row).
    """
    if not isinstance(conn, TransactionalDBClient):
        raise TypeError("change numbers are taken inside the writer's transaction")
    value = await _bump(conn, count)
    if value is None:  # the first change ever: make the row, then take
        await ChangeCounter.bulk_create(
            [ChangeCounter(id=1, value=0)], ignore_conflicts=True, using_db=conn
        )
        value = await _bump(conn, count)
        assert value is not None
    return value - count + 1


async def _bump(conn: Any, count: int) -> int | None:
    """Add ``count`` to the counter and read it back in one statement.

    One round trip instead of an UPDATE and a SELECT: the row is locked
    from this statement until the transaction ends either way, and on
    SQLite every statement of a busy server waits its turn on the one
    connection, so each one saved is time the others do not wait.
    """
    placeholder = PLACEHOLDER.get(conn.capabilities.dialect, "?")
    rows = await conn.execute_query_dict(BUMP.format(placeholder), [count])
    return int(rows[0]["value"]) if rows else None


async def high_water() -> int:
    """The highest change number whose writer has committed (see above)."""
    counter = await ChangeCounter.filter(id=1).first()
    return int(counter.value) if counter is not None else 0
