"""Malformed and hostile requests: each gets a clear 4xx and changes nothing."""

import html
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.accounts.models import Invitation
from server.forms.common import NOTES_MAX_LENGTH
from server.participants.models import Participant
from server.sessions.models import SessionLog, SessionLogRevision
from server.sync.models import Conflict
from tests.support.web import ORIGIN, signed_in
from tests.test_sync import Phone, setting, values

PUSH = "/api/sync/push"


async def counts() -> dict[str, int]:
    return {
        "session_log": await SessionLog.all().count(),
        "revision": await SessionLogRevision.all().count(),
        "conflict": await Conflict.all().count(),
        "participant": await Participant.all().count(),
    }


@pytest.fixture
async def phone(app: Starlette) -> AsyncIterator[tuple[Phone, str]]:
    """A signed-in worker's phone and the id of a participant in their caseload."""
    _, _, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        device = Phone(client, worker.id)
        await device.start()
        yield device, str(participant.id)


def headers(phone: Phone, content_type: str = "application/json") -> dict[str, str]:
    return {
        "origin": ORIGIN,
        "x-csrf-token": phone.token,
        "content-type": content_type,
        "accept": "application/json",
    }


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def raw_push(phone: Phone, body: Any, content_type: str = "application/json") -> Any:
    return await phone.client.post(PUSH, content=body, headers=headers(phone, content_type))


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        pytest.param(b'{"records": ["\xff\xfe"]}', "application/json", 422, id="invalid-utf8"),
        pytest.param(b'{"records": []}', "text/plain", 415, id="text-plain"),
        pytest.param(b"records=1", "application/x-www-form-urlencoded", 415, id="form-body"),
        pytest.param(b"", "application/json", 422, id="empty"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "application/json", 422, id="deep-json"),
        pytest.param(b'{"records": ' * 50_000, "application/json", 422, id="deep-unclosed"),
        pytest.param(b"NaN", "application/json", 422, id="not-an-object"),
    ],
)
async def test_broken_bodies_get_a_clear_4xx(
    phone: tuple[Phone, str], body: bytes, content_type: str, status: int
) -> None:
    device, _ = phone
    before = await counts()
    response = await raw_push(device, body, content_type)
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) == {"code", "message"}
    assert await counts() == before


async def test_duplicate_keys_are_refused_not_guessed(phone: tuple[Phone, str]) -> None:
    # With two "records", which one a parser keeps is an accident of the
    # parser: a proxy or a log reader may see the other. Refuse instead.
    device, pid = phone
    entry = device.entry(str(uuid.uuid4()), values(pid))
    body = '{"records": [], "records": [' + json.dumps(entry) + "]}"
    before = await counts()
    response = await raw_push(device, body.encode())
    assert response.status_code == 422, response.text
    assert await counts() == before


async def test_bodies_over_the_limit_are_refused(app: Starlette, phone: tuple[Phone, str]) -> None:
    device, _ = phone
    limit = app.state.settings.max_body_bytes
    huge = b'{"records": ["' + b"x" * limit + b'"]}'
    before = await counts()
    declared = await raw_push(device, huge)
    assert declared.status_code == 413 and error_code(declared) == "too_large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(huge), 65536):
            yield huge[start : start + 65536]

    streamed = await raw_push(device, chunks())
    assert streamed.status_code == 413 and error_code(streamed) == "too_large"
    assert await counts() == before


async def test_a_date_that_does_not_exist_is_rejected(phone: tuple[Phone, str]) -> None:
    device, pid = phone
    before = await counts()
    response = await device.push(
        [device.entry(str(uuid.uuid4()), values(pid, occurred_on="2024-02-30"))]
    )
    result = response.json()["results"][0]
    assert result["status"] == "rejected" and result["code"] == "invalid"
    assert "occurred_on" in result["errors"]
    assert await counts() == before


async def test_notes_up_to_the_limit_and_not_one_character_more(phone: tuple[Phone, str]) -> None:
    device, pid = phone
    at_limit, over = str(uuid.uuid4()), str(uuid.uuid4())
    response = await device.push(
        [
            device.entry(at_limit, values(pid, notes="ж" * NOTES_MAX_LENGTH)),
            device.entry(over, values(pid, notes="ж" * (NOTES_MAX_LENGTH + 1))),
        ]
    )
    first, second = response.json()["results"]
    assert first["status"] == "stored"
    assert second["status"] == "rejected" and "notes" in second["errors"]
    assert len((await SessionLog.get(id=at_limit)).notes) == NOTES_MAX_LENGTH
    assert not await SessionLog.exists(id=over)


async def test_direction_overrides_are_kept_and_shown_isolated_and_escaped(
    phone: tuple[Phone, str],
) -> None:
    device, pid = phone
    notes = "Paid \u202eRLO\u202c then \u202dLRO\u202c \u2067iso\u2069 <b>bold</b> عربي"
    log_id = str(uuid.uuid4())
    response = await device.push([device.entry(log_id, values(pid, notes=notes))])
    assert response.json()["results"][0]["status"] == "stored"
    assert (await SessionLog.get(id=log_id)).notes == notes
    page = (await device.client.get(f"/sessions/{log_id}")).text
    shown = html.escape(notes, quote=False)
    assert re.search(r"<bdi>" + re.escape(shown) + r"</bdi>", page.replace("&#39;", "'"))
    assert "<b>bold</b>" not in page


async def test_nul_bytes_in_text_fields_are_refused(phone: tuple[Phone, str]) -> None:
    device, pid = phone
    before = await counts()
    response = await device.push([device.entry(str(uuid.uuid4()), values(pid, notes="a\x00b"))])
    result = response.json()["results"][0]
    assert result["status"] == "rejected" and "notes" in result["errors"]
    assert await counts() == before


