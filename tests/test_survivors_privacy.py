"""What reaches a worker's phone carries no name, note or place it does not need.

Asserted on values: canary strings are seeded into every personal field a
pull could leak (the participant's full name and birth date, a session
log's notes and place, a plan goal, a family's message, the place of an
appointment the worker takes no part in), then the pulled JSON and the
pages the phone caches (the offline shell, its messages, its manifest,
``/api/me``) are searched for them as text. Written after a mutant that sent
full names to phones survived a test that looked only for a key name.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette
from tortoise.transactions import in_transaction

from server.appointments.models import Appointment
from server.enums import Pillar, Role
from server.participants.models import Participant, PlanGoal
from server.sessions.models import SessionLog
from server.sync.sequence import next_seq
from tests.support import world
from tests.support.web import signed_in
from tests.test_sync import Phone, values

NAME = "Zhanibek Canaryname-Qx7"
NAME_CYRILLIC = "Жанибек Канареечный"
BIRTH = "1971-03-14"
NOTE = "canary-note: talked about his brother's debts"
PLACE = "canary-place: 7 Ulitsa Abaya, flat 12"
GOAL = "canary-goal: repay the loan to his cousin"
FAMILY_MESSAGE = "canary-family: his mother is ill"
OTHERS_PLACE = "canary-other: 3 Market Street"
ERASED_NAME = "Erased Canaryperson-Kv2"
CANARIES = (
    NAME,
    NAME_CYRILLIC,
    BIRTH,
    NOTE,
    PLACE,
    GOAL,
    FAMILY_MESSAGE,
    OTHERS_PLACE,
    ERASED_NAME,
)


async def appointment(participant: Participant, officer: object, **extra: object) -> Appointment:
    starts = datetime.now(UTC) + timedelta(days=2)
    async with in_transaction() as conn:
        return await Appointment.create(
            using_db=conn,
            participant=participant,
            pillar=Pillar.FAMILY,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            created_by=officer,
            seq=await next_seq(conn),
            **extra,
        )


def leaks(text: str) -> list[str]:
    return [c for c in CANARIES if c.lower() in text.lower()]


def as_text(response: httpx.Response) -> str:
    """The body as sent, and decoded (JSON escapes non-ASCII letters)."""
    try:
        decoded = json.dumps(response.json(), ensure_ascii=False)
    except ValueError:
        decoded = ""
    return response.text + "\n" + decoded


async def test_nothing_personal_reaches_the_phone(app: Starlette) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER, language="fr")
    other_worker = await world.user(org, Role.WORKER)
    participant = await world.participant(
        org, officer, full_name=f"{NAME} {NAME_CYRILLIC}", date_of_birth=datetime(1971, 3, 14)
    )
    await participant.workers.add(worker, other_worker)
    erased = await world.participant(org, officer, full_name=ERASED_NAME)
    await erased.workers.add(worker)
    erased.erased_at = datetime.now(UTC)
    await erased.save()
    await PlanGoal.create(participant=participant, pillar=Pillar.FAMILY, text=GOAL)
    mine = await appointment(participant, officer, with_user=worker, family_message=FAMILY_MESSAGE)
    await appointment(participant, officer, with_user=other_worker, place=OTHERS_PLACE)
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        log_id = str(uuid.uuid4())
        pushed = await phone.push(
            [phone.entry(log_id, values(str(participant.id), notes=NOTE, place=PLACE))]
        )
        assert pushed.json()["results"][0]["status"] == "stored", pushed.text
        assert (await SessionLog.get(id=log_id)).notes == NOTE  # the canary is on the server
        pulled = await client.get("/api/sync/pull?since=0")
        cached = [
            await client.get("/app/shell?lang=fr"),
            await client.get("/i18n/fr.json"),
            await client.get("/manifest.webmanifest?lang=fr"),
            await client.get("/api/me"),
        ]
    assert pulled.status_code == 200
    body = pulled.json()
    # Not vacuous: the caseload, the worker's appointment and log are there.
    assert [p["code"] for p in body["participants"]] == [participant.code]
    assert [a["id"] for a in body["appointments"]] == [str(mine.id)]
    assert [r["id"] for r in body["records"]] == [log_id]
    assert leaks(as_text(pulled)) == []
    for response in cached:
        assert response.status_code == 200, response.url
        assert leaks(as_text(response)) == [], response.url


async def test_an_erased_participant_leaves_the_phone(app: Starlette) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    kept = await world.participant(org, officer)
    erased = await world.participant(org, officer, full_name=ERASED_NAME)
    await kept.workers.add(worker)
    await erased.workers.add(worker)
    async with await signed_in(app, worker) as client:
        before = (await client.get("/api/sync/pull?since=0")).json()
        assert sorted(p["code"] for p in before["participants"]) == sorted([kept.code, erased.code])
        # Erased by the retention run (consent stays on file): gone at the next pull.
        await Participant.filter(id=erased.id).update(erased_at=datetime.now(UTC))
        after = (await client.get(f"/api/sync/pull?since={before['cursor']}")).json()
        from_scratch = (await client.get("/api/sync/pull?since=0")).json()
    assert [p["code"] for p in after["participants"]] == [kept.code]
    assert [p["code"] for p in from_scratch["participants"]] == [kept.code]
    assert erased.code not in json.dumps(from_scratch)
