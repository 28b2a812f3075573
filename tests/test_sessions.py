import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette

from server.enums import Attendance, Pillar, Role
from server.sessions.models import SessionLog, SessionLogRevision
from server.sync.models import Conflict
from tests.support import world
from tests.support.web import csrf_token, post_form, signed_in

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).astimezone().date().isoformat()


def family_answers(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    answers: dict[str, str | list[str]] = {
        "occurred_on": YESTERDAY,
        "occurred_time": "10:30",
        "attendance": "attended",
        "duration_minutes": "45",
        "place": "Family home",
        "engagement": "4",
        "notes": "Mother and brother present.",
        "follow_up": "no",
    }
    answers.update(overrides)
    return answers


async def setting(app: Starlette):  # type: ignore[no-untyped-def]
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER, name="Joseph Okello")
    worker = await world.user(org, Role.WORKER, name="Brenda Achieng")
    participant = await world.participant(org, officer)
    await participant.workers.add(worker)
    return org, officer, worker, participant


async def filled_form(client, participant, pillar: str):  # type: ignore[no-untyped-def]
    page = await client.get(f"/log/{participant.id}/{pillar}")
    assert page.status_code == 200
    action = re.search(
        r'<form class="stack session-form" method="post" action="([^"]+)"', page.text
    )
    version = re.search(r'name="form_version" value="(\d+)"', page.text)
    assert action and version
    return action.group(1).replace("&amp;", "&"), version.group(1)


async def fill_family(client, participant, **overrides):  # type: ignore[no-untyped-def]
    action, version = await filled_form(client, participant, "family")
    data = {
        **family_answers(**overrides),
        "participant": str(participant.id),
        "form_version": version,
        "family_present": ["mother", "siblings"],
        "setting": "home_visit",
        "family_readiness": "3",
        "family_concerns": ["housing"],
    }
    return action, data


async def test_worker_logs_a_session_without_javascript(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        action, data = await fill_family(client, participant)
        token = await csrf_token(client)
        response = await client.post(
            action, data={**data, "csrf_token": token}, headers={"origin": "http://localhost:8000"}
        )
        if response.status_code == 422:
            pytest.fail(re.findall(r'class="problem"[^>]*>([^<]+)', response.text).__repr__())
        assert response.status_code == 303
        log = await SessionLog.get(participant=participant)
        assert log.pillar is Pillar.FAMILY and log.attendance is Attendance.ATTENDED
        assert log.author_id == worker.id and log.duration_minutes == 45
        assert log.seq > 0
        page = await client.get(response.headers["location"])
        assert "Mother and brother present." in page.text
        # The same form sent twice (double tap, back button) is stored once.
        again = await client.post(
            action, data={**data, "csrf_token": token}, headers={"origin": "http://localhost:8000"}
        )
        assert again.status_code == 303
        assert await SessionLog.filter(participant=participant).count() == 1


async def test_errors_keep_everything_typed(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        action, data = await fill_family(client, participant, duration_minutes="9999")
        data["notes"] = "Кездесу жақсы өтті ‮ مرحبا <script>alert(1)</script>"
        response = await post_form(client, action, data)
        assert response.status_code == 422
        assert 'aria-invalid="true"' in response.text
        assert "9999" in response.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
        assert "<script>alert(1)</script>" not in response.text
        assert await SessionLog.all().count() == 0


async def test_same_id_different_content_is_a_conflict_not_an_overwrite(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        action, data = await fill_family(client, participant)
        assert (await post_form(client, action, data)).status_code == 303
        changed = {**data, "notes": "A different note"}
        assert (await post_form(client, action, changed)).status_code == 303
    log = await SessionLog.get(participant=participant)
    assert log.notes == "Mother and brother present."
    conflict = await Conflict.get(record_id=log.id)
    assert conflict.payload["values"]["notes"] == "A different note"


async def test_worker_corrects_until_reviewed_and_history_is_kept(app: Starlette) -> None:
    _, officer, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        action, data = await fill_family(client, participant)
        await post_form(client, action, data)
        log = await SessionLog.get(participant=participant)
        edit = await client.get(f"/sessions/{log.id}/edit")
        assert edit.status_code == 200 and "Mother and brother present." in edit.text
        corrected = {**data, "notes": "Mother, brother and uncle present."}
        response = await post_form(client, f"/sessions/{log.id}/edit", corrected)
        assert response.status_code == 303, response.text[:500]
        log = await SessionLog.get(id=log.id)
        assert log.revision == 2 and log.notes.startswith("Mother, brother and uncle")
        revision = await SessionLogRevision.get(session_log=log)
        assert revision.snapshot["notes"] == "Mother and brother present."
    async with await signed_in(app, officer) as officer_client:
        queue = await officer_client.get("/review")
        assert participant.code in queue.text
        view = await officer_client.get(f"/sessions/{log.id}")
        assert "Mother and brother present." in view.text  # the earlier version is shown
        reviewed = await post_form(
            officer_client, f"/sessions/{log.id}/review", {"comment": "Good"}
        )
        assert reviewed.status_code == 303
        assert participant.code not in (await officer_client.get("/review")).text
    async with await signed_in(app, worker) as client:
        late = await post_form(client, f"/sessions/{log.id}/edit", {**data, "notes": "Too late"})
        assert late.status_code == 409
        assert (await SessionLog.get(id=log.id)).notes.startswith("Mother, brother and uncle")


async def test_worker_cannot_log_for_someone_else_s_participant(app: Starlette) -> None:
    org, officer, worker, _ = await setting(app)
    other = await world.participant(org, officer)
    async with await signed_in(app, worker) as client:
        page = await client.get(f"/log/{other.id}/family")
        assert page.status_code == 404
        response = await post_form(
            client,
            f"/log/{other.id}/family?log={uuid.uuid4()}",
            {**family_answers(), "participant": str(other.id), "form_version": "1"},
        )
        assert response.status_code == 404
    assert await SessionLog.all().count() == 0


async def test_worker_home_shows_caseload_with_last_contact(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        home = await client.get("/")
        assert participant.code in home.text and 'href="/log"' in home.text
        action, data = await fill_family(client, participant)
        await post_form(client, action, data)
        home = await client.get("/")
        assert "No session logged yet" not in home.text


async def test_form_definitions_are_served_as_json_per_language(app: Starlette) -> None:
    _, _, worker, _ = await setting(app)
    async with await signed_in(app, worker) as client:
        arabic = (await client.get("/api/forms?lang=ar")).json()
        english = (await client.get("/api/forms?lang=en")).json()
    assert arabic["direction"] == "rtl" and english["direction"] == "ltr"
    assert {f["pillar"] for f in arabic["forms"]} == {p.value for p in Pillar}
    assert arabic["forms"][0]["hash"] == english["forms"][0]["hash"]  # same rules
    assert arabic["forms"][0] != english["forms"][0]  # other words


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31"])
async def test_a_day_before_the_programme_is_a_clear_error_not_a_500(
    app: Starlette, day: str
) -> None:
    # 0001-01-01 00:00 in Almaty (UTC+5) cannot be turned into UTC at all.
    _, _, worker, participant = await setting(app)
    worker.time_zone = "Asia/Almaty"
    await worker.save()
    async with await signed_in(app, worker) as client:
        action, data = await fill_family(
            client, participant, occurred_on=day, occurred_time="00:00"
        )
        token = await csrf_token(client)
        response = await client.post(
            action, data={**data, "csrf_token": token}, headers={"origin": "http://localhost:8000"}
        )
    assert response.status_code == 422
    assert "This date is too far in the past. Please check the year." in response.text
    assert await SessionLog.filter(participant=participant).count() == 0
