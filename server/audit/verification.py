"""Checking the chain, and anchors that catch truncation.

A MAC chain shows any change or removal in the middle, but someone who can
write the database can still drop the newest events and point the head at
the last one left. An anchor — the head's length and MAC, printed by
``homeward audit anchor`` and kept outside the server — catches that:
the chain must still reach the anchor's position with the same MAC.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from server.audit import keys
from server.audit.chain import GENESIS, VERSION, Break, event_mac, fields_of, legacy_hash
from server.audit.models import AuditEvent, AuditHead

BATCH = 1000


@dataclass(frozen=True)
class Anchor:
    """The head at one moment: ``length`` events, the last with ``mac``."""

    length: int
    mac: str

    def dumps(self) -> str:
        made = datetime.now(UTC).isoformat(timespec="seconds")
        return json.dumps({"length": self.length, "mac": self.mac, "made_at": made})

    @classmethod
    def loads(cls, text: str) -> Anchor:
        """Raises ValueError when ``text`` is not an anchor."""
        try:
            data = json.loads(text)
            length, mac = data["length"], data["mac"]
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"not an audit anchor: {error}") from None
        if not isinstance(length, int) or length < 0 or not isinstance(mac, str) or len(mac) != 64:
            raise ValueError("not an audit anchor: length or mac malformed")
        return cls(length, mac)


async def all_events(conn: Any = None, upto: int | None = None) -> AsyncIterator[AuditEvent]:
    last = 0
    while True:
        query = AuditEvent.filter(id__gt=last).order_by("id").limit(BATCH)
        if upto is not None:
            query = query.filter(id__lte=upto)
        batch = await (query.using_db(conn) if conn is not None else query)
        if not batch:
            return
        for event in batch:
            yield event
        last = batch[-1].id


async def verify(anchor: Anchor | None = None) -> Break | None:
    """Walk the chain from the start; return the first break, or None.

    Args:
        anchor: a head kept elsewhere; the chain must still reach it.
    """
    head = await AuditHead.get_or_none(id=1)
    if head is None:
        if await AuditEvent.exists():
            return Break(1, "the chain's head record is missing")
        if anchor is not None and anchor.length > 0:
            return Break(1, f"the trail is empty but the anchor has {anchor.length} events")
        return None
    if head.version < VERSION:
        return Break(
            1,
            "the trail is still a plain hash chain from before keyed MACs; "
            "run `homeward migrate` to seal it with the audit key",
        )
    key = keys.current()
    expected_prev = GENESIS
    position = 0
    # Up to the head read above: a head and its events commit together, so
    # those are all there, and events appended meanwhile are not a break.
    async for event in all_events(upto=head.length):
        position += 1
        if event.id != position:
            return Break(position, "an event is missing before this position")
        if event.prev_hash != expected_prev:
            return Break(position, "the link to the previous event is broken")
        if event_mac(fields_of(event), event.prev_hash, key) != event.hash:
            return Break(position, "the event was altered (or sealed with another key)")
        if anchor is not None and position == anchor.length and event.hash != anchor.mac:
            return Break(position, "this event differs from the anchor: history was rewritten")
        expected_prev = event.hash
    if head.length != position or head.hash != expected_prev:
        return Break(position + 1, "events were removed from the end")
    if anchor is not None and position < anchor.length:
        return Break(
            position + 1,
            f"the trail ends before the anchor ({anchor.length} events): "
            "events were removed from the end",
        )
    return None


async def current_anchor() -> tuple[Anchor | None, Break | None]:
    """The head to keep elsewhere, once the chain verifies."""
    broken = await verify()
    if broken is not None:
        return None, broken
    head = await AuditHead.get_or_none(id=1)
    return Anchor(head.length, head.hash) if head else Anchor(0, GENESIS), None


async def legacy_break(head: AuditHead, conn: Any) -> Break | None:
    """The first break of a version-1 (plain SHA-256) chain, or None."""
    expected_prev = GENESIS
    position = 0
    async for event in all_events(conn):
        position += 1
        if event.id != position or event.prev_hash != expected_prev:
            return Break(position, "an event is missing or out of place")
        if legacy_hash(fields_of(event), event.prev_hash) != event.hash:
            return Break(position, "the event was altered")
        expected_prev = event.hash
    if head.length != position or head.hash != expected_prev:
        return Break(position + 1, "events were removed from the end")
    return None
