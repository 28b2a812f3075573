"""Bad input gets a clear 4xx, never a 500 (issue 14, item 6).

Each case here was a 500 on commit 6aec194: deep JSON (500 to 950 levels, even
without signing in), huge page numbers, dates at the ends of the calendar,
malformed credentials, a credential id another account has, an invitation
name over 200 characters, a form version that is not a number.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from server.accounts.models import Invitation, Passkey, User
from server.appointments.models import Appointment
from server.enums import Attendance, Pillar, Role
from server.sessions.models import SessionLog
from tests.support import world
from tests.support.authenticator import SoftAuthenticator
from tests.support.web import ORIGIN, csrf_token, enrol, post_form, post_json, signed_in

DEPTHS = [500, 700, 950]


def deep(kind: str, depth: int) -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"credential": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


async def raw_json(client: httpx.AsyncClient, url: str, body: bytes) -> httpx.Response:
    token = await csrf_token(client)
    return await client.post(
        url,
        content=body,
        headers={
            "origin": ORIGIN,
            "x-csrf-token": token,
            "content-type": "application/json",
            "accept": "application/json",
        },
    )


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("kind", ["array", "object"])
async def test_deep_json_without_signing_in_is_a_4xx(
    app: Starlette, client: httpx.AsyncClient, kind: str, depth: int
) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER)
    for url in ("/api/auth/signin/verify", f"/api/auth/enrol/{token}/verify"):
        response = await raw_json(client, url, deep(kind, depth))
        assert response.status_code == 422, (url, response.status_code)
        assert response.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("depth", DEPTHS)
async def test_deep_json_signed_in_is_a_4xx(app: Starlette, depth: int) -> None:
    org = await world.organisation()
    worker = await world.user(org, Role.WORKER)
    async with await signed_in(app, worker) as client:
        for url in ("/api/sync/push", "/api/account/passkeys/verify"):
            response = await raw_json(client, url, deep("object", depth))
            assert response.status_code == 422, (url, response.status_code)


async def test_deep_json_counts_against_the_sign_in_limit(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    """Rate limits apply before the body is parsed: 31 broken bodies, then 429."""
    statuses = [
        (await raw_json(client, "/api/auth/signin/verify", deep("array", 900))).status_code
        for _ in range(31)
    ]
    assert statuses == [422] * 30 + [429]


HUGE = "99999999999999999999"


async def test_huge_page_numbers(app: Starlette) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    admin = await world.user(org, Role.ADMIN)
    async with await signed_in(app, officer) as client:
        for page in (HUGE, "-1", "0", "1e9", "٣"):
            response = await client.get(f"/participants?page={page}")
            assert response.status_code == 200, (page, response.status_code)
    async with await signed_in(app, admin) as client:
        for page in (HUGE, "-1", "0", "1e9", "٣"):
            response = await client.get(f"/admin/audit?page={page}")
            assert response.status_code == 200, (page, response.status_code)
            # The actor filter is an id: past the database's integer, no one.
            response = await client.get(f"/admin/audit?actor={page}")
            assert response.status_code == 200, (page, response.status_code)


EDGES = ["0001-01-01", "9999-12-31"]


@pytest.mark.parametrize("day", EDGES)
async def test_dates_at_the_ends_of_the_calendar(app: Starlette, day: str) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    admin = await world.user(org, Role.ADMIN)
    participant = await world.participant(org, officer)
    async with await signed_in(app, admin) as client:
        for query in (f"from={day}", f"to={day}", f"from={day}&to={day}"):
            response = await client.get(f"/admin/audit?{query}")
            assert response.status_code in (200, 422), (query, response.status_code)
    async with await signed_in(app, officer) as client:
        for url in ("/indicators", "/indicators/export.csv"):
            for query in (f"from={day}", f"to={day}", f"from={day}&to={day}"):
                response = await client.get(f"{url}?{query}")
                assert response.status_code == 422, (url, query, response.status_code)
        form = {
            "pillar": "education",
            "date": day,
            "start": "23:30" if day.startswith("9999") else "00:10",
            "end": "",
            "duration": "120",
            "place": "",
            "with_user": "",
            "what_to_bring": "",
        }
        response = await post_form(client, f"/participants/{participant.id}/appointments/new", form)
        assert response.status_code == 422, response.status_code
        form["end"], form["duration"] = "23:59", ""
        response = await post_form(client, f"/participants/{participant.id}/appointments/new", form)
        assert response.status_code == 422, response.status_code


MALFORMED = [
    {"credential": {"id": 5, "rawId": [1, 2], "type": 7, "response": "x"}},
    {"credential": {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}},
    {
        "credential": {
            "id": "AAAA",
            "rawId": "AAAA",
            "type": "public-key",
            "response": {"clientDataJSON": "!!", "attestationObject": 5, "authenticatorData": []},
        }
    },
    {"credential": {"id": "%%%", "rawId": None, "response": {"clientDataJSON": None}}},
    {"credential": []},
    {"credential": "x"},
]


@pytest.mark.parametrize("body", MALFORMED)
async def test_malformed_credentials_at_sign_in_and_enrolment(
    app: Starlette, client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER)
    await post_json(client, "/api/auth/signin/options")
    response = await post_json(client, "/api/auth/signin/verify", body)
    assert 400 <= response.status_code < 500, response.status_code
    await post_json(client, f"/api/auth/enrol/{token}/options")
    response = await post_json(
        client, f"/api/auth/enrol/{token}/verify", {**body, "language": "en"}
    )
    assert 400 <= response.status_code < 500, response.status_code
    assert await User.all().count() == 0


async def test_enrolling_a_credential_id_another_account_has(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    org = await world.organisation()
    first = SoftAuthenticator(origin=ORIGIN)
    assert (
        await enrol(client, first, await world.invitation_token(org, Role.WORKER))
    ).status_code == 200
    taken = first.credentials[-1].credential_id
    token = await world.invitation_token(org, Role.WORKER, name="Second Person")
    other = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with other:
        second = SoftAuthenticator(origin=ORIGIN)
        options = await post_json(other, f"/api/auth/enrol/{token}/options")
        credential = second.create(options.json())
        # The same credential id, with a different key: a clone or a forgery.
        forged = _with_credential_id(second, credential, taken, options.json())
        response = await post_json(
            other, f"/api/auth/enrol/{token}/verify", {"credential": forged, "language": "en"}
        )
    assert 400 <= response.status_code < 500, response.status_code
    assert await User.filter(name="Second Person").count() == 0
    assert await Passkey.all().count() == 1
    # The invitation was not used up by the refused attempt.
    assert (await Invitation.get(name="Second Person")).used_at is None


def _with_credential_id(
    authenticator: SoftAuthenticator, credential: dict[str, object], wanted: bytes, options: dict
) -> dict[str, object]:
    """Recreate the attestation with ``wanted`` as the credential id."""
    import secrets as _secrets

    real = _secrets.token_bytes
    _secrets_module = __import__("tests.support.authenticator", fromlist=["secrets"]).secrets
    _secrets_module.token_bytes = lambda n: wanted  # type: ignore[assignment]
    try:
        return authenticator.create(options)
    finally:
        _secrets_module.token_bytes = real  # type: ignore[assignment]


async def test_an_invitation_name_over_200_characters(app: Starlette) -> None:
    org = await world.organisation()
    admin = await world.user(org, Role.ADMIN)
    async with await signed_in(app, admin) as client:
        for name in ("Ә" * 201, "ع" * 5000):
            response = await post_form(
                client, "/invitations", {"role": "worker", "name": name, "language": "kk"}
            )
            assert response.status_code == 422, response.status_code
        response = await post_form(
            client, "/invitations", {"role": "worker", "name": "Ә" * 200, "language": "kk"}
        )
        assert response.status_code == 200, response.status_code
    assert [len(i.name) for i in await Invitation.all()] == [200]


async def test_form_version_that_is_not_a_number_on_a_log_edit(app: Starlette) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    participant = await world.participant(org, officer)
    await participant.workers.add(worker)
    log = await SessionLog.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        form_version=1,
        occurred_at=datetime.now(UTC) - timedelta(days=1),
        duration_minutes=30,
        author=worker,
        attendance=Attendance.ATTENDED,
        content_hash="x",
    )
    async with await signed_in(app, worker) as client:
        for version in ("abc", "99999999999999999999", "-1", "", "1.5"):
            response = await post_form(
                client, f"/sessions/{log.id}/edit", {"form_version": version}
            )
            assert 400 <= response.status_code < 500, (version, response.status_code)
        for version in ("abc", "1.5"):
            response = await post_form(
                client,
                f"/log/{participant.id}/family?log={uuid.uuid4()}",
                {"form_version": version},
            )
            assert 400 <= response.status_code < 500, (version, response.status_code)
    assert (await SessionLog.get(id=log.id)).revision == 1


async def test_huge_ids_in_paths_forms_and_links(app: Starlette) -> None:
    """Past a database INTEGER, an id is no record: 404 or a form problem, not
    an overflow inside PostgreSQL."""
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    admin = await world.user(org, Role.ADMIN)
    participant = await world.participant(org, officer)
    appointment = await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=datetime.now(UTC) + timedelta(days=3),
        ends_at=datetime.now(UTC) + timedelta(days=3, hours=1),
        created_by=officer,
    )
    async with await signed_in(app, officer) as client:
        for page in (HUGE, "٣", "-1"):
            assert (await client.get(f"/dashboard?page={page}")).status_code == 200
        response = await post_form(client, f"/conflicts/{HUGE}", {"action": "keep"})
        assert response.status_code == 404
        form = {
            "full_name": "Huge Workers",
            "gender": "female",
            "language": "en",
            "workers": HUGE,
        }
        response = await post_form(client, "/participants/new", form)
        assert response.status_code in (303, 422), response.status_code
        edit = {
            "pillar": "family",
            "date": "2030-05-01",
            "start": "10:00",
            "end": "11:00",
            "version": HUGE,
        }
        response = await post_form(client, f"/appointments/{appointment.id}/edit", edit)
        assert response.status_code in (303, 409, 422), response.status_code
    async with await signed_in(app, admin) as client:
        for url in (
            f"/admin/users/{HUGE}/disable",
            f"/admin/users/{HUGE}/recovery",
            f"/admin/passkeys/{HUGE}/revoke",
            f"/account/passkeys/{HUGE}/rename",
            f"/account/passkeys/{HUGE}/remove",
        ):
            response = await post_form(client, url, {"name": "x"})
            assert response.status_code == 404, (url, response.status_code)
