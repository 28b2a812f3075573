"""How fast the outbox recovers on a bad mobile link (issue 13, items 6 and 8).

Chromium reaches the server through tests/support/netproxy.py. The page's
``Math.random`` is pinned near 1, so every jittered wait is at the top of
its range: the old client then always waited its full 30 s after a failure,
and these bounds hold for the new one whatever the draw.

- after an outage, the backoff built up while there was no network does not
  hold the entries back: the outbox empties within seconds of the link's
  return, not after the 30 s timer;
- a request held by a stalled link is given up (the entry waits again,
  kept) and the entry arrives once after the link returns, even though the
  server may have stored the abandoned push (``already_stored``);
- a batch cut mid-request is sent again in halves, then grows back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Request, Route
from starlette.applications import Starlette

from server.sessions.models import SessionLog
from server.settings import Settings
from tests.support import badlink
from tests.support import outbox as ob
from tests.support.netproxy import Conditions, NetProxy, serve_behind

# Every jittered wait at the top of its range (crypto.getRandomValues, which
# makes ids and keys, is untouched).
TOP_OF_RANGE = "Math.random = () => 0.99;"

EMPTY = "() => document.documentElement.dataset.entries === '0'"

FAIL_DRAINS = """async (times) => {
  const sync = await import('/pwa/outbox/sync.js');
  for (let i = 0; i < times; i += 1) await sync.drain({ force: true });
}"""


@pytest.fixture
async def link(settings: Settings, data_dir: Path, app: Starlette) -> AsyncIterator[NetProxy]:
    """The app behind a proxy of its own; its origin is the proxy's."""
    proxy = NetProxy(0, seed=7)
    env = {
        "HOMEWARD_DATA_DIR": str(data_dir),
        "HOMEWARD_DATABASE_URL": settings.database_url,
        "HOMEWARD_SECRET_KEY": "test-secret-key-not-for-production",
    }
    server = await asyncio.to_thread(serve_behind, proxy.port, env)
    proxy.target_port = server.port
    await proxy.start()
    yield proxy
    await proxy.close()
    server.stop()


async def _phone(
    browser: Browser, link: NetProxy, world: ob.Caseload, **options: Any
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(base_url=link.url, **options)
    await context.add_init_script(TOP_OF_RANGE)
    page = await context.new_page()
    await ob.sign_in(context, link.url, world.worker)
    return context, page


async def _until(page: Page, check: Any, seconds: float) -> list[dict[str, Any]]:
    """Poll the stored outbox until ``check(entries)`` holds; its entries then."""
    deadline = time.monotonic() + seconds
    while True:
        found = await badlink.entries(page)
        if check(found):
            return found
        assert time.monotonic() < deadline, f"outbox never got there: {found}"
        await asyncio.sleep(0.2)


@pytest.mark.browser
async def test_after_an_outage_the_outbox_empties_within_seconds_not_the_30_s_timer(
    browser: Browser, link: NetProxy
) -> None:
    world = await ob.caseload(size=1)
    context, page = await _phone(browser, link, world)
    try:
        await ob.install(page)
        # No signal for a while: every save and every try fails, and the
        # failures add up (ten here, as a few minutes offline would).
        link.down("drop")
        await context.set_offline(True)
        await ob.save_many(page, 3, world.participants[0])
        await page.evaluate(FAIL_DRAINS, 10)
        # The phone gets a signal back, but the link is still dropping: the
        # drain the `online` event starts fails too.
        dropped = link.counters.dropped
        await context.set_offline(False)
        deadline = time.monotonic() + 10
        while link.counters.dropped == dropped:
            assert time.monotonic() < deadline, "the online event started no drain"
            await asyncio.sleep(0.05)
        # The link stays bad for a few seconds more (every immediate try,
        # the `online` event's and Background Sync's, fails), then is good.
        await asyncio.sleep(3)  # the rest of the outage
        # The next try comes within seconds: the backoff started again from
        # the network's return, not from the failures counted offline.
        link.up()
        started = time.monotonic()
        await page.wait_for_function(EMPTY, timeout=12_000, polling=100)
        seconds = time.monotonic() - started
    finally:
        await context.close()
    print(f"outbox empty {seconds:.1f} s after the link came back")
    assert sorted(log.notes for log in await SessionLog.all()) == ["bulk 0", "bulk 1", "bulk 2"]


@pytest.mark.browser
async def test_a_push_held_by_a_stalled_link_is_given_up_and_sent_once_after(
    browser: Browser, link: NetProxy
) -> None:
    world = await ob.caseload(size=1)
    context, page = await _phone(browser, link, world)
    try:
        await ob.install(page)
        link.conditions = Conditions(delay=0.3)

        # Out of coverage the moment the push leaves: its bytes are held in
        # the link (the server may or may not get them before the phone
        # gives up; either way the entry must arrive once).
        def stall(request: Request) -> None:
            if "/api/sync/push" in request.url:
                link.down("stall")

        page.on("request", stall)
        await ob.save_many(page, 1, world.participants[0])
        await _until(page, lambda e: [x["state"] for x in e] == ["sending"], 10)
        assert not link.is_up
        # Given up while the link still stalls: kept, waiting to be sent again.
        (entry,) = await _until(page, lambda e: e and e[0]["state"] == "waiting", 45)
        assert entry["sealed"] > 0
        assert not link.is_up
        page.remove_listener("request", stall)
        link.conditions = Conditions()
        link.up()
        await page.wait_for_function(EMPTY, timeout=60_000, polling=100)
    finally:
        await context.close()
    assert [log.notes for log in await SessionLog.all()] == ["bulk 0"]


@pytest.mark.browser
async def test_a_batch_cut_mid_request_is_sent_again_in_halves_then_grows(
    browser: Browser, link: NetProxy
) -> None:
    world = await ob.caseload(size=1)
    # No service worker: the page's own requests are the ones routed here.
    context, page = await _phone(browser, link, world, service_workers="block")
    sizes: list[int] = []

    async def cut_twice(route: Route) -> None:
        sent = route.request.post_data_json
        assert sent is not None
        sizes.append(len(sent["records"]))
        if len(sizes) <= 2:
            await route.abort("connectionreset")  # fetch rejects: a cut, no answer
        else:
            await route.continue_()

    try:
        await page.goto("/")
        await ob.ready(page)
        await context.set_offline(True)
        await ob.save_many(page, 16, world.participants[0])
        await context.route("**/api/sync/push", cut_twice)
        await context.set_offline(False)
        await page.wait_for_function(EMPTY, timeout=30_000, polling=100)
    finally:
        await context.close()
    # 16 cut, 8 cut (halved each time), then 4 sent: the 4 left of the
    # eight first due, in a batch grown by half (up to 6); then the 8 cut
    # last, due a little later, in one batch grown again (up to 9).
    assert sizes == [16, 8, 4, 4, 8]
    logs = await SessionLog.all()
    assert sorted(log.notes for log in logs) == sorted(f"bulk {i}" for i in range(16))
