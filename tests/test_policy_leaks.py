"""Object-level leaks found in review (issue 14, item 3), each closed in server.policy.

Every test names a record one user may not reach and asserts on values (a
canary place, a colleague's name, a stored row), never on key names.
"""

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from starlette.applications import Starlette

from server.accounts.models import User
from server.appointments.models import Appointment
from server.enums import AppointmentStatus, Attendance, FamilyResponse, Pillar, Role
from server.participants.models import Participant
from server.sessions.models import SessionLog
from tests.support import world
from tests.support.web import csrf_token, post_form, signed_in
from tests.test_sessions import family_answers
from tests.test_sync import Phone, values

CANARY_PLACE = "Canary Hall 7 on Zarina Street"
COLLEAGUE = "Colleague Zhanargul"
CANARY_NOTE = "Canary note only the author and the officer may read"
SOON = datetime.now(UTC) + timedelta(hours=3)


async def team() -> tuple[User, User, User, Participant]:
    """One officer; two workers both assigned to the same participant."""
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER, name="Joseph Okello")
    worker = await world.user(org, Role.WORKER, name="Brenda Achieng")
    colleague = await world.user(org, Role.WORKER, name=COLLEAGUE)
    participant = await world.participant(org, officer)
    await participant.workers.add(worker, colleague)
    return officer, worker, colleague, participant


async def appointment_with(
    participant: Participant, officer: User, with_user: User, **extra: object
) -> Appointment:
    return await Appointment.create(
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=extra.pop("starts_at", SOON),
        ends_at=extra.pop("ends_at", SOON + timedelta(hours=1)),
        place=CANARY_PLACE,
        with_user=with_user,
        created_by=officer,
        **extra,
    )


async def colleague_log(participant: Participant, colleague: User) -> SessionLog:
    return await SessionLog.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        form_version=1,
        occurred_at=datetime.now(UTC) - timedelta(days=2),
        duration_minutes=30,
        author=colleague,
        attendance=Attendance.ATTENDED,
        notes=CANARY_NOTE,
        content_hash="0" * 64,
    )


def log_form(participant: Participant, version: str) -> dict[str, str | list[str]]:
    return {
        **family_answers(),
        "participant": str(participant.id),
        "form_version": version,
        "family_present": ["mother"],
        "setting": "home_visit",
        "family_readiness": "3",
        "family_concerns": ["housing"],
    }


async def test_participant_page_lists_only_the_workers_own_appointments(app: Starlette) -> None:
    officer, worker, colleague, participant = await team()
    theirs = await appointment_with(participant, officer, colleague)
    await colleague_log(participant, colleague)
    async with await signed_in(app, worker) as client:
        page = await client.get(f"/participants/{participant.id}")
        assert page.status_code == 200
        assert (await client.get(f"/appointments/{theirs.id}")).status_code == 404
    # Neither the upcoming list nor the history shows the colleague's work.
    assert CANARY_PLACE not in page.text
    assert "Zhanargul" not in page.text and "Colleague" not in page.text
    assert str(theirs.id) not in page.text
    assert CANARY_NOTE not in page.text
    assert "/sessions/" not in page.text
    # The officer, who schedules them, still sees everything.
    async with await signed_in(app, officer) as client:
        page = await client.get(f"/participants/{participant.id}")
    assert CANARY_PLACE in page.text and COLLEAGUE in page.text


async def test_worker_cannot_mark_a_colleagues_appointment_done(app: Starlette) -> None:
    officer, worker, colleague, participant = await team()
    theirs = await appointment_with(
        participant,
        officer,
        colleague,
        starts_at=SOON - timedelta(hours=5),
        ends_at=SOON - timedelta(hours=4),
    )
    async with await signed_in(app, worker) as client:
        form = await client.get(f"/log/{participant.id}/family?appointment={theirs.id}")
        assert form.status_code == 404
        version = "1"
        response = await post_form(
            client,
            f"/log/{participant.id}/family?log={uuid.uuid4()}&appointment={theirs.id}",
            log_form(participant, version),  # type: ignore[arg-type]
        )
        assert response.status_code == 404
    assert (await Appointment.get(id=theirs.id)).status is AppointmentStatus.SCHEDULED
    assert await SessionLog.all().count() == 0


