"""Passkeys and the sessions they open; the limits on sign-in and sync
(issue 14, item 10, and survivors of issue 15's mutation run)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from limits import parse
from limits.aio.storage import memory as limits_memory
from starlette.applications import Starlette

from server import ratelimit
from server.accounts.models import Invitation, LoginSession, Passkey, User
from server.enums import Role
from server.sessions.models import SessionLog
from tests.support import world
from tests.support.authenticator import SoftAuthenticator
from tests.support.web import ORIGIN, enrol, post_form, post_json, signed_in, signin
from tests.test_sync import Phone, setting, values


def other_client(client: httpx.AsyncClient) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=client._transport, base_url=ORIGIN)


async def test_removing_a_passkey_ends_the_sessions_it_opened(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    org = await world.organisation()
    phone = SoftAuthenticator(origin=ORIGIN)
    token = await world.invitation_token(org, Role.WORKER, name="Aigerim Worker")
    assert (await enrol(client, phone, token)).status_code == 200  # session 1, phone's passkey
    options = await post_json(client, "/api/account/passkeys/options")
    tablet = SoftAuthenticator(origin=ORIGIN)
    added = await post_json(
        client,
        "/api/account/passkeys/verify",
        {"credential": tablet.create(options.json()), "name": "tablet"},
    )
    assert added.status_code == 200, added.text
    first, second = await Passkey.all().order_by("id")
    async with other_client(client) as on_tablet, other_client(client) as on_phone_again:
        assert (await signin(on_tablet, tablet)).status_code == 200  # session 2, tablet
        assert (await signin(on_phone_again, phone)).status_code == 200  # session 3, phone
        assert await LoginSession.all().count() == 3
        # On the tablet, the person removes the phone's passkey (a lost phone).
        removed = await post_form(on_tablet, f"/account/passkeys/{first.id}/remove", {})
        assert removed.status_code == 303
        assert (await client.get("/account")).status_code == 303  # ended
        assert (await on_phone_again.get("/account")).status_code == 303  # ended
        assert (await on_tablet.get("/account")).status_code == 200  # kept
    assert [s.passkey_id for s in await LoginSession.all()] == [second.id]


async def test_a_disabled_users_live_session_is_refused(app: Starlette) -> None:
    """Disabled by any means (here straight in the database, as a script or a
    second app server would): the next request is signed out."""
    org = await world.organisation()
    worker = await world.user(org, Role.WORKER)
    async with await signed_in(app, worker) as client:
        assert (await client.get("/account")).status_code == 200
        await User.filter(id=worker.id).update(is_active=False)
        assert (await client.get("/account")).status_code == 303
        assert (
            await client.get("/api/me", headers={"accept": "application/json"})
        ).status_code == 401
    assert await LoginSession.all().count() == 0


async def test_the_sign_in_limit_counts_per_account(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    org = await world.organisation()
    first, second = SoftAuthenticator(origin=ORIGIN), SoftAuthenticator(origin=ORIGIN)
    for key, name in ((first, "First Person"), (second, "Second Person")):
        async with other_client(client) as enrolling:
            token = await world.invitation_token(org, Role.WORKER, name=name)
            assert (await enrol(enrolling, key, token)).status_code == 200
    # Ten failed attempts on the first account (no user verification)...
    statuses = []
    for _ in range(10):
        options = await post_json(client, "/api/auth/signin/options")
        assertion = first.get(options.json(), verified=False)
        response = await post_json(client, "/api/auth/signin/verify", {"credential": assertion})
        statuses.append(response.status_code)
    assert statuses == [400] * 10
    # ...and the eleventh, even a good one, waits.
    options = await post_json(client, "/api/auth/signin/options")
    response = await post_json(
        client, "/api/auth/signin/verify", {"credential": first.get(options.json())}
    )
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    # The other account, from the same place, is not held back.
    assert (await signin(client, second)).status_code == 200


async def test_enrolment_requires_user_verification(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER, name="Unverified Person")
    options = await post_json(client, f"/api/auth/enrol/{token}/options")
    credential = SoftAuthenticator(origin=ORIGIN).create(options.json(), verified=False)
    response = await post_json(
        client, f"/api/auth/enrol/{token}/verify", {"credential": credential, "language": "en"}
    )
    assert response.status_code == 400
    assert await User.filter(name="Unverified Person").count() == 0
    assert (await Invitation.get(name="Unverified Person")).used_at is None


SYNC_LIMIT = 200  # requests per sign-in session (one phone) per minute
ACCOUNT_SYNC_LIMIT = 1000  # requests per account (all of its phones) per minute


class FrozenClock:
    """``time`` for the rate limiter, standing still: the drain below takes
    longer than the one-minute window on a slow machine, and the test is
    about the count within one window, not about the machine's speed."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


