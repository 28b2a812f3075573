"""What the trail must show: failed enrolments, refusals across organisations,
caseload pulls."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from server.audit.models import AuditEvent
from server.enums import Role
from tests.support import world
from tests.support.authenticator import SoftAuthenticator
from tests.support.web import ORIGIN, post_json, signed_in


async def test_failed_enrolment_is_audited(client: httpx.AsyncClient) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER, name="Brenda Achieng")
    phone = SoftAuthenticator(origin=ORIGIN)
    options = await post_json(client, f"/api/auth/enrol/{token}/options")
    # No user verification: refused, and the refusal is in the trail.
    credential = phone.create(options.json(), verified=False)
    refused = await post_json(
        client, f"/api/auth/enrol/{token}/verify", {"credential": credential, "language": "en"}
    )
    assert refused.status_code == 400
    failed = await AuditEvent.filter(action="enrolment.failed")
    assert len(failed) == 1
    assert failed[0].organisation_id == org.id and failed[0].object_type == "invitation"
    assert failed[0].detail["reason"].startswith("registration")
    # A used or unknown link is audited too, without the token.
    await post_json(
        client,
        "/api/auth/enrol/not-a-real-token/verify",
        {"credential": {"id": "x"}, "language": "en"},
    )
    events = await AuditEvent.filter(action="enrolment.failed").order_by("id")
    assert len(events) == 2 and "not-a-real-token" not in str(events[1].detail)


async def test_refusal_is_shown_to_the_owning_organisation_s_admin(app: Starlette) -> None:
    mine = await world.organisation("Probation Kampala")
    theirs = await world.organisation("Other NGO")
    officer = await world.user(mine, Role.OFFICER)
    participant = await world.participant(mine, officer)
    outsider = await world.user(theirs, Role.OFFICER)
    owner_admin = await world.user(mine, Role.ADMIN)
    outsider_admin = await world.user(theirs, Role.ADMIN)
    async with await signed_in(app, outsider) as client:
        assert (await client.get(f"/participants/{participant.id}")).status_code == 404
    denied = await AuditEvent.get(action="access.denied", object_id=str(participant.id))
    assert denied.organisation_id == theirs.id
    assert denied.object_organisation_id == mine.id
    for admin, marked in ((owner_admin, True), (outsider_admin, False)):
        async with await signed_in(app, admin) as client:
            page = await client.get("/admin/audit?action=access.denied")
            assert page.status_code == 200
            assert str(participant.id) in page.text
            # The owning admin is told the attempt came from elsewhere.
            assert ("another organisation" in page.text) is marked
    # A third organisation's admin sees nothing of it.
    third_admin = await world.user(await world.organisation("Third NGO"), Role.ADMIN)
    async with await signed_in(app, third_admin) as client:
        page = await client.get("/admin/audit?action=access.denied")
        assert page.status_code == 200 and str(participant.id) not in page.text


async def test_caseload_pull_is_audited_once_per_pull(app: Starlette) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    for _ in range(3):
        participant = await world.participant(org, officer)
        await participant.workers.add(worker)
    async with await signed_in(app, worker) as client:
        for _ in range(2):
            assert (await client.get("/api/sync/pull?since=0")).status_code == 200
    pulls = await AuditEvent.filter(action="sync.pull").order_by("id")
    assert len(pulls) == 2
    assert pulls[0].actor_id == worker.id and pulls[0].detail["participants"] == 3