async def test_worker_marks_their_own_appointment_done(app: Starlette) -> None:
    officer, worker, _, participant = await team()
    mine = await appointment_with(
        participant,
        officer,
        worker,
        starts_at=SOON - timedelta(hours=5),
        ends_at=SOON - timedelta(hours=4),
    )
    log_id = uuid.uuid4()
    async with await signed_in(app, worker) as client:
        form = await client.get(f"/log/{participant.id}/family?appointment={mine.id}")
        assert form.status_code == 200
        response = await post_form(
            client,
            f"/log/{participant.id}/family?log={log_id}&appointment={mine.id}",
            log_form(participant, "1"),  # type: ignore[arg-type]
        )
        assert response.status_code == 303, response.text
    assert (await Appointment.get(id=mine.id)).status is AppointmentStatus.DONE
    assert (await SessionLog.get(id=log_id)).appointment_id == mine.id


async def erase(participant: Participant) -> None:
    # What the retention run leaves on the participant row.
    await Participant.filter(id=participant.id).update(full_name="", erased_at=datetime.now(UTC))


async def test_an_erased_participant_takes_no_new_log_from_the_form(app: Starlette) -> None:
    _, worker, _, participant = await team()
    await erase(participant)
    async with await signed_in(app, worker) as client:
        assert (await client.get(f"/log/{participant.id}/family")).status_code == 404
        response = await post_form(
            client,
            f"/log/{participant.id}/family?log={uuid.uuid4()}",
            log_form(participant, "1"),  # type: ignore[arg-type]
        )
    assert response.status_code == 404
    assert await SessionLog.all().count() == 0


async def test_an_erased_participant_takes_no_new_log_from_sync(app: Starlette) -> None:
    _, worker, _, participant = await team()
    await erase(participant)
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        entries = [phone.entry(str(uuid.uuid4()), values(str(participant.id))) for _ in range(2)]
        result = await phone.push(entries)
    assert result.status_code == 200, result.text
    codes = [answer.get("code") for answer in result.json()["results"]]
    assert codes == ["not_allowed", "not_allowed"]
    assert await SessionLog.all().count() == 0


async def test_a_crafted_appointment_parameter_cannot_choose_the_log_id(app: Starlette) -> None:
    officer, worker, _, participant = await team()
    mine = await appointment_with(participant, officer, worker)
    chosen = uuid.uuid4()
    async with await signed_in(app, worker) as client:
        page = await client.get(f"/log/{participant.id}/family?appointment=%26log%3D{chosen}")
        if page.status_code == 200:  # the form must not post under the chosen id
            action = re.search(r'session-form" method="post" action="([^"]+)"', page.text)
            assert action
            query = parse_qs(urlsplit(action.group(1).replace("&amp;", "&")).query)
            assert query["log"] != [str(chosen)]
        else:
            assert page.status_code == 404
        assert str(chosen) not in page.text
        # A genuine appointment id is carried over, properly encoded.
        good = await client.get(f"/log/{participant.id}/family?appointment={mine.id}")
        action = re.search(r'session-form" method="post" action="([^"]+)"', good.text)
        assert action
        query = parse_qs(urlsplit(action.group(1).replace("&amp;", "&")).query)
        assert query["appointment"] == [str(mine.id)] and len(query["log"]) == 1