async def test_a_phone_drains_1000_entries_then_the_sync_limit_answers_429(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FrozenClock()
    monkeypatch.setattr(limits_memory, "time", clock)
    monkeypatch.setattr(ratelimit, "time", clock)
    _, _, worker, participant = await setting(app)  # the worker reads French
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        statuses = []
        for _ in range(50):
            batch = [phone.entry(str(uuid.uuid4()), values(str(participant.id))) for _ in range(20)]
            pushed = await phone.push(batch)
            statuses.append(pushed.status_code)
            assert {r["status"] for r in pushed.json()["results"]} == {"stored"}
            statuses.append((await client.get("/api/sync/pull?since=0")).status_code)
        assert statuses == [200] * 100
        assert await SessionLog.filter(author=worker).count() == 1000
        # The same phone keeps going: the limit is per phone, per minute.
        more = [(await client.get("/api/sync/pull?since=0")) for _ in range(SYNC_LIMIT - 100)]
        assert {r.status_code for r in more} == {200}
        refused = await client.get("/api/sync/pull?since=0")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["message"] == (
            "Trop de tentatives. Veuillez patienter un instant puis réessayer."
        )
        pushed = await phone.push([phone.entry(str(uuid.uuid4()), values(str(participant.id)))])
        assert pushed.status_code == 429
    # Another account is not affected.
    other = await world.user(await worker.organisation, Role.WORKER)
    async with await signed_in(app, other) as client:
        assert (await client.get("/api/sync/pull?since=0")).status_code == 200


async def test_a_workers_second_phone_is_not_refused_for_the_first(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two phones of one worker, each draining its own outbox: the first one
    spending its whole minute leaves the second one its own (the limit used
    to be per account, so the second phone met 429 for the first one's work)."""
    clock = FrozenClock()
    monkeypatch.setattr(limits_memory, "time", clock)
    monkeypatch.setattr(ratelimit, "time", clock)
    _, _, worker, _ = await setting(app)
    async with await signed_in(app, worker) as first:
        spent = [(await first.get("/api/sync/pull?since=0")).status_code for _ in range(200)]
        assert spent == [200] * 200
        assert (await first.get("/api/sync/pull?since=0")).status_code == 429
        async with await signed_in(app, worker) as second:
            answers = [(await second.get("/api/sync/pull?since=0")).status_code for _ in range(200)]
            assert answers == [200] * 200
            assert (await second.get("/api/sync/pull?since=0")).status_code == 429


async def test_the_account_as_a_whole_has_its_own_limit(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sign-in sessions are free to make: past 1,000 requests a minute across
    all of them the account is refused, whichever phone asks. The account's
    limit is lowered to 6 here so the test stays short; the figure itself is
    checked against the hand-written constant above."""
    assert (ratelimit.SYNC_PER_ACCOUNT.amount, ratelimit.SYNC_PER_SESSION.amount) == (
        ACCOUNT_SYNC_LIMIT,
        SYNC_LIMIT,
    )
    clock = FrozenClock()
    monkeypatch.setattr(limits_memory, "time", clock)
    monkeypatch.setattr(ratelimit, "time", clock)
    monkeypatch.setattr("server.sync.views.SYNC_PER_ACCOUNT", parse("6/minute"))
    _, _, worker, _ = await setting(app)
    statuses = []
    for _ in range(3):  # three phones, three requests each
        async with await signed_in(app, worker) as phone:
            statuses += [(await phone.get("/api/sync/pull?since=0")).status_code for _ in range(3)]
    assert statuses == [200] * 6 + [429] * 3
    other = await world.user(await worker.organisation, Role.WORKER)
    async with await signed_in(app, other) as client:
        assert (await client.get("/api/sync/pull?since=0")).status_code == 200
