"""Turning reminders on and off (issue 17, item 4): only a family member, for
their own phone; anything that is not a usable subscription is refused in
the family's language and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette

from server.audit.models import AuditEvent
from server.enums import Role
from server.errors import Invalid
from server.family import subscriptions
from server.family.models import PushSubscription, ReminderSent
from tests.support import world
from tests.support.web import post_json, signed_in
from tests.support.webpush import Phone, b64url

PUSH = "https://fcm.googleapis.com/fcm/send/abc123"
# The refusal as a Kazakh family member reads it.
REFUSED_KK = (
    "Еске салғыштарды қосу мүмкін болмады: бұл телефон пайдалануға жарамсыз деректер жіберді."
    " Қайталап көріңіз. Бұл көмектеспесе, күнтізбе сілтемесі сізге еске сала алады."
)


async def people() -> dict[str, Any]:
    org = await world.organisation("Home NGO")
    officer = await world.user(org, Role.OFFICER)
    participant = await world.participant(org, officer)
    relative = await world.user(org, Role.FAMILY, name="Aigerim", language="kk")
    other = await world.user(org, Role.FAMILY, name="Other Relative")
    await participant.family.add(relative)
    return {
        "relative": relative,
        "other": other,
        "worker": await world.user(org, Role.WORKER),
        "officer": officer,
        "admin": await world.user(org, Role.ADMIN),
    }


async def test_a_family_member_turns_reminders_on_and_off(app: Starlette) -> None:
    who = await people()
    phone = Phone(PUSH)
    async with await signed_in(app, who["relative"]) as client:
        key = await client.get("/api/family/reminders/key")
        assert key.status_code == 200 and len(key.json()["key"]) == 87  # 65 bytes, base64url
        on = await post_json(client, "/api/family/reminders", phone.subscription())
        assert on.status_code == 200
        again = await post_json(client, "/api/family/reminders", phone.subscription())
        assert again.status_code == 200
        stored = await PushSubscription.all()
        assert [(s.user_id, s.endpoint) for s in stored] == [(who["relative"].id, PUSH)]
        off = await post_json(client, "/api/family/reminders/off", {"endpoint": PUSH})
        assert off.status_code == 200
    assert await PushSubscription.all().count() == 0
    actions = await AuditEvent.filter(object_type="push_subscription").values_list(
        "action", flat=True
    )
    assert sorted(actions) == [
        "reminders.subscribed",
        "reminders.subscribed",
        "reminders.unsubscribed",
    ]


async def test_nobody_else_turns_off_a_family_members_reminders(app: Starlette) -> None:
    who = await people()
    async with await signed_in(app, who["relative"]) as client:
        assert (
            await post_json(client, "/api/family/reminders", Phone(PUSH).subscription())
        ).status_code == 200
    for name in ("other", "worker", "officer", "admin"):
        async with await signed_in(app, who[name]) as client:
            off = await post_json(client, "/api/family/reminders/off", {"endpoint": PUSH})
            assert off.status_code == 404, name
            on = await post_json(client, "/api/family/reminders", Phone(PUSH + "x").subscription())
            expected = 200 if name == "other" else 404
            assert on.status_code == expected, name
    assert await PushSubscription.filter(endpoint=PUSH).count() == 1
    denied = await AuditEvent.filter(action="access.denied").count()
    assert denied >= 4


async def test_nobody_signed_in_is_asked_to_sign_in(client: Any) -> None:
    answer = await post_json(client, "/api/family/reminders", Phone(PUSH).subscription())
    assert answer.status_code == 401
    assert await PushSubscription.all().count() == 0


def _bad_bodies() -> list[tuple[str, Any]]:
    good = Phone(PUSH).subscription()
    keys = good["keys"]
    not_on_curve = b"\x04" + b"\x01" * 64
    return [
        ("no keys", {"endpoint": PUSH}),
        ("keys not an object", {**good, "keys": "p256dh"}),
        ("no endpoint", {"keys": keys}),
        ("endpoint a number", {**good, "endpoint": 12}),
        ("plain http", {**good, "endpoint": "http://push.example.com/abc"}),
        ("javascript", {**good, "endpoint": "javascript:alert(1)"}),
        ("no host", {**good, "endpoint": "https:///abc"}),
        ("user in the URL", {**good, "endpoint": "https://me:pw@push.example.com/abc"}),
        ("bad port", {**good, "endpoint": "https://push.example.com:99999/abc"}),
        ("space", {**good, "endpoint": "https://push.example.com/a b"}),
        ("too long", {**good, "endpoint": "https://push.example.com/" + "a" * 1100}),
        ("an address of the server's network", {**good, "endpoint": "https://10.0.0.5/push"}),
        ("the server itself", {**good, "endpoint": "https://127.0.0.1:8000/api/sync/push"}),
        ("ipv6", {**good, "endpoint": "https://[::1]/push"}),
        ("a one-word name", {**good, "endpoint": "https://intranet/push"}),
        ("localhost over https", {**good, "endpoint": "https://localhost/push"}),
        ("not ascii", {**good, "endpoint": "https://push.example.com/ключ"}),
        ("short p256dh", {**good, "keys": {**keys, "p256dh": b64url(b"\x04" + b"\x01" * 30)}}),
        ("p256dh off the curve", {**good, "keys": {**keys, "p256dh": b64url(not_on_curve)}}),
        ("p256dh not base64", {**good, "keys": {**keys, "p256dh": "!" * 87}}),
        ("auth too short", {**good, "keys": {**keys, "auth": b64url(b"\x01" * 8)}}),
        ("auth too long", {**good, "keys": {**keys, "auth": b64url(b"\x01" * 32)}}),
        ("auth missing", {**good, "keys": {"p256dh": keys["p256dh"]}}),
    ]


@pytest.mark.parametrize(("case", "body"), _bad_bodies(), ids=[c for c, _ in _bad_bodies()])
async def test_a_bad_subscription_is_refused_in_the_familys_language(
    app: Starlette, case: str, body: Any
) -> None:
    who = await people()
    async with await signed_in(app, who["relative"]) as client:
        answer = await post_json(client, "/api/family/reminders", body)
    assert answer.status_code == 422, case
    assert answer.json()["error"]["message"] == REFUSED_KK
    assert await PushSubscription.all().count() == 0
    assert await ReminderSent.all().count() == 0


async def test_a_body_that_is_not_json_is_refused(app: Starlette) -> None:
    who = await people()
    async with await signed_in(app, who["relative"]) as client:
        token = (await client.get("/")).text.split('name="csrf-token" content="')[1].split('"')[0]
        answer = await client.post(
            "/api/family/reminders",
            content=b"{not json",
            headers={
                "origin": "http://localhost:8000",
                "x-csrf-token": token,
                "content-type": "application/json",
            },
        )
    assert answer.status_code == 422
    assert await PushSubscription.all().count() == 0


def test_http_push_endpoints_only_on_this_machine_and_only_when_the_app_is_on_http() -> None:
    local = Phone("http://127.0.0.1:8123/push/a").subscription()
    assert subscriptions.parse(local, allow_local_http=True).endpoint == local["endpoint"]
    with pytest.raises(Invalid):
        subscriptions.parse(local, allow_local_http=False)  # production: https only
    elsewhere = Phone("http://10.0.0.5/push/a").subscription()
    with pytest.raises(Invalid):
        subscriptions.parse(elsewhere, allow_local_http=True)
    assert subscriptions.parse(Phone(PUSH).subscription(), allow_local_http=False).endpoint == PUSH


async def test_a_family_member_keeps_at_most_ten_phones(app: Starlette) -> None:
    who = await people()
    async with await signed_in(app, who["relative"]) as client:
        for number in range(12):
            phone = Phone(f"https://fcm.googleapis.com/fcm/send/phone-{number}")
            assert (
                await post_json(client, "/api/family/reminders", phone.subscription())
            ).is_success
    kept = await PushSubscription.all().order_by("id").values_list("endpoint", flat=True)
    assert kept == [f"https://fcm.googleapis.com/fcm/send/phone-{n}" for n in range(2, 12)]


async def test_turning_reminders_on_needs_our_origin_and_the_csrf_token(app: Starlette) -> None:
    who = await people()
    async with await signed_in(app, who["relative"]) as client:
        body = Phone(PUSH).subscription()
        no_token = await client.post(
            "/api/family/reminders", json=body, headers={"origin": "http://localhost:8000"}
        )
        token = (await client.get("/")).text.split('name="csrf-token" content="')[1].split('"')[0]
        other_site = await client.post(
            "/api/family/reminders",
            json=body,
            headers={"origin": "https://evil.example", "x-csrf-token": token},
        )
    assert (no_token.status_code, other_site.status_code) == (403, 403)
    assert await PushSubscription.all().count() == 0
