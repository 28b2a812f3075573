"""Change sequence numbers for "what changed since N" pulls.

One counter row, incremented inside the writer's transaction: the row lock
makes numbers follow commit order, so a client that has seen N never misses
a change committed later with a smaller number.
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import F

from server.sync.models import ChangeCounter


async def next_seq(conn: Any) -> int:
    """Take the next change number inside the transaction ``conn``."""
    return await take_seqs(conn, 1)


async def take_seqs(conn: Any, count: int) -> int:
    """Take ``count`` consecutive change numbers inside ``conn``; return the first."""
    step = F("value") + count
    if not await ChangeCounter.filter(id=1).using_db(conn).update(value=step):
        await ChangeCounter.bulk_create(
            [ChangeCounter(id=1, value=0)], ignore_conflicts=True, using_db=conn
        )
        await ChangeCounter.filter(id=1).using_db(conn).update(value=step)
    counter = await ChangeCounter.filter(id=1).using_db(conn).get()
    return int(counter.value) - count + 1
