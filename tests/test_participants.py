import re
from datetime import date

import httpx
from starlette.applications import Starlette

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.enums import Country, GoalStatus, Pillar, Role
from server.participants.models import ConsentRecord, Participant, PlanGoal
from tests.support import world
from tests.support.web import post_form, signed_in

CODE = re.compile(r"^UG-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$")


def form(**changes: str) -> dict[str, str]:
    return {
        "full_name": "Amina Nakato Okello",
        "gender": "female",
        "date_of_birth": "1990-04-02",
        "release_date": "2025-01-15",
        "language": "en",
        "consent_given": "yes",
        "consent_date": "2025-01-10",
        **changes,
    }


async def created(client: httpx.AsyncClient, data: dict[str, str]) -> Participant:
    response = await post_form(client, "/participants/new", data)
    assert response.status_code == 303, response.text
    return await Participant.get(id=response.headers["location"].split("/")[2].split("?")[0])


async def officer_world() -> tuple[User, User, User]:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER, name="Olga Officer")
    worker = await world.user(org, Role.WORKER, name="Wanjiru Kamau")
    other = await world.user(org, Role.WORKER, name="Peter Otim")
    return officer, worker, other


async def test_officer_registers_a_participant_with_code_consent_and_workers(
    app: Starlette,
) -> None:
    officer, worker, _ = await officer_world()
    async with await signed_in(app, officer) as client:
        page = await client.get("/participants/new")
        assert page.status_code == 200
        assert "Wanjiru Kamau" in page.text  # the organisation's workers to tick
        participant = await created(client, {**form(), "workers": str(worker.id)})
    assert CODE.match(participant.code)
    assert participant.officer_id == officer.id and participant.seq > 0
    assert participant.date_of_birth == date(1990, 4, 2)
    assert [w.id for w in await participant.workers.all()] == [worker.id]
    consents = await ConsentRecord.filter(participant=participant)
    assert [(c.given, c.on_date) for c in consents] == [(True, date(2025, 1, 10))]
    actions = [e.action for e in await AuditEvent.filter(object_id=str(participant.id))]
    assert {"participant.created", "consent.recorded"} <= set(actions)
    for event in await AuditEvent.filter(object_id=str(participant.id)):
        assert "Amina" not in str(event.detail)


async def test_editing_consent_keeps_its_history(app: Starlette) -> None:
    officer, worker, other = await officer_world()
    async with await signed_in(app, officer) as client:
        participant = await created(client, {**form(), "workers": str(worker.id)})
        edit = await client.get(f"/participants/{participant.id}/edit")
        assert 'value="Amina Nakato Okello"' in edit.text
        response = await post_form(
            client,
            f"/participants/{participant.id}/edit",
            {**form(consent_given="no", consent_date="2025-02-01"), "workers": str(other.id)},
        )
        assert response.status_code == 303, response.text
    stored = await Participant.get(id=participant.id)
    assert stored.consent_given is False and stored.seq > participant.seq
    assert [w.id for w in await stored.workers.all()] == [other.id]
    history = await ConsentRecord.filter(participant=participant).order_by("id")
    assert [(c.given, c.on_date) for c in history] == [
        (True, date(2025, 1, 10)),
        (False, date(2025, 2, 1)),
    ]
    updated = await AuditEvent.get(action="participant.updated", object_id=str(participant.id))
    assert set(updated.detail["fields"]) == {"consent_given", "consent_date", "workers"}


async def test_invalid_participant_form_keeps_input_and_marks_fields(app: Starlette) -> None:
    officer, _, _ = await officer_world()
    officer.language = "fr"
    await officer.save()
    async with await signed_in(app, officer) as client:
        response = await post_form(
            client,
            "/participants/new",
            form(full_name="Kept Name", gender="", date_of_birth="2999-01-01", consent_date=""),
        )
    assert response.status_code == 422
    assert 'lang="fr"' in response.text and "error-summary" in response.text
    assert 'value="Kept Name"' in response.text
    for field in ("gender", "date_of_birth", "consent_date"):
        assert f'id="f-{field}-problem"' in response.text
    assert response.text.count('aria-invalid="true"') >= 3
    assert await Participant.all().count() == 0


async def test_worker_sees_code_and_given_name_only(app: Starlette) -> None:
    officer, worker, _ = await officer_world()
    participant = await world.participant(
        await officer.organisation,
        officer,
        full_name="Amina Nakato Okello",
        date_of_birth=date(1990, 4, 2),
        release_date=date(2025, 1, 15),
    )
    await participant.workers.add(worker)
    async with await signed_in(app, worker) as client:
        page = await client.get(f"/participants/{participant.id}")
    assert page.status_code == 200
    assert participant.code in page.text and "Amina" in page.text
    assert "Okello" not in page.text and "Nakato" not in page.text
    assert "1990" not in page.text  # no date of birth
    assert "Olga Officer" not in page.text
    assert await AuditEvent.filter(
        action="participant.read", object_id=str(participant.id), actor_id=worker.id
    ).exists()


