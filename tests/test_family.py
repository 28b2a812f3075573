import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from icalendar import Calendar
from starlette.applications import Starlette

from server.appointments.models import Appointment
from server.audit.models import AuditEvent
from server.enums import Pillar, Role
from server.sessions.models import SessionLog
from tests.support import world
from tests.support.web import post_form, signed_in

SECRET_NOTE = "CONFIDENTIAL-NOTE-7731"
FULL_NAME = "Zarina Abdulkhamitovna Kassymova"


async def family_world():  # type: ignore[no-untyped-def]
    org = await world.organisation("Kampala Community Reintegration Network")
    officer = await world.user(org, Role.OFFICER, name="Joseph Okello")
    worker = await world.user(org, Role.WORKER, name="Brenda Achieng")
    participant = await world.participant(org, officer, full_name=FULL_NAME)
    other = await world.participant(org, officer, full_name="Other Person")
    relative = await world.user(org, Role.FAMILY, name="Sarah Kato", language="kk")
    await participant.family.add(relative)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)

    async def appointment(who, visible: bool, place: str) -> Appointment:  # type: ignore[no-untyped-def]
        return await Appointment.create(
            id=uuid.uuid4(),
            participant=who,
            pillar=Pillar.FAMILY,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            place=place,
            with_user=worker,
            what_to_bring="ID card",
            family_visible=visible,
            created_by=officer,
        )

    shown = await appointment(participant, True, "Family home")
    hidden = await appointment(participant, False, "Secret office")
    foreign = await appointment(other, True, "Other place")
    await SessionLog.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.COUNSELLING,
        form_version=1,
        occurred_at=start - timedelta(days=5),
        duration_minutes=30,
        author=worker,
        attendance="attended",
        notes=SECRET_NOTE,
        content_hash="x",
    )
    return relative, participant, shown, hidden, foreign


async def test_family_sees_only_allow_listed_fields(app: Starlette) -> None:
    relative, participant, shown, hidden, foreign = await family_world()
    async with await signed_in(app, relative) as client:
        page = await client.get("/")
        assert page.status_code == 200 and '<html lang="kk"' in page.text
        assert "Family home" in page.text and "ID card" in page.text
        assert "Brenda" in page.text and "Achieng" not in page.text  # first name only
        for forbidden in (
            SECRET_NOTE,
            FULL_NAME,
            participant.code,
            "Secret office",
            "Other place",
            "Okello",
        ):
            assert forbidden not in page.text
        ics = await client.get(f"/family/appointments/{shown.id}/calendar.ics")
        assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
        for forbidden in (SECRET_NOTE, FULL_NAME, "Achieng", participant.code):
            assert forbidden not in ics.text
        event = next(c for c in Calendar.from_ical(ics.content).walk("VEVENT"))
        assert event["location"] == "Family home"
        assert event.decoded("dtstart") == shown.starts_at
        assert event["dtstart"].params.get("TZID") == "Africa/Kampala"
        for other in (hidden, foreign):
            assert (
                await client.get(f"/family/appointments/{other.id}/calendar.ics")
            ).status_code == 404
    denied = await AuditEvent.filter(action="access.denied", object_type="appointment").count()
    assert denied == 2


async def test_family_answers_will_you_come(app: Starlette) -> None:
    relative, _, shown, _, foreign = await family_world()
    async with await signed_in(app, relative) as client:
        response = await post_form(
            client,
            f"/family/appointments/{shown.id}/response",
            {"response": "coming", "message": "We will bring the documents"},
        )
        assert response.status_code == 303
        refused = await post_form(
            client, f"/family/appointments/{foreign.id}/response", {"response": "coming"}
        )
        assert refused.status_code == 404
        bad = await post_form(
            client, f"/family/appointments/{shown.id}/response", {"response": "maybe"}
        )
        assert bad.status_code == 422
    stored = await Appointment.get(id=shown.id)
    assert stored.family_response == "coming" and stored.status == "confirmed"
    assert stored.family_message == "We will bring the documents"
    assert (await Appointment.get(id=foreign.id)).family_response is None


async def test_private_calendar_feed_can_be_revoked(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    relative, _, shown, _, _ = await family_world()
    async with await signed_in(app, relative) as family:
        page = await post_form(family, "/family/calendar", {})
        link = re.search(r"<code data-feed-link>([^<]+)</code>", page.text)
        assert link
        path = link.group(1).replace("http://localhost:8000", "")
        feed = await client.get(path)
        assert feed.status_code == 200
        events = list(Calendar.from_ical(feed.content).walk("VEVENT"))
        assert [str(e["uid"]).split("@")[0] for e in events] == [str(shown.id)]
        assert await AuditEvent.filter(action="calendar.read").count() == 1
        await post_form(family, "/family/calendar/revoke", {})
    assert (await client.get(path)).status_code == 404
    assert (await client.get("/calendar/not-a-token.ics")).status_code == 404


async def test_staff_and_other_families_cannot_use_family_routes(app: Starlette) -> None:
    _, participant, shown, _, _ = await family_world()
    org = await participant.organisation
    stranger = await world.user(org, Role.FAMILY)
    async with await signed_in(app, stranger) as client:
        assert "Family home" not in (await client.get("/")).text
        assert (
            await client.get(f"/family/appointments/{shown.id}/calendar.ics")
        ).status_code == 404


async def test_answers_from_the_outbox_arrive_once_and_stale_ones_conflict(app: Starlette) -> None:
    from server.sync.models import Conflict
    from tests.support.sealing import seal
    from tests.support.web import ORIGIN, csrf_token

    relative, participant, shown, _, _ = await family_world()
    second = await world.user(await participant.organisation, Role.FAMILY, name="Other Kato")
    await participant.family.add(second)

    async def push(user, record_id: str, response: str, base_version: int):  # type: ignore[no-untyped-def]
        async with await signed_in(app, user) as client:
            key = (await client.get("/api/sync/key")).json()
            pulled = (await client.get("/api/sync/pull")).json()
            assert [a["id"] for a in pulled["appointments"]] == [str(shown.id)]
            assert "participants" not in pulled and participant.code not in str(pulled)
            body = {
                "author": user.id,
                "appointment": str(shown.id),
                "response": response,
                "message": "",
                "base_version": base_version,
            }
            entry = {
                "id": record_id,
                "type": "appointment_response",
                "sealed": seal(body, record_id=record_id, kid=key["kid"], spki_b64=key["spki"]),
            }
            token = await csrf_token(client)
            answer = await client.post(
                "/api/sync/push",
                json={"records": [entry]},
                headers={"origin": ORIGIN, "x-csrf-token": token},
            )
            return answer.json()["results"][0]["status"]

    first_id, second_id = str(uuid.uuid4()), str(uuid.uuid4())
    # Both phones saw version 1 while offline; the first answer wins, the
    # second is kept as a conflict instead of silently overwriting it.
    assert await push(relative, first_id, "coming", 1) == "stored"
    assert await push(relative, first_id, "coming", 1) == "already_stored"
    assert await push(second, second_id, "not_coming", 1) == "conflict"
    stored = await Appointment.get(id=shown.id)
    assert stored.family_response == "coming" and stored.version == 2
    conflict = await Conflict.get(record_id=second_id)
    assert conflict.payload["response"] == "not_coming"
