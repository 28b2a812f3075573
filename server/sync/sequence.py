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
from tortoise.expressions import F

from server.sync.models import ChangeCounter


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
    step = F("value") + count
    if not await ChangeCounter.filter(id=1).using_db(conn).update(value=step):
        await ChangeCounter.bulk_create(
            [ChangeCounter(id=1, value=0)], ignore_conflicts=True, using_db=conn
        )
        await ChangeCounter.filter(id=1).using_db(conn).update(value=step)
    counter = await ChangeCounter.filter(id=1).using_db(conn).get()
    return int(counter.value) - count + 1


async def high_water() -> int:
    """The highest change number whose writer has committed (see above)."""
    counter = await ChangeCounter.filter(id=1).first()
    return int(counter.value) if counter is not None else 0
