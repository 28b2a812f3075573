from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette

from server.accounts.models import User
from server.appointments import services
from server.appointments.models import Appointment
from server.audit.models import AuditEvent
from server.enums import AppointmentStatus, Country, FamilyResponse, Pillar, Role
from server.participants.models import Participant
from tests.support import world
from tests.support.web import post_form, signed_in


def form(**changes: str) -> dict[str, str]:
    return {
        "pillar": "education",
        "date": "2030-05-01",
        "start": "10:00",
        "end": "11:30",
        "duration": "",
        "place": "Community centre",
        "with_user": "",
        "what_to_bring": "Identity card",
        **changes,
    }


async def almaty_world() -> tuple[User, User, Participant]:
    org = await world.organisation("Almaty office", Country.KAZAKHSTAN)
    officer = await world.user(org, Role.OFFICER, name="Aigerim Officer")
    officer.time_zone = "Asia/Almaty"
    await officer.save()
    worker = await world.user(org, Role.WORKER, name="Nurlan Worker")
    participant = await world.participant(org, officer, full_name="Dana Serikova")
    await participant.workers.add(worker)
    return officer, worker, participant


async def test_officer_schedules_in_their_time_zone_stored_in_utc(app: Starlette) -> None:
    officer, worker, participant = await almaty_world()
    async with await signed_in(app, officer) as client:
        response = await post_form(
            client,
            f"/participants/{participant.id}/appointments/new",
            form(with_user=str(worker.id), family_visible="yes"),
        )
        assert response.status_code == 303, response.text
        appointment = await Appointment.get(participant=participant)
        assert appointment.starts_at == datetime(2030, 5, 1, 5, 0, tzinfo=UTC)
        assert appointment.ends_at == datetime(2030, 5, 1, 6, 30, tzinfo=UTC)
        assert appointment.with_user_id == worker.id and appointment.family_visible
        assert appointment.seq > 0 and appointment.version == 1
        page = await client.get(f"/appointments/{appointment.id}/edit")
        assert 'value="10:00"' in page.text and 'value="11:30"' in page.text
    assert await AuditEvent.filter(
        action="appointment.created", object_id=str(appointment.id)
    ).exists()


async def test_duration_instead_of_end_time(app: Starlette) -> None:
    officer, _, participant = await almaty_world()
    async with await signed_in(app, officer) as client:
        response = await post_form(
            client,
            f"/participants/{participant.id}/appointments/new",
            form(end="", duration="45"),
        )
    assert response.status_code == 303, response.text
    appointment = await Appointment.get(participant=participant)
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=45)


@pytest.mark.parametrize(
    ("changes", "field", "kept"),
    [
        ({"end": "09:00"}, "end", 'value="09:00"'),
        ({"date": "2030-02-30"}, "date", 'type="text" value="2030-02-30"'),
        ({"start": ""}, "start", 'value="Community centre"'),
        ({"end": "", "duration": "0"}, "duration", 'value="0"'),
        ({"pillar": ""}, "pillar", ">Identity card</textarea>"),
    ],
)
async def test_invalid_appointment_keeps_input_in_french(
    app: Starlette, changes: dict[str, str], field: str, kept: str
) -> None:
    officer, _, participant = await almaty_world()
    officer.language = "fr"
    await officer.save()
    async with await signed_in(app, officer) as client:
        response = await post_form(
            client, f"/participants/{participant.id}/appointments/new", form(**changes)
        )
    assert response.status_code == 422
    assert '<html lang="fr"' in response.text
    assert 'class="error-summary"' in response.text and f'href="#f-{field}"' in response.text
    assert f'id="f-{field}-problem"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert kept in response.text
    assert await Appointment.all().count() == 0


async def scheduled(participant: Participant, officer: User, **extra: object) -> Appointment:
    starts = datetime(2030, 5, 1, 5, tzinfo=UTC)
    return await Appointment.create(
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        created_by=officer,
        **extra,
    )


async def test_moving_bumps_version_and_asks_the_family_again(app: Starlette) -> None:
    officer, _, participant = await almaty_world()
    appointment = await scheduled(
        participant,
        officer,
        status=AppointmentStatus.CONFIRMED,
        family_response=FamilyResponse.COMING,
    )
    async with await signed_in(app, officer) as client:
        response = await post_form(
            client,
            f"/appointments/{appointment.id}/edit",
            form(date="2030-05-02", start="14:00", end="15:00", version="1"),
        )
        assert response.status_code == 303, response.text
        stale = await post_form(
            client,
            f"/appointments/{appointment.id}/edit",
            form(start="16:00", end="17:00", version="1"),
        )
        assert stale.status_code == 409
    moved = await Appointment.get(id=appointment.id)
    assert moved.starts_at == datetime(2030, 5, 2, 9, tzinfo=UTC)
    assert moved.version == 2 and moved.seq > appointment.seq
    assert moved.status is AppointmentStatus.SCHEDULED and moved.family_response is None