async def test_repeated_query_keys_are_refused_and_change_nothing(app: Starlette) -> None:
    officer, worker, _, participant = await team()
    mine = await appointment_with(participant, officer, worker)
    first, second = uuid.uuid4(), uuid.uuid4()
    async with await signed_in(app, worker) as client:
        page = await client.get(
            f"/log/{participant.id}/family?appointment={mine.id}&appointment={mine.id}"
        )
        assert page.status_code == 400
        assert "more than once" in page.text
        response = await post_form(
            client,
            f"/log/{participant.id}/family?log={first}&log={second}",
            log_form(participant, "1"),  # type: ignore[arg-type]
        )
        assert response.status_code == 400
    async with await signed_in(app, officer) as client:
        listed = await client.get("/participants?page=1&page=2")
        assert listed.status_code == 400
    assert await SessionLog.all().count() == 0


async def test_an_officer_reads_only_their_own_participants_logs(app: Starlette) -> None:
    officer, _, colleague, participant = await team()
    log = await colleague_log(participant, colleague)
    peer = await world.user(await participant.organisation, Role.OFFICER, name="Peer Officer")
    async with await signed_in(app, peer) as client:
        assert (await client.get(f"/sessions/{log.id}")).status_code == 404
        assert (await client.get(f"/sessions/{log.id}/edit")).status_code == 404
        review = await post_form(client, f"/sessions/{log.id}/review", {"comment": "seen"})
        assert review.status_code == 404
        queue = await client.get("/review")
    assert CANARY_NOTE not in queue.text and str(log.id) not in queue.text
    assert (await SessionLog.get(id=log.id)).reviewed_at is None
    async with await signed_in(app, officer) as client:
        page = await client.get(f"/sessions/{log.id}")
    assert page.status_code == 200 and CANARY_NOTE in page.text


async def test_a_family_cannot_answer_a_closed_appointment_by_form(app: Starlette) -> None:
    officer, worker, _, participant = await team()
    relative = await world.user(await participant.organisation, Role.FAMILY, name="Aisha Mother")
    await participant.family.add(relative)
    for status in (AppointmentStatus.DONE, AppointmentStatus.CANCELLED):
        closed = await appointment_with(
            participant, officer, worker, family_visible=True, status=status
        )
        async with await signed_in(app, relative) as client:
            token = await csrf_token(client)
            response = await client.post(
                f"/family/appointments/{closed.id}/response",
                data={"response": "coming", "message": "We will come", "csrf_token": token},
                headers={"origin": "http://localhost:8000"},
            )
        assert response.status_code == 422, status
        stored = await Appointment.get(id=closed.id)
        assert (stored.status, stored.family_response, stored.family_message) == (
            status,
            None,
            "",
        )
        assert stored.version == 1
    open_one = await appointment_with(participant, officer, worker, family_visible=True)
    async with await signed_in(app, relative) as client:
        response = await post_form(
            client, f"/family/appointments/{open_one.id}/response", {"response": "coming"}
        )
    assert response.status_code == 303
    assert (await Appointment.get(id=open_one.id)).family_response is FamilyResponse.COMING


async def test_a_former_officer_reads_their_own_log_but_no_longer_reviews_it(
    app: Starlette,
) -> None:
    officer, _, _, participant = await team()
    successor = await world.user(await participant.organisation, Role.OFFICER, name="New Officer")
    log = await colleague_log(participant, officer)  # written by the officer themselves
    await Participant.filter(id=participant.id).update(officer_id=successor.id)
    async with await signed_in(app, officer) as client:
        page = await client.get(f"/sessions/{log.id}")
        assert page.status_code == 200 and CANARY_NOTE in page.text
        assert "/review" not in page.text  # no review form offered
        refused = await post_form(client, f"/sessions/{log.id}/review", {"comment": "mine"})
        assert refused.status_code == 404
        assert (await client.get(f"/participants/{participant.id}")).status_code == 404
    assert (await SessionLog.get(id=log.id)).reviewed_at is None
    async with await signed_in(app, successor) as client:
        done = await post_form(client, f"/sessions/{log.id}/review", {"comment": "seen"})
    assert done.status_code == 303
    assert (await SessionLog.get(id=log.id)).reviewed_by_id == successor.id
