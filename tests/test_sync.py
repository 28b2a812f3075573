import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.enums import Role
from server.sessions.models import SessionLog
from server.sync.models import Conflict
from tests.support import world
from tests.support.sealing import family_values, session_log_entry
from tests.support.web import ORIGIN, csrf_token, signed_in

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()


def values(participant_id: str, **overrides: Any) -> dict[str, Any]:
    return family_values(participant_id, **{"occurred_on": YESTERDAY, **overrides})


class Phone:
    """A phone's sync client, reduced to what the protocol needs."""

    def __init__(self, client: httpx.AsyncClient, user_id: int) -> None:
        self.client = client
        self.user_id = user_id
        self.key: dict[str, str] = {}
        self.token = ""

    async def start(self) -> None:
        self.token = await csrf_token(self.client)
        self.key = (await self.client.get("/api/sync/key")).json()

    def entry(
        self, record_id: str, content_values: dict[str, Any], **content: Any
    ) -> dict[str, Any]:
        return session_log_entry(
            author=content.pop("author", self.user_id),
            values=content_values,
            key=self.key,
            record_id=record_id,
            **content,
        )

    async def push(self, entries: list[dict[str, Any]]) -> httpx.Response:
        return await self.client.post(
            "/api/sync/push",
            json={"records": entries},
            headers={"origin": ORIGIN, "x-csrf-token": self.token},
        )


async def setting(app: Starlette):  # type: ignore[no-untyped-def]
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER, language="fr")
    participant = await world.participant(org, officer)
    await participant.workers.add(worker)
    return org, officer, worker, participant


async def test_push_answers_per_record(app: Starlette) -> None:
    org, officer, worker, participant = await setting(app)
    stranger = await world.participant(org, officer)
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        good, again, other = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        pid = str(participant.id)
        entries = [
            phone.entry(good, values(pid)),
            phone.entry(again, values(pid, duration_minutes=5000)),
            phone.entry(other, values(str(stranger.id))),
            {**phone.entry(str(uuid.uuid4()), values(pid)), "sealed": {"kid": "nope"}},
            phone.entry(str(uuid.uuid4()), values(pid), author=worker.id + 1000),
        ]
        response = await phone.push(entries)
        assert response.status_code == 200
        results = response.json()["results"]
        assert [r["status"] for r in results] == ["stored"] + ["rejected"] * 4
        assert [r.get("code") for r in results[1:]] == [
            "invalid",
            "not_allowed",
            "unreadable",
            "not_author",
        ]
        assert "duration_minutes" in results[1]["errors"]
        assert results[1]["message"].startswith("Certaines")  # the worker reads French
        # Sent again: already stored, nothing doubled.
        repeat = await phone.push(entries[:1])
        assert repeat.json()["results"][0]["status"] == "already_stored"
        changed = await phone.push([phone.entry(good, values(pid, notes="changed"))])
        assert changed.json()["results"][0]["status"] == "conflict"
    assert await SessionLog.all().count() == 1
    assert (await SessionLog.get(id=good)).notes == ""
    assert await Conflict.filter(record_id=good).count() == 1


async def test_a_sealed_body_cannot_be_moved_to_another_id(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        entry = phone.entry(str(uuid.uuid4()), values(str(participant.id)))
        moved = {**entry, "id": str(uuid.uuid4())}
        result = (await phone.push([moved])).json()["results"][0]
        assert result["status"] == "rejected" and result["code"] == "unreadable"


async def test_batches_are_bounded(app: Starlette) -> None:
    _, _, worker, _ = await setting(app)
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        response = await phone.push([{"id": str(uuid.uuid4())}] * 101)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "batch_too_large"
        not_a_list = await client.post(
            "/api/sync/push",
            json={"records": "x"},
            headers={"origin": ORIGIN, "x-csrf-token": phone.token},
        )
        assert not_a_list.status_code == 422


async def test_families_cannot_push_session_logs_and_admins_cannot_sync(app: Starlette) -> None:
    org, _, _, participant = await setting(app)
    family = await world.user(org, Role.FAMILY)
    await participant.family.add(family)
    async with await signed_in(app, family) as client:
        phone = Phone(client, family.id)
        await phone.start()
        result = await phone.push([phone.entry(str(uuid.uuid4()), values(str(participant.id)))])
        assert result.json()["results"][0]["code"] == "not_allowed"
    admin = await world.user(org, Role.ADMIN)
    async with await signed_in(app, admin) as client:
        assert (await client.get("/api/sync/key")).status_code == 404
    assert await SessionLog.all().count() == 0


async def test_pull_lists_caseload_and_removes_lost_access(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        first = (await client.get("/api/sync/pull?since=0")).json()
        assert [p["code"] for p in first["participants"]] == [participant.code]
        assert "full_name" not in str(first["participants"])
        assert "forms" in first
        again = (
            await client.get(f"/api/sync/pull?since={first['cursor']}&forms={first['forms_hash']}")
        ).json()
        assert "forms" not in again
        await participant.workers.remove(worker)
        after = (await client.get(f"/api/sync/pull?since={first['cursor']}")).json()
        assert after["participants"] == []


@pytest.mark.parametrize("devices", [100])
async def test_many_devices_with_retransmissions_store_exactly_once(
    app: Starlette, devices: int
) -> None:
    org, _, _, participant = await setting(app)
    phones: list[Phone] = []
    for _ in range(devices):
        worker = await world.user(org, Role.WORKER)
        await participant.workers.add(worker)
        client = await signed_in(app, worker)
        phone = Phone(client, worker.id)
        await phone.start()
        phones.append(phone)
    pid = str(participant.id)
    batches = [[phone.entry(str(uuid.uuid4()), values(pid)) for _ in range(3)] for phone in phones]

    async def device(phone: Phone, batch: list[dict[str, Any]]) -> None:
        # Each batch goes out twice (a lost acknowledgement), then a third
        # time in reverse order: every answer must be a success.
        for entries in (batch, batch, list(reversed(batch))):
            response = await phone.push(entries)
            assert response.status_code == 200
            assert {r["status"] for r in response.json()["results"]} <= {"stored", "already_stored"}

    await asyncio.gather(*(device(p, b) for p, b in zip(phones, batches, strict=True)))
    for phone in phones:
        await phone.client.aclose()
    assert await SessionLog.all().count() == devices * 3
    assert await Conflict.all().count() == 0


async def test_no_new_log_once_consent_is_withdrawn(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    participant.consent_given = False
    await participant.save()
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        result = await phone.push([phone.entry(str(uuid.uuid4()), values(str(participant.id)))])
        answer = result.json()["results"][0]
        assert answer["code"] == "no_consent"
        assert "consentement" in answer["message"]  # the worker reads French
    assert await SessionLog.all().count() == 0


async def test_withdrawn_consent_takes_the_participant_off_the_phone(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        before = (await client.get("/api/sync/pull")).json()["participants"]
        participant.consent_given = False
        await participant.save()
        after = (await client.get("/api/sync/pull")).json()["participants"]
    assert [p["code"] for p in before] == [participant.code] and after == []
