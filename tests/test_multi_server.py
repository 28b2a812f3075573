"""Two app servers against one PostgreSQL database, as a national programme runs.

They share the data directory (secret key and sealing keys) and, for rate
limits, a Redis database. Nothing one server holds in memory may be needed
by the other: a sign-in made on one works on the other, and one outbox sent
through both at once is stored exactly once.
"""

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from starlette.applications import Starlette

from server.accounts.models import User
from server.enums import Role
from server.sessions.models import SessionLog
from server.sync.keys import KeyRing
from server.sync.models import Conflict
from tests.conftest import BACKEND
from tests.support import live, world
from tests.support.authenticator import SoftAuthenticator
from tests.support.sealing import seal
from tests.test_sync import values

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="several app servers need PostgreSQL (HOMEWARD_TEST_DB=postgres)"
)

# A Redis database of the test's own, emptied before and after: the app's key
# prefix is fixed, so a database number is what keeps us apart from others.
REDIS_URL = os.environ.get("HOMEWARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@dataclass
class Pair:
    first: live.LiveServer
    second: live.LiveServer


@pytest.fixture(scope="module")
def servers(database_url: str, data_dir: Path) -> Iterator[Pair]:
    # What `homeward migrate` does once before the servers start.
    KeyRing.load(data_dir / "sync-keys")
    env = {
        "HOMEWARD_DATA_DIR": str(data_dir),
        "HOMEWARD_DATABASE_URL": database_url,
        "HOMEWARD_SECRET_KEY": "test-secret-key-not-for-production",
        "HOMEWARD_REDIS_URL": REDIS_URL,
    }
    first = live.start(env)
    try:
        second = live.start(env)
    except RuntimeError:
        first.stop()
        raise
    yield Pair(first, second)
    second.stop()
    first.stop()


@pytest.fixture
async def shared_redis() -> AsyncIterator[None]:
    client = redis.Redis.from_url(REDIS_URL)
    await client.flushdb()
    yield
    await client.flushdb()
    await client.aclose()


class Browser:
    """One person's cookies, used against either server."""

    def __init__(self) -> None:
        self.http = httpx.AsyncClient(timeout=30)

    async def csrf(self, server: live.LiveServer) -> str:
        page = await self.http.get(f"{server.url}/")
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
        assert match, page.text[:500]
        return match.group(1)

    async def post(
        self, server: live.LiveServer, path: str, body: dict[str, Any], token: str = ""
    ) -> httpx.Response:
        return await self.http.post(
            f"{server.url}{path}",
            json=body,
            headers={
                "origin": server.url,
                "x-csrf-token": token or await self.csrf(server),
                "accept": "application/json",
            },
        )


async def sign_in(browser: Browser, server: live.LiveServer, token: str) -> None:
    authenticator = SoftAuthenticator(origin=server.url)
    options = await browser.post(server, f"/api/auth/enrol/{token}/options", {})
    assert options.status_code == 200, options.text
    credential = authenticator.create(options.json())
    enrolled = await browser.post(
        server,
        f"/api/auth/enrol/{token}/verify",
        {"credential": credential, "language": "en", "name": "phone"},
    )
    assert enrolled.status_code == 200, enrolled.text
    await browser.post(server, "/signout", {})
    options = await browser.post(server, "/api/auth/signin/options", {})
    assertion = authenticator.get(options.json())
    signed = await browser.post(server, "/api/auth/signin/verify", {"credential": assertion})
    assert signed.status_code == 200, signed.text


async def test_one_outbox_through_two_servers_is_stored_exactly_once(
    app: Starlette, servers: Pair, shared_redis: None
) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    participant = await world.participant(org, officer)
    token = await world.invitation_token(org, Role.WORKER, name="Worker On Two Servers")
    browser = Browser()
    await sign_in(browser, servers.first, token)
    worker = await User.get(name="Worker On Two Servers")
    await participant.workers.add(worker)

    # The same cookie, the other server: the session lives in the database.
    me = await browser.http.get(f"{servers.second.url}/api/me")
    assert me.status_code == 200 and me.json()["id"] == worker.id
    home = await browser.http.get(f"{servers.second.url}/")
    assert home.status_code == 200 and "Worker On Two Servers" in home.text
    keys = [
        (await browser.http.get(f"{s.url}/api/sync/key")).json()
        for s in (servers.first, servers.second)
    ]
    assert keys[0] == keys[1]  # one sealing key, shared through the data directory

    csrf = await browser.csrf(servers.second)
    assert csrf == await browser.csrf(servers.first)
    pid = str(participant.id)

    def entry(record_id: str) -> dict[str, Any]:
        content = {
            "author": worker.id,
            "pillar": "family",
            "form_version": 1,
            "values": values(pid),
            "appointment": None,
        }
        sealed = seal(content, record_id=record_id, kid=keys[0]["kid"], spki_b64=keys[0]["spki"])
        return {"id": record_id, "type": "session_log", "sealed": sealed}

    outbox = [entry(str(uuid.uuid4())) for _ in range(200)]
    halves = outbox[:100], outbox[100:]
    # Each half in batches of 20 through its server, and some of the other
    # half's entries again through this one (a phone that lost an answer
    # and retried on whichever server the balancer picked), all at once.
    sends: list[tuple[live.LiveServer, list[dict[str, Any]]]] = []
    for server, own, other in (
        (servers.first, halves[0], halves[1]),
        (servers.second, halves[1], halves[0]),
    ):
        sends += [(server, own[i : i + 20]) for i in range(0, 100, 20)]
        sends += [(server, other[::7]), (server, other[:10])]

    # Every answer is awaited before anything is asserted: a failure must not
    # leave requests running on the servers into the next test.
    responses = await asyncio.gather(
        *(
            browser.post(server, "/api/sync/push", {"records": batch}, csrf)
            for server, batch in sends
        )
    )
    await browser.http.aclose()
    assert [r.status_code for r in responses] == [200] * len(sends), [
        r.text for r in responses if r.status_code != 200
    ]
    answers = [[r["status"] for r in response.json()["results"]] for response in responses]
    assert {status for batch in answers for status in batch} <= {"stored", "already_stored"}
    assert sum(batch.count("stored") for batch in answers) == 200
    assert await SessionLog.filter(author=worker).count() == 200
    assert await Conflict.all().count() == 0


async def test_rate_limits_are_shared_through_redis(servers: Pair, shared_redis: None) -> None:
    browser = Browser()
    for n in range(30):
        server = servers.first if n % 2 else servers.second
        response = await browser.post(server, "/api/auth/signin/options", {})
        assert response.status_code == 200, (n, response.text)
    for server in (servers.first, servers.second):
        refused = await browser.post(server, "/api/auth/signin/options", {})
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
    await browser.http.aclose()


async def test_the_same_entry_on_both_servers_at_once_is_one_success_each(
    app: Starlette, servers: Pair
) -> None:
    # A retry that reaches the second server while the first is still
    # storing the original: both answers must be successes, one "stored".
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    participant = await world.participant(org, officer)
    token = await world.invitation_token(org, Role.WORKER, name="Worker Racing")
    browser = Browser()
    await sign_in(browser, servers.first, token)
    worker = await User.get(name="Worker Racing")
    await participant.workers.add(worker)
    key = (await browser.http.get(f"{servers.first.url}/api/sync/key")).json()
    csrf = await browser.csrf(servers.first)
    content = {
        "author": worker.id,
        "pillar": "family",
        "form_version": 1,
        "values": values(str(participant.id)),
        "appointment": None,
    }
    statuses = []
    for _ in range(20):
        record_id = str(uuid.uuid4())
        sealed = seal(content, record_id=record_id, kid=key["kid"], spki_b64=key["spki"])
        batch = [{"id": record_id, "type": "session_log", "sealed": sealed}]
        answers = await asyncio.gather(
            *(
                browser.post(server, "/api/sync/push", {"records": batch}, csrf)
                for server in (servers.first, servers.second)
            )
        )
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        statuses.append(sorted(a.json()["results"][0]["status"] for a in answers))
    await browser.http.aclose()
    assert all(pair == ["already_stored", "stored"] for pair in statuses), statuses
    assert await SessionLog.filter(author=worker).count() == 20
