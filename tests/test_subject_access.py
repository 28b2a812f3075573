import json

from starlette.applications import Starlette

from server.audit.models import AuditEvent
from server.enums import Role
from tests.support import world
from tests.support.web import post_form, signed_in
from tests.test_sessions import fill_family, setting


async def test_officer_exports_everything_held_about_a_participant(app: Starlette) -> None:
    org, officer, worker, participant = await setting(app)
    participant.language = "kk"
    await participant.save()
    async with await signed_in(app, worker) as client:
        action, data = await fill_family(client, participant)
        assert (await post_form(client, action, data)).status_code == 303
    async with await signed_in(app, officer) as client:
        await client.get(f"/participants/{participant.id}")  # a read, audited
        exported = await client.get(f"/participants/{participant.id}/subject-access.json")
        assert exported.status_code == 200
        assert "attachment" in exported.headers["content-disposition"]
        held = json.loads(exported.text)
        assert held["participant"]["code"] == participant.code
        assert [log["notes"] for log in held["session_logs"]] == ["Mother and brother present."]
        assert held["session_logs"][0]["answers"]["family_present"] == ["mother", "siblings"]
        assert "participant.read" in {e["action"] for e in held["audit_events"]}
        document = await client.get(f"/participants/{participant.id}/subject-access")
        assert document.status_code == 200 and '<html lang="kk"' in document.text
        assert "Mother and brother present." in document.text
    assert await AuditEvent.filter(action="participant.subject_access").count() == 2
    other = await world.user(org, Role.OFFICER)
    for user in (worker, other):
        async with await signed_in(app, user) as client:
            path = f"/participants/{participant.id}/subject-access.json"
            assert (await client.get(path)).status_code == 404