async def test_people_outside_the_record_get_not_found(app: Starlette) -> None:
    officer, _, _ = await officer_world()
    org = await officer.organisation
    participant = await world.participant(org, officer, full_name="Amina Okello")
    colleague = await world.user(org, Role.OFFICER)
    unassigned = await world.user(org, Role.WORKER)
    family = await world.user(org, Role.FAMILY)
    foreign_officer = await world.user(
        await world.organisation("Elsewhere", Country.TUNISIA), Role.OFFICER
    )
    for outsider in (colleague, unassigned, foreign_officer, family):
        async with await signed_in(app, outsider) as client:
            page = await client.get(f"/participants/{participant.id}")
            edit = await client.get(f"/participants/{participant.id}/edit")
        assert page.status_code == 404 and edit.status_code == 404, outsider.role
        assert "Amina" not in page.text
        assert await AuditEvent.filter(action="access.denied", actor_id=outsider.id).exists()
    async with await signed_in(app, officer) as client:
        assert (await client.get("/participants/not-a-uuid")).status_code == 404


async def test_list_shows_own_participants_with_worker_first_names(app: Starlette) -> None:
    officer, worker, _ = await officer_world()
    org = await officer.organisation
    mine = await world.participant(org, officer, full_name="Amina Okello")
    await mine.workers.add(worker)
    theirs = await world.participant(org, await world.user(org, Role.OFFICER))
    async with await signed_in(app, officer) as client:
        page = await client.get("/participants")
    assert page.status_code == 200
    assert mine.code in page.text and theirs.code not in page.text
    assert "Wanjiru" in page.text and "Kamau" not in page.text
    assert "Amina" not in page.text  # the list shows codes, not names


async def test_goals_per_pillar_and_status_changes(app: Starlette) -> None:
    officer, worker, _ = await officer_world()
    participant = await world.participant(await officer.organisation, officer)
    await participant.workers.add(worker)
    async with await signed_in(app, officer) as client:
        for pillar in Pillar:
            response = await post_form(
                client,
                f"/participants/{participant.id}/goals",
                {"pillar": pillar.value, "text": f"Goal for {pillar.value}"},
            )
            assert response.status_code == 303
        missing = await post_form(
            client, f"/participants/{participant.id}/goals", {"pillar": "", "text": "Kept goal"}
        )
        assert missing.status_code == 422
        assert "Kept goal" in missing.text and 'aria-invalid="true"' in missing.text
        goal = await PlanGoal.get(participant=participant, pillar=Pillar.EDUCATION)
        changed = await post_form(client, f"/goals/{goal.id}", {"status": "in_progress"})
        assert changed.status_code == 303
        reworded = await post_form(client, f"/goals/{goal.id}", {"text": "Finish primary school"})
        assert reworded.status_code == 303
        emptied = await post_form(client, f"/goals/{goal.id}", {"text": ""})
        assert emptied.status_code == 422
    goals = await PlanGoal.filter(participant=participant)
    assert sorted(g.pillar.value for g in goals) == sorted(p.value for p in Pillar)
    goal = await PlanGoal.get(id=goal.id)
    assert goal.status is GoalStatus.IN_PROGRESS and goal.text == "Finish primary school"
    assert await AuditEvent.filter(action="goal.created").count() == 4
    assert await AuditEvent.filter(action="goal.updated", object_id=str(goal.id)).count() == 2
    async with await signed_in(app, worker) as client:
        page = await client.get(f"/participants/{participant.id}")
        assert "Finish primary school" in page.text
        assert f'action="/goals/{goal.id}"' not in page.text  # read-only for workers
        refused = await post_form(client, f"/goals/{goal.id}", {"status": "dropped"})
        assert refused.status_code == 404
    assert (await PlanGoal.get(id=goal.id)).status is GoalStatus.IN_PROGRESS


async def test_list_is_paginated_by_fifty(app: Starlette) -> None:
    officer, _, _ = await officer_world()
    org = await officer.organisation
    for _ in range(51):
        await world.participant(org, officer)
    async with await signed_in(app, officer) as client:
        first = await client.get("/participants")
        second = await client.get("/participants?page=2")
    assert (
        first.text.count('href="/participants/') - first.text.count('href="/participants/new"')
        == 50
    )
    assert 'href="/participants?page=2"' in first.text
    assert second.text.count("<bdi") == 1 and 'href="/participants?page=1"' in second.text