async def test_cancel(app: Starlette) -> None:
    officer, worker, participant = await almaty_world()
    appointment = await scheduled(participant, officer, with_user=worker)
    not_theirs = await scheduled(participant, officer)
    async with await signed_in(app, worker) as client:
        # Workers see the appointments they take part in, not the others.
        assert (await client.get(f"/appointments/{not_theirs.id}")).status_code == 404
        page = await client.get(f"/appointments/{appointment.id}")
        assert page.status_code == 200 and "/cancel" not in page.text
        refused = await post_form(client, f"/appointments/{appointment.id}/cancel", {})
        assert refused.status_code == 404
    async with await signed_in(app, officer) as client:
        response = await post_form(client, f"/appointments/{appointment.id}/cancel", {})
        assert response.status_code == 303
        again = await post_form(client, f"/appointments/{appointment.id}/edit", form(version="2"))
        assert again.status_code == 409
        assert (await client.get(f"/appointments/{appointment.id}/edit")).status_code == 409
    cancelled = await Appointment.get(id=appointment.id)
    assert cancelled.status is AppointmentStatus.CANCELLED and cancelled.version == 2
    assert await AuditEvent.filter(action="appointment.cancelled").count() == 1


async def test_outsiders_cannot_see_or_schedule(app: Starlette) -> None:
    officer, _, participant = await almaty_world()
    appointment = await scheduled(participant, officer)
    org = await officer.organisation
    outsiders = [
        await world.user(org, Role.OFFICER),
        await world.user(org, Role.WORKER),
        await world.user(await world.organisation("Other"), Role.OFFICER),
    ]
    for outsider in outsiders:
        async with await signed_in(app, outsider) as client:
            assert (await client.get(f"/appointments/{appointment.id}")).status_code == 404
            new = await post_form(
                client, f"/participants/{participant.id}/appointments/new", form()
            )
            assert new.status_code == 404
        assert await AuditEvent.filter(action="access.denied", actor_id=outsider.id).exists()
    assert await Appointment.all().count() == 1


async def test_upcoming_lists_what_each_reader_may_open(app: Starlette) -> None:
    officer, worker, participant = await almaty_world()
    now = datetime(2030, 4, 30, tzinfo=UTC)
    soon = await scheduled(participant, officer, with_user=worker)
    later = await Appointment.create(
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=datetime(2030, 5, 2, 5, tzinfo=UTC),
        ends_at=datetime(2030, 5, 2, 6, tzinfo=UTC),
        created_by=officer,
    )
    await scheduled(participant, officer, status=AppointmentStatus.CANCELLED)
    other = await world.participant(await officer.organisation, officer)
    await scheduled(other, officer)  # not in the worker's caseload
    upcoming = await services.upcoming_for_participant(
        user=officer, participant=participant, now=now
    )
    assert [a.id for a in upcoming] == [soon.id, later.id]
    assert upcoming[0].participant.code == participant.code
    # The worker takes part only in the first: the second is not theirs to see.
    mine = await services.upcoming_for_participant(user=worker, participant=participant, now=now)
    assert [a.id for a in mine] == [soon.id]
    assert (
        await services.upcoming_for_participant(
            user=officer, participant=participant, now=datetime(2030, 6, 1, tzinfo=UTC)
        )
        == []
    )


async def test_participant_page_lists_upcoming_in_the_readers_time_zone(app: Starlette) -> None:
    officer, worker, participant = await almaty_world()
    await scheduled(participant, officer, with_user=worker, place="Library")
    async with await signed_in(app, worker) as client:  # the worker reads Africa/Kampala time
        page = await client.get(f"/participants/{participant.id}")
    assert page.status_code == 200
    assert "Library" in page.text and "8:00" in page.text
    assert "Nurlan" in page.text and "Nurlan Worker" not in page.text
    async with await signed_in(app, officer) as client:  # the officer reads Asia/Almaty time
        page = await client.get(f"/participants/{participant.id}")
    assert "10:00" in page.text and "Nurlan Worker" in page.text
