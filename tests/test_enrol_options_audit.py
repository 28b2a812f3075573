"""The options step of an unusable enrolment link is audited, within limits.

Asking for a passkey's options with an expired, used or unknown link is the
first thing someone trying a stolen or guessed link does: it goes to the
trail as ``enrolment.failed`` (step "options"), as a refused verify step
does, for the organisation that issued the link, never with the token. The
per-IP enrolment limit (``ENROL_PER_IP``, 10 a minute, shared with the
verify step) is counted before anything is looked up or written, so one
address cannot write more than 10 such events a minute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from server.accounts.models import Invitation
from server.accounts.tokens import token_hash
from server.audit.models import AuditEvent
from server.enums import Role
from tests.support import world
from tests.support.web import post_json


async def _failed() -> list[AuditEvent]:
    return list(await AuditEvent.filter(action="enrolment.failed").order_by("id"))


async def test_options_for_an_expired_used_or_unknown_link_are_refused_and_audited(
    client: httpx.AsyncClient,
) -> None:
    org = await world.organisation("Probation Kampala")
    expired = await world.invitation_token(org, Role.WORKER, name="Brenda Achieng")
    used = await world.invitation_token(org, Role.WORKER, name="Joseph Okello")
    await Invitation.filter(token_hash=token_hash(expired)).update(
        expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    await Invitation.filter(token_hash=token_hash(used)).update(used_at=datetime.now(UTC))
    expired_id = (await Invitation.get(token_hash=token_hash(expired))).id
    used_id = (await Invitation.get(token_hash=token_hash(used))).id

    for token in (expired, used, "guessed-link-0000"):
        refused = await post_json(client, f"/api/auth/enrol/{token}/options")
        assert refused.status_code == 410, refused.text

    events = await _failed()
    assert [(e.object_type, e.object_id, e.organisation_id) for e in events] == [
        ("invitation", str(expired_id), org.id),
        ("invitation", str(used_id), org.id),
        ("invitation", "", None),
    ]
    assert [e.detail for e in events] == [
        {"reason": "invitation_unusable", "step": "options"},
    ] * 3
    assert [(e.actor_id, e.ip) for e in events] == [(None, "127.0.0.1")] * 3
    trail = str([(e.object_id, e.detail, e.device) for e in await AuditEvent.all()])
    for secret in (expired, used, "guessed-link-0000", "Brenda Achieng", "Joseph Okello"):
        assert secret not in trail


async def test_a_usable_link_s_options_write_no_refusal(client: httpx.AsyncClient) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER)
    answer = await post_json(client, f"/api/auth/enrol/{token}/options")
    assert answer.status_code == 200
    assert await _failed() == []


async def test_one_address_writes_at_most_ten_refusals_a_minute(
    client: httpx.AsyncClient,
) -> None:
    """Options and verify share the per-IP count: 6 + 4 are audited, the
    11th and 12th requests are refused before they are looked at."""
    for n in range(6):
        assert (await post_json(client, f"/api/auth/enrol/guess-{n}/options")).status_code == 410
    for n in range(4):
        verify = await post_json(
            client,
            f"/api/auth/enrol/guess-v{n}/verify",
            {"credential": {"id": "x"}, "language": "en"},
        )
        assert verify.status_code == 410
    assert len(await _failed()) == 10
    for path in ("/api/auth/enrol/guess-11/options", "/api/auth/enrol/guess-12/verify"):
        refused = await post_json(client, path, {"credential": {"id": "x"}, "language": "en"})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert len(await _failed()) == 10
