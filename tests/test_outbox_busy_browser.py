"""A busy server's Retry-After is honoured by the phone (docs/sync.md, "When
the server is busy"): after a 503 with ``Retry-After: 30`` nothing is sent
for 30 s, forced drains included, every entry stays saved, and once the
time has passed the outbox empties.

The phone's clock is driven instead of waiting: ``Date.now`` reads a real
clock plus an offset the test sets.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Route
from starlette.applications import Starlette

from server.sessions.models import SessionLog
from tests.support import outbox as ob
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser

SKEWED_CLOCK = """(() => {
  const real = Date.now.bind(Date);
  window.__skew = 0;
  Date.now = () => real() + window.__skew;
})();"""

STATE = """async () => {
  const { run } = await import('/pwa/outbox/db.js');
  const sync = await import('/pwa/outbox/sync.js');
  const all = await run(['outbox'], 'readonly', (s) => s.outbox.getAll());
  return {
    now: Date.now(),
    quietUntil: sync.quietUntil(),
    entries: all.map((e) => ({
      state: e.state, sealed: Boolean(e.sealed), attempts: e.attempts || 0,
      nextAttemptAt: e.nextAttemptAt || 0, notBefore: e.notBefore || 0,
    })),
  };
}"""

DRAIN = """async (force) => {
  const sync = await import('/pwa/outbox/sync.js');
  return sync.drain({ force });
}"""


async def _settled(page: Page) -> dict[str, Any]:
    """The outbox's state once the refused batch has been put back to wait."""
    deadline = time.monotonic() + 30
    while True:
        state: dict[str, Any] = await page.evaluate(STATE)
        if all(e["attempts"] == 1 for e in state["entries"]) and state["quietUntil"]:
            return state
        assert time.monotonic() < deadline, state
        await asyncio.sleep(0.05)  # IndexedDB is written by the page; no event reaches us


BUSY = {"error": {"code": "busy", "message": "The service is not available right now."}}


async def test_a_503_with_retry_after_holds_every_request_until_then_and_keeps_all(
    browser: Browser, live_server: LiveServer, app: Starlette
) -> None:
    world = await ob.caseload(size=1)
    # No service worker: the page's own requests are the ones routed here.
    context = await browser.new_context(base_url=live_server.url, service_workers="block")
    await context.add_init_script(SKEWED_CLOCK)
    page = await context.new_page()
    await ob.sign_in(context, live_server.url, world.worker)
    sent: list[str] = []
    pushed = asyncio.Event()

    async def busy(route: Route) -> None:
        sent.append(route.request.url)
        await route.fulfill(
            status=503,
            headers={"Retry-After": "30", "Content-Type": "application/json"},
            body=json.dumps(BUSY),
        )
        pushed.set()

    def counting(route: Route) -> Any:
        sent.append(route.request.url)
        return route.continue_()

    try:
        await page.goto("/")
        await ob.ready(page)
        await context.set_offline(True)
        await ob.save_many(page, 3, world.participants[0])
        await context.route("**/api/sync/push", busy)
        await context.route("**/api/me", counting)
        await context.route("**/api/sync/pull*", counting)
        await context.set_offline(False)
        await asyncio.wait_for(pushed.wait(), 30)
        state = await _settled(page)
        assert [u for u in sent if u.endswith("/api/sync/push")] == [sent[-1]]
        before = len(sent)
        assert state["quietUntil"] >= state["now"] + 29_000
        assert len(state["entries"]) == 3
        for entry in state["entries"]:
            assert entry["state"] == "waiting" and entry["sealed"] and entry["attempts"] == 1
            assert entry["notBefore"] >= state["now"] + 29_000
            assert entry["nextAttemptAt"] >= entry["notBefore"]

        # 29 s later on the phone's clock, forced or not: nothing goes out.
        await page.evaluate("window.__skew = 29_000")
        assert await page.evaluate(DRAIN, True) == "offline"
        assert await page.evaluate(DRAIN, False) == "offline"
        assert len(sent) == before
        assert await ob.outbox_size(page) == 3
        assert await SessionLog.all().count() == 0

        # Past the 30 s: the server is free again and the outbox empties.
        await context.unroute("**/api/sync/push", busy)
        await page.evaluate("window.__skew = 31_000")
        assert await page.evaluate(DRAIN, False) == "done"
        await page.wait_for_function(
            "() => document.documentElement.dataset.entries === '0'", polling=100
        )
    finally:
        await context.close()
    assert await SessionLog.all().count() == 3
