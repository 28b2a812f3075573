"""The outbox under faults: a browser closed mid-sync, an answer lost after
the server committed, the server killed during a big sync. Every entry must
arrive exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Route
from starlette.applications import Starlette

from server.sessions.models import SessionLog
from server.settings import Settings
from tests.support import live
from tests.support import outbox as ob
from tests.support.live import LiveServer
from tests.test_outbox_browser import phone

pytestmark = pytest.mark.browser


async def delivered(page: Any, expected: int) -> None:
    """Wait until the phone's outbox is empty, then check the server's count."""
    await page.wait_for_function(
        "() => document.documentElement.dataset.entries === '0'", timeout=60_000
    )
    assert await ob.outbox_size(page) == 0
    assert await SessionLog.all().count() == expected


async def test_closing_the_browser_mid_sync_loses_and_doubles_nothing(
    live_server: LiveServer, app: Starlette, tmp_path: Path
) -> None:
    world = await ob.caseload(size=1)
    profile = tmp_path / "profile"
    async with phone(profile, live_server.url) as (context, page):
        await ob.sign_in(context, live_server.url, world.worker)
        await ob.install(page)
        await context.set_offline(True)
        await ob.save_many(page, 150, world.participants[0])
        assert await ob.outbox_size(page) == 150
        # The first batch reaches the server; the browser is gone before the answer.
        committed = asyncio.Event()

        async def first_batch_then_close(route: Route) -> None:
            await route.fetch()
            committed.set()

        await context.route("**/api/sync/push", first_batch_then_close)
        await context.set_offline(False)
        await committed.wait()
    assert await SessionLog.all().count() == 100

    async with phone(profile, live_server.url) as (context, page):
        await page.goto("/")
        await ob.ready(page)
        await delivered(page, 150)


async def test_an_answer_lost_after_the_commit_is_retried_into_already_stored(
    page: Any, live_server: LiveServer
) -> None:
    world = await ob.caseload(size=1)
    await ob.sign_in(page.context, live_server.url, world.worker)
    await ob.install(page)
    await page.context.set_offline(True)
    await ob.save_many(page, 5, world.participants[0])
    answers: list[list[str]] = []

    async def lose_the_first_answer(route: Route) -> None:
        response = await route.fetch()  # the server has committed
        answers.append([r["status"] for r in (await response.json())["results"]])
        if len(answers) == 1:
            await route.abort("connectionreset")
        else:
            await route.fulfill(response=response)

    await page.context.route("**/api/sync/push", lose_the_first_answer)
    await page.context.set_offline(False)
    await delivered(page, 5)
    # After the cut the batch is halved (5 → 2), then grows by half (→ 3).
    assert answers == [["stored"] * 5, ["already_stored"] * 2, ["already_stored"] * 3]


@pytest.fixture
def own_server(settings: Settings, data_dir: Path) -> Iterator[dict[str, Any]]:
    """A server of this test's own, on a port it keeps across restarts."""
    env = {
        "HOMEWARD_DATA_DIR": str(data_dir),
        "HOMEWARD_DATABASE_URL": settings.database_url,
        "HOMEWARD_SECRET_KEY": "test-secret-key-not-for-production",
    }
    port = live.free_port()
    running = {"server": live.start(env, port=port), "env": env, "port": port}
    yield running
    running["server"].stop()


async def test_the_server_killed_during_a_big_sync(
    own_server: dict[str, Any], app: Starlette, tmp_path: Path
) -> None:
    server: LiveServer = own_server["server"]
    world = await ob.caseload(size=1)
    async with phone(tmp_path / "profile", server.url) as (context, page):
        await ob.sign_in(context, server.url, world.worker)
        await ob.install(page)
        await context.set_offline(True)
        await ob.save_many(page, 300, world.participants[0])
        pushes = 0
        restarted = asyncio.Event()

        async def kill_during_the_second_batch(route: Route) -> None:
            nonlocal pushes
            pushes += 1
            await route.continue_()
            if pushes == 2:
                server.process.kill()  # SIGKILL while it works on the batch
                await asyncio.to_thread(server.process.wait)
                own_server["server"] = await asyncio.to_thread(
                    live.start, own_server["env"], port=own_server["port"]
                )
                restarted.set()

        await context.route("**/api/sync/push", kill_during_the_second_batch)
        await context.set_offline(False)
        await restarted.wait()
        # The network "comes back": the phone tries at once instead of waiting.
        await context.set_offline(True)
        await context.set_offline(False)
        await delivered(page, 300)


async def test_signed_out_keeps_everything_and_asks_for_a_sign_in(
    page: Any, live_server: LiveServer
) -> None:
    world = await ob.caseload(size=1)
    await ob.sign_in(page.context, live_server.url, world.worker)
    await ob.install(page)
    await page.context.set_offline(True)
    await ob.save_many(page, 3, world.participants[0])
    await ob.sign_out(page.context)  # the session ended while the phone was offline
    await page.context.set_offline(False)
    await page.locator("[data-notice=signin] a[href='/signin']").wait_for()
    assert await ob.outbox_size(page) == 3
    assert await SessionLog.all().count() == 0

    await ob.sign_in(page.context, live_server.url, world.worker)
    await page.goto("/")
    await ob.ready(page)
    await delivered(page, 3)
    assert await page.locator("[data-notice=signin]").count() == 0