async def test_nul_bytes_never_reach_the_database(phone: tuple[Phone, str]) -> None:
    device, pid = phone
    log_id = str(uuid.uuid4())
    response = await device.push(
        [device.entry(log_id, values(pid, notes="a\x00b", place="Office\x00"))]
    )
    assert response.status_code == 200
    stored = await SessionLog.get_or_none(id=log_id)
    assert stored is None or "\x00" not in stored.notes + stored.place


async def test_form_posts_with_invalid_utf8_are_refused(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        page = await client.get(f"/log/{participant.id}/family")
        token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
        before = await counts()
        action = f"/log/{participant.id}/family?log={uuid.uuid4()}"
        for body in (
            b"csrf_token=" + token.encode() + b"&form_version=1&notes=%FF%FE%00",
            b"csrf_token=" + token.encode() + b"&form_version=1&notes=\xff\xfe",
        ):
            response = await client.post(
                action,
                content=body,
                headers={"origin": ORIGIN, "content-type": "application/x-www-form-urlencoded"},
            )
            assert response.status_code in (400, 422), response.status_code
        assert await counts() == before


@pytest.mark.parametrize(
    ("zone", "clock", "accepted", "refused", "stored_utc"),
    [
        # UTC+14: the worker's day starts ten hours before the UTC day does.
        (
            "Pacific/Kiritimati",
            datetime(2026, 3, 10, 11, 5, tzinfo=UTC),  # 01:05 on 11 March there
            ("2026-03-10", "23:59"),
            ("2026-03-11", "23:59"),
            datetime(2026, 3, 10, 9, 59, tzinfo=UTC),
        ),
        # UTC-11: the worker is still on the day before... until 11:00 UTC.
        (
            "Pacific/Pago_Pago",
            datetime(2026, 3, 10, 11, 5, tzinfo=UTC),  # 00:05 on 10 March there
            ("2026-03-09", "23:59"),
            ("2026-03-10", "23:59"),
            datetime(2026, 3, 10, 10, 59, tzinfo=UTC),
        ),
    ],
)
async def test_sessions_at_the_edge_of_the_day_in_extreme_time_zones(
    app: Starlette,
    zone: str,
    clock: datetime,
    accepted: tuple[str, str],
    refused: tuple[str, str],
    stored_utc: datetime,
) -> None:
    _, _, worker, participant = await setting(app)
    worker.time_zone = zone
    await worker.save()
    app.state.clock = lambda: clock
    async with await signed_in(app, worker) as client:
        device = Phone(client, worker.id)
        await device.start()
        pid = str(participant.id)
        good, late = str(uuid.uuid4()), str(uuid.uuid4())
        response = await device.push(
            [
                device.entry(good, values(pid, occurred_on=accepted[0], occurred_time=accepted[1])),
                device.entry(late, values(pid, occurred_on=refused[0], occurred_time=refused[1])),
            ]
        )
    first, second = response.json()["results"]
    assert first["status"] == "stored", first
    assert second["status"] == "rejected" and second["code"] == "invalid", second
    assert (await SessionLog.get(id=good)).occurred_at == stored_utc
    assert not await SessionLog.exists(id=late)


async def test_sealed_content_that_is_not_a_plain_object_is_unreadable(
    phone: tuple[Phone, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A signed-in author can seal anything; what is inside gets no more trust.
    device, pid = phone
    inside = {
        "deep": "[" * 100_000 + "]" * 100_000,
        "not-an-object": "[1, 2]",
        "not-json": "records?",
    }
    before = await counts()
    for plain in inside.values():
        monkeypatch.setattr("tests.support.sealing.json.dumps", lambda _content, p=plain: p)
        entry = device.entry(str(uuid.uuid4()), values(pid))
        monkeypatch.undo()
        response = await device.push([entry])
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["code"] in ("unreadable", "malformed")
    assert await counts() == before


FREE_TEXT_POSTS = {
    "participant": (
        "/participants/new",
        {"full_name": "Name\x00", "gender": "female", "language": "en", "consent_given": "no"},
    ),
    "invitation": ("/invitations", {"role": "worker", "name": "New\x00Person", "language": "en"}),
    "review": ("/sessions/{log}/review", {"comment": "ok\x00"}),
}


@pytest.mark.parametrize("case", sorted(FREE_TEXT_POSTS))
async def test_nul_bytes_in_other_free_text_never_fail_or_get_stored(
    app: Starlette, case: str
) -> None:
    _, officer, worker, participant = await setting(app)
    log_id = str(uuid.uuid4())
    async with await signed_in(app, worker) as client:
        device = Phone(client, worker.id)
        await device.start()
        await device.push([device.entry(log_id, values(str(participant.id)))])
    path, form = FREE_TEXT_POSTS[case]
    async with await signed_in(app, officer) as client:
        page = await client.get("/participants/new")
        token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
        before = await counts()
        response = await client.post(
            path.format(log=log_id), data={**form, "csrf_token": token}, headers={"origin": ORIGIN}
        )
    assert response.status_code < 500, response.status_code
    if response.status_code >= 400:
        assert await counts() == before
    # Checked in Python: SQLite's LIKE stops at a NUL, so a database-side
    # "contains" would match every row.
    assert not any("\x00" in p.full_name for p in await Participant.all())
    assert not any("\x00" in log.review_comment for log in await SessionLog.all())
    assert not any("\x00" in i.name for i in await Invitation.all())
