"""The offline journey through a bad link (tests/support/netproxy.py), shared
by the test (tests/test_bad_network_browser.py) and the benchmark
(bench/bad_network.py).

A worker whose app is installed loses the signal, logs sessions on the
offline screens, and gets the signal back, on a link that is still bad:
slow, throttled, cutting connections and dropping out. The journey returns
what the worker created (ids and notes, made here, not by the app) and what
it took from "network back" to "outbox empty".
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Page

from tests.support import outbox as ob
from tests.support.netproxy import Conditions, Counters, NetProxy

EMPTY = "() => document.documentElement.dataset.entries === '0'"

# Saves entries with the ids and notes given, through the outbox's own code
# (the module the screens use), for entries beyond the few typed by hand.
SAVE = """async ({ entries, participant, code, day }) => {
  const { saveSessionLog } = await import('/pwa/outbox/save.js');
  const cache = await import('/pwa/outbox/cache.js');
  const user = await cache.currentUser();
  for (const { id, notes } of entries) {
    await saveSessionLog({
      id,
      owner: user.id,
      form: { pillar: 'family', version: 1 },
      clean: {
        participant, occurred_on: day, occurred_time: '10:00', attendance: 'missed',
        attendance_reason: 'no bus', notes, follow_up: false,
      },
      appointment: null,
      code,
    });
  }
}"""

# The outbox as stored: each entry's id, state and sealed body's size (JSON).
ENTRIES = """async () => {
  const { run } = await import('/pwa/outbox/db.js');
  const all = await run(['outbox'], 'readonly', (s) => s.outbox.getAll());
  return all.map((e) => ({
    id: e.id, state: e.state, sealed: e.sealed ? JSON.stringify(e.sealed).length : 0,
  }));
}"""


@dataclass(frozen=True)
class Trip:
    """What one journey created and what its sync cost."""

    notes: dict[str, str]  # id → the notes typed for it (made here)
    sealed_bytes: int  # the sealed bodies' JSON, all entries
    started: float  # the event loop's clock when the network came back
    seconds: float  # from then to outbox empty
    window: Counters  # the link's counters over those seconds
    pushes: int  # push requests the page started in those seconds


async def entries(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await page.evaluate(ENTRIES)
    return found


async def journey(
    page: Page,
    link: NetProxy,
    world: ob.Caseload,
    *,
    typed: int,
    total: int,
    bad: Conditions,
    patience: float,
) -> Trip:
    """From an installed, signed-in app on ``page``: lose the signal, log
    ``total`` sessions (``typed`` of them on the offline screens, the rest
    through the outbox's code), get the signal back on a ``bad`` link with
    random outages, and wait until the outbox is empty."""
    loop_time = asyncio.get_running_loop().time
    # A form page online, as a worker would open one before going out.
    await page.goto(f"/log/{world.participants[0].id}/family")
    await ob.ready(page)
    await page.goto("/")
    await ob.ready(page)
    # No signal: the phone knows (its `online` event will fire when it
    # returns) and the link is down too, so nothing leaks through early.
    link.conditions = bad
    link.down("drop")
    await page.context.set_offline(True)
    await page.reload()
    await ob.ready(page, synced=False)

    notes: dict[str, str] = {}
    for index in range(typed):
        pillar = ob.PILLARS[index % len(ob.PILLARS)]
        participant = world.participants[index % len(world.participants)]
        note = f"typed on a bad network {index}"
        await ob.log_offline(page, participant.code, pillar, ob.answers(index, pillar, note))
        # The phone made this one's id: the entry that was not there before.
        (new,) = {e["id"] for e in await entries(page)} - notes.keys()
        notes[new] = note
    by_hand = {str(uuid.uuid4()): f"saved on a bad network {i}" for i in range(total - typed)}
    participant = world.participants[0]
    await page.evaluate(
        SAVE,
        {
            "entries": [{"id": k, "notes": v} for k, v in by_hand.items()],
            "participant": str(participant.id),
            "code": participant.code,
            "day": ob.DAY,
        },
    )
    await page.wait_for_function(f"() => document.documentElement.dataset.entries === '{total}'")
    sealed = sum(e["sealed"] for e in await entries(page))

    # The signal is back, the link still bad: delay, throttle, cuts, outages.
    started = loop_time()
    before = link.counters.copy()
    pushes: list[str] = []
    page.context.on(
        "request", lambda r: pushes.append(r.url) if "/api/sync/push" in r.url else None
    )
    link.up()
    link.start_weather()
    await page.context.set_offline(False)
    await page.wait_for_function(EMPTY, timeout=patience * 1000, polling=100)
    seconds = loop_time() - started
    after = link.counters.copy()
    link.stop_weather()
    window = Counters(
        up=after.up - before.up,
        down=after.down - before.down,
        connections=after.connections - before.connections,
        cuts=after.cuts - before.cuts,
        dropped=after.dropped - before.dropped,
        outages=after.outages[len(before.outages) :],
    )
    return Trip({**notes, **by_hand}, sealed, started, seconds, window, len(pushes))
