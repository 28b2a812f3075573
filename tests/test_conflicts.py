import uuid

from starlette.applications import Starlette

from server.enums import Role
from server.sessions.models import SessionLog, SessionLogRevision
from server.sync.models import Conflict
from tests.support import world
from tests.support.web import post_form, signed_in
from tests.test_sync import Phone, setting, values


async def test_officer_sees_both_versions_and_chooses(app: Starlette) -> None:
    org, officer, worker, participant = await setting(app)
    log_id = str(uuid.uuid4())
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        pid = str(participant.id)
        first = await phone.push([phone.entry(log_id, values(pid, notes="first phone"))])
        assert first.json()["results"][0]["status"] == "stored"
        second = await phone.push([phone.entry(log_id, values(pid, notes="second phone"))])
        assert second.json()["results"][0]["status"] == "conflict"
        pulled = (await client.get("/api/sync/pull?since=0")).json()
        assert {"id": log_id, "resolved": False} in pulled["conflicts"]  # the worker sees it
    async with await signed_in(app, officer) as client:
        page = await client.get("/conflicts")
        assert "first phone" in page.text and "second phone" in page.text
        conflict = await Conflict.get(record_id=log_id)
        response = await post_form(client, f"/conflicts/{conflict.id}", {"choice": "replace"})
        assert response.status_code == 303
        assert "second phone" not in (await client.get("/conflicts")).text
    log = await SessionLog.get(id=log_id)
    assert log.notes == "second phone" and log.revision == 2
    assert (await SessionLogRevision.get(session_log=log)).snapshot["notes"] == "first phone"
    assert (await Conflict.get(id=conflict.id)).resolution == "replaced"
    # Another officer, of the same organisation, sees none of it.
    other = await world.user(org, Role.OFFICER)
    async with await signed_in(app, other) as client:
        assert "second phone" not in (await client.get("/conflicts")).text
        refused = await post_form(client, f"/conflicts/{conflict.id}", {"choice": "keep"})
        assert refused.status_code == 404
