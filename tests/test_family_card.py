"""The family's page as a relative with little schooling meets it (issue 17,
items 1-3): what, when, where, with whom, what to bring, how to call; one
form for the answer; cancelled and moved appointments shown, not hidden."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from server.appointments.models import Appointment
from server.enums import Pillar, Role
from tests.support import world
from tests.support.sealing import seal
from tests.support.web import ORIGIN, csrf_token, post_form, signed_in
from tests.test_appointments import almaty_world
from tests.test_appointments import form as officer_form

# Tuesday 5 March 2030, 10:00-11:30 UTC: 13:00-14:30 in Kampala.
START = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)


async def card_world(language: str = "ru", phone: str = "+256 700 123 456"):  # type: ignore[no-untyped-def]
    org = await world.organisation("Kampala Community Reintegration Network")
    org.contact_phone = phone
    await org.save()
    officer = await world.user(org, Role.OFFICER, name="Joseph Okello")
    worker = await world.user(org, Role.WORKER, name="Brenda Achieng")
    participant = await world.participant(org, officer)
    relative = await world.user(org, Role.FAMILY, name="Sarah Kato", language=language)
    await participant.family.add(relative)

    async def appointment(pillar: Pillar = Pillar.EDUCATION, **extra: object) -> Appointment:
        columns: dict[str, object] = {
            "starts_at": START,
            "ends_at": START + timedelta(minutes=90),
            "place": "Nakawa Community Hall",
            "what_to_bring": "School report",
        }
        columns.update(extra)
        return await Appointment.create(
            id=uuid.uuid4(),
            participant=participant,
            pillar=pillar,
            with_user=worker,
            family_visible=True,
            created_by=officer,
            **columns,
        )

    return relative, appointment


def card_of(page: str, appointment: Appointment) -> str:
    found = re.search(
        rf'<li class="card appointment[^"]*" data-appointment="{appointment.id}".*?</li>',
        page,
        re.S,
    )
    assert found, "the appointment's card is on the page"
    return found.group(0)


async def test_the_card_says_what_when_where_with_whom_and_how_to_call(app: Starlette) -> None:
    relative, appointment = await card_world()
    shown = await appointment(Pillar.EDUCATION, latitude=0.3136, longitude=32.6181)
    async with await signed_in(app, relative) as client:
        page = (await client.get("/")).text
    assert re.search(r"<title>Назначенные встречи[^<]*</title>", page)
    card = card_of(page, shown)
    assert "Образование" in card  # what: the pillar in the glossary's words
    assert "вторник" in card and "5 марта 2030" in card  # weekday and date
    assert "13:00" in card and "14:30" in card  # Kampala time, not UTC
    assert "Nakawa Community Hall" in card
    assert 'href="geo:0.3136,32.6181?q=0.3136,32.6181"' in card
    assert "Brenda" in card and "Achieng" not in card
    assert "School report" in card
    assert 'href="tel:+256700123456"' in card and "+256 700 123 456" in card
    # No third-party request: every image and style comes from this server.
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert not url.startswith(("http:", "https:", "//")), url


async def test_without_coordinates_or_phone_no_link_is_made(app: Starlette) -> None:
    relative, appointment = await card_world(language="en", phone="")
    shown = await appointment(Pillar.COUNSELLING)
    async with await signed_in(app, relative) as client:
        card = card_of((await client.get("/")).text, shown)
    assert "Counselling" in card
    assert "geo:" not in card and "tel:" not in card


async def test_the_message_is_part_of_the_answer_and_the_answer_can_change(
    app: Starlette,
) -> None:
    relative, appointment = await card_world(language="en")
    shown = await appointment(Pillar.FAMILY)
    async with await signed_in(app, relative) as client:
        card = card_of((await client.get("/")).text, shown)
        # One form: the choice, the message and one button to send both.
        form = re.search(r"<form[^>]*data-family-answer.*?</form>", card, re.S)
        assert form
        assert form.group(0).count('type="radio" name="response"') == 2
        assert 'name="message"' in form.group(0)
        assert len(re.findall(r'<button[^>]*type="submit"', form.group(0))) == 1
        assert "Send my answer" in form.group(0)

        sent = await post_form(
            client,
            f"/family/appointments/{shown.id}/response",
            {"response": "coming", "message": "We will come by bus"},
        )
        assert sent.status_code == 303
        card = card_of((await client.get("/")).text, shown)
        assert re.search(r'value="coming"\s+checked', card)
        assert not re.search(r'value="not_coming"\s+checked', card)
        assert "You said you will come." in card
        # The message sent stays in the form: a new choice sends it again
        # unless it is changed, and it is never silently dropped.
        assert 'name="message" type="text" maxlength="300" autocomplete="off"' in card
        assert 'value="We will come by bus"' in card

        changed = await post_form(
            client,
            f"/family/appointments/{shown.id}/response",
            {"response": "not_coming", "message": "Sorry, my son is ill"},
        )
        assert changed.status_code == 303
        card = card_of((await client.get("/")).text, shown)
        assert re.search(r'value="not_coming"\s+checked', card)
    stored = await Appointment.get(id=shown.id)
    assert stored.family_response == "not_coming" and stored.status == "scheduled"
    assert stored.family_message == "Sorry, my son is ill"


async def test_a_failed_answer_says_what_happened_and_keeps_the_message(
    app: Starlette,
) -> None:
    relative, appointment = await card_world(language="en")
    shown = await appointment()
    async with await signed_in(app, relative) as client:
        missing = await post_form(
            client,
            f"/family/appointments/{shown.id}/response",
            {"message": "Can we come at 15:00?"},
        )
        assert missing.status_code == 422
        card = card_of(missing.text, shown)
        assert "Your answer was not sent. Please choose Yes or No, then press" in card
        assert 'value="Can we come at 15:00?"' in card  # what was typed is not lost
        assert "Needs attention" not in missing.text
    assert (await Appointment.get(id=shown.id)).family_response is None


async def test_no_answer_once_the_appointment_has_started(app: Starlette) -> None:
    relative, appointment = await card_world(language="en")
    begun = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    started = await appointment(starts_at=begun, ends_at=begun + timedelta(hours=1))
    async with await signed_in(app, relative) as client:
        card = card_of((await client.get("/")).text, started)
        assert "data-family-answer" not in card
        late = await post_form(
            client, f"/family/appointments/{started.id}/response", {"response": "coming"}
        )
        assert late.status_code == 422
        assert "This appointment has already started, so the answer cannot be changed." in (
            late.text
        )
    assert (await Appointment.get(id=started.id)).family_response is None


async def test_cancelled_and_moved_appointments_stay_on_the_page(app: Starlette) -> None:
    relative, appointment = await card_world(language="en")
    cancelled = await appointment(status="cancelled", version=2)
    moved = await appointment(
        starts_at=START + timedelta(days=2),
        ends_at=START + timedelta(days=2, hours=1),
        moved_from=START,
        version=3,
    )
    long_ago = datetime(2020, 1, 7, 9, 0, tzinfo=UTC)
    old_move = await appointment(
        starts_at=START + timedelta(days=9),
        ends_at=START + timedelta(days=9, hours=1),
        moved_from=long_ago,
    )
    async with await signed_in(app, relative) as client:
        page = (await client.get("/")).text
    card = card_of(page, cancelled)
    assert "Cancelled. This appointment will not take place." in card
    assert "data-family-answer" not in card  # nothing left to answer
    card = card_of(page, moved)
    assert "Moved to Thursday, 7 March 2030" in card
    assert "It was planned for Tuesday, 5 March 2030 at 13:00" in card
    # A move whose old date has passed is no longer news.
    assert "Moved" not in card_of(page, old_move)


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("0.3136, 32.5811", (0.3136, 32.5811), 'value="0.3136, 32.5811"'),
        ("-33.8688;151.2093", (-33.8688, 151.2093), 'value="-33.8688, 151.2093"'),
        ("", (None, None), 'name="coordinates" type="text" value=""'),
    ],
)
async def test_the_officer_enters_a_map_point(
    app: Starlette, typed: str, stored: tuple[float | None, float | None], shown: str
) -> None:
    officer, _worker, participant = await almaty_world()
    async with await signed_in(app, officer) as client:
        response = await post_form(
            client,
            f"/participants/{participant.id}/appointments/new",
            officer_form(coordinates=typed),
        )
        assert response.status_code == 303, response.text
        appointment = await Appointment.get(participant=participant)
        assert (appointment.latitude, appointment.longitude) == stored
        page = await client.get(f"/appointments/{appointment.id}/edit")
    assert shown in page.text


@pytest.mark.parametrize("typed", ["91, 10", "10, 181", "nan, 5", "12.5", "north, east", "1,2,3"])
async def test_an_unreadable_map_point_is_refused(app: Starlette, typed: str) -> None:
    officer, _worker, participant = await almaty_world()
    async with await signed_in(app, officer) as client:
        response = await post_form(
            client,
            f"/participants/{participant.id}/appointments/new",
            officer_form(coordinates=typed),
        )
    assert response.status_code == 422
    assert "Please enter the latitude and longitude as two numbers with a comma" in response.text
    assert not await Appointment.filter(participant=participant).exists()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("kk", ["Жауабымды жіберу", "Сұрағыңыз бар ма? Қоңырау шалыңыз:", "Қашан:"]),
        ("ar", ["إرسال الإجابة", "هل لديكم أسئلة؟ يُرجى الاتصال:", "متى:", 'dir="rtl"']),
    ],
)
async def test_the_card_speaks_the_family_language(
    app: Starlette, language: str, expected: list[str]
) -> None:
    relative, appointment = await card_world(language=language)
    shown = await appointment(Pillar.VOCATIONAL)
    async with await signed_in(app, relative) as client:
        page = (await client.get("/")).text
    for text in expected:
        assert text in page
    assert "Send my answer" not in card_of(page, shown)


async def _push_answer(app: Starlette, user: Any, appointment: str, message: str) -> Any:
    async with await signed_in(app, user) as client:
        key = (await client.get("/api/sync/key")).json()
        record_id = str(uuid.uuid4())
        body = {
            "author": user.id,
            "appointment": appointment,
            "response": "coming",
            "message": message,
            "base_version": 1,
        }
        entry = {
            "id": record_id,
            "type": "appointment_response",
            "sealed": seal(body, record_id=record_id, kid=key["kid"], spki_b64=key["spki"]),
        }
        answer = await client.post(
            "/api/sync/push",
            json={"records": [entry]},
            headers={"origin": ORIGIN, "x-csrf-token": await csrf_token(client)},
        )
        return answer.json()["results"][0]


async def test_an_answer_refused_from_the_phone_is_explained_to_the_family(
    app: Starlette,
) -> None:
    relative, appointment = await card_world(language="en")
    shown = await appointment()
    too_long = await _push_answer(app, relative, str(shown.id), "x" * 301)
    assert (too_long["status"], too_long["code"]) == ("rejected", "invalid")
    assert too_long["message"] == (
        "Your answer was not sent. The message is too long: please shorten it to"
        " 300 characters or fewer, then send it again."
    )
    elsewhere = await _push_answer(app, relative, str(uuid.uuid4()), "")
    assert (elsewhere["status"], elsewhere["code"]) == ("rejected", "not_allowed")
    assert elsewhere["message"] == (
        "This appointment is no longer shown to you, so the answer was not sent."
        " If you have a question, please call the organisation."
    )
    assert (await Appointment.get(id=shown.id)).family_response is None


async def test_retention_erases_the_map_point(app: Starlette) -> None:
    from server import retention
    from tests.test_retention import TODAY, released

    old, _relative = await released(6, "Old Person")
    await Appointment.filter(participant_id=old.id).update(latitude=0.3136, longitude=32.6181)
    await retention.run(today=TODAY, now=datetime.now(UTC))
    kept = await Appointment.filter(participant_id=old.id).values_list("latitude", "longitude")
    assert kept == [(None, None)]
