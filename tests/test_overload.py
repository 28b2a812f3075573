"""A server past its budget answers 503 with Retry-After at once, and pages
keep their own budget (server/web/admission.py, docs/sync.md)."""

import asyncio
import dataclasses
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.audit.models import AuditEvent
from server.enums import Role
from server.sessions.models import SessionLog
from server.settings import Settings
from server.sync import services
from server.web.admission import AdmissionMiddleware, Lane
from tests.conftest import _empty_tables
from tests.support import world
from tests.support.web import signed_in
from tests.test_sync import Phone, values

BUSY_FR = "Le service est indisponible pour le moment. Veuillez réessayer plus tard."


@pytest.fixture
async def small_app(settings: Settings) -> AsyncIterator[Starlette]:
    """The real app with room for one sync request and one waiting behind it."""
    tight = dataclasses.replace(
        settings, sync_concurrency=1, sync_queue=1, queue_seconds=30.0, busy_retry_after=7
    )
    application = create_app(tight)
    async with application.router.lifespan_context(application):
        await _empty_tables()
        yield application


class Held:
    """Pulls that stop inside the server until released: a busy server, on cue."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = asyncio.Queue[None]()
        self.release = asyncio.Event()
        real: Callable[..., Awaitable[dict[str, Any]]] = services.pull

        async def held_pull(**kwargs: Any) -> dict[str, Any]:
            self.entered.put_nowait(None)
            await self.release.wait()
            return await real(**kwargs)

        monkeypatch.setattr(services, "pull", held_pull)


class Watched(deque[Any]):
    """The sync queue, telling the test when a request joins it."""

    def __init__(self) -> None:
        super().__init__()
        self.joined = asyncio.Event()

    def append(self, item: Any) -> None:
        super().append(item)
        self.joined.set()


def watch_queue(app: Starlette) -> Watched:
    """Watch the (empty) sync queue of ``app``'s admission control."""
    node: Any = app.middleware_stack
    while not isinstance(node, AdmissionMiddleware):
        node = node.app
    assert not node.sync.waiters
    node.sync.waiters = Watched()
    watched: Watched = node.sync.waiters
    return watched


async def _worker(app: Starlette) -> tuple[Any, str]:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER, language="fr")
    participant = await world.participant(org, officer)
    await participant.workers.add(worker)
    return worker, str(participant.id)


async def test_past_the_queue_a_push_gets_503_at_once_and_nothing_is_written(
    small_app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker, pid = await _worker(small_app)
    held = Held(monkeypatch)
    async with await signed_in(small_app, worker) as client:
        client.cookies.set("homeward_lang", "fr")  # set at sign-in: the account's language
        phone = Phone(client, worker.id)
        await phone.start()
        running = asyncio.create_task(client.get("/api/sync/pull?since=0"))
        await held.entered.get()  # one inside, held there
        queue = watch_queue(small_app)
        waiting = asyncio.create_task(client.get("/api/sync/pull?since=0"))
        await queue.joined.wait()
        record_id = str(uuid.uuid4())
        events_before = await AuditEvent.all().count()

        # Both places are taken: the push is refused while they are still held.
        refused = await asyncio.wait_for(phone.push([phone.entry(record_id, values(pid))]), 5)

        assert not running.done() and not waiting.done()
        assert refused.status_code == 503
        assert 7 <= int(refused.headers["retry-after"]) <= 14
        assert refused.json() == {"error": {"code": "busy", "message": BUSY_FR}}
        assert refused.headers["content-language"] == "fr"
        assert await SessionLog.filter(id=record_id).count() == 0
        assert await AuditEvent.all().count() == events_before

        held.release.set()
        assert (await running).status_code == 200
        assert (await waiting).status_code == 200
        # Once the crowd has passed, the same push goes through.
        again = await phone.push([phone.entry(record_id, values(pid))])
        assert again.status_code == 200
        assert again.json()["results"][0]["status"] == "stored"


async def test_a_page_answers_while_phones_fill_the_sync_budget(
    small_app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker, _pid = await _worker(small_app)
    held = Held(monkeypatch)
    async with await signed_in(small_app, worker) as client:
        running = asyncio.create_task(client.get("/api/sync/pull?since=0"))
        await held.entered.get()
        queue = watch_queue(small_app)
        waiting = asyncio.create_task(client.get("/api/sync/pull?since=0"))
        await queue.joined.wait()
        refused = await client.get("/api/sync/pull?since=0")
        assert refused.status_code == 503

        home = await asyncio.wait_for(client.get("/"), 10)

        assert home.status_code == 200
        assert not running.done()
        held.release.set()
        assert (await running).status_code == 200
        assert (await waiting).status_code == 200


async def test_a_request_that_waits_past_the_queue_time_is_turned_away(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tight = dataclasses.replace(settings, sync_concurrency=1, sync_queue=5, queue_seconds=0.05)
    application = create_app(tight)
    async with application.router.lifespan_context(application):
        await _empty_tables()
        worker, _pid = await _worker(application)
        held = Held(monkeypatch)
        async with await signed_in(application, worker) as client:
            running = asyncio.create_task(client.get("/api/sync/pull?since=0"))
            await held.entered.get()

            late = await asyncio.wait_for(client.get("/api/sync/pull?since=0"), 5)

            assert late.status_code == 503
            assert late.json()["error"]["code"] == "busy"
            assert int(late.headers["retry-after"]) >= 5
            held.release.set()
            assert (await running).status_code == 200


async def test_places_go_in_order_and_a_waiter_that_gives_up_frees_its_place() -> None:
    lane = Lane(limit=1, queue=2, wait=30.0)
    order: list[str] = []
    assert await lane.enter()

    async def visit(name: str) -> None:
        assert await lane.enter()
        order.append(name)
        lane.leave()

    first = asyncio.create_task(visit("first"))
    quitter = asyncio.create_task(lane.enter())
    await asyncio.sleep(0)  # both park in the queue (nothing else to await)
    assert len(lane.waiters) == 2
    assert not await lane.enter()  # the queue is full: refused at once
    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    assert len(lane.waiters) == 1
    second = asyncio.create_task(visit("second"))
    await asyncio.sleep(0)
    lane.leave()
    await asyncio.gather(first, second)
    assert order == ["first", "second"]
    assert lane.active == 0 and not lane.waiters


async def test_a_page_past_its_own_budget_gets_a_translated_503_page(settings: Settings) -> None:
    closed = dataclasses.replace(settings, page_concurrency=0, page_queue=0, busy_retry_after=3)
    application = create_app(closed)
    async with application.router.lifespan_context(application):
        await _empty_tables()
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as http:
            page = await http.get("/", headers={"accept-language": "fr"})
            static = await http.get("/healthz")

    assert page.status_code == 503
    assert 3 <= int(page.headers["retry-after"]) <= 6
    assert page.headers["content-type"].startswith("text/html")
    assert BUSY_FR in page.text
    assert "Content-Security-Policy" in page.headers  # still under the security headers
    assert static.status_code == 200  # never queued
