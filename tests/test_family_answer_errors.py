"""A family's answer is refused for good only when it is really not allowed:
a database error while it is taken is a failure the phone retries (issue 13)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from starlette.applications import Starlette
from tortoise.exceptions import OperationalError

from server.appointments.models import Appointment
from server.family import responses
from server.family.models import AppointmentResponse
from tests.support.sealing import seal
from tests.support.web import ORIGIN, csrf_token, signed_in
from tests.test_family import family_world


async def _push(app: Starlette, user: Any, record_id: str, appointment: str) -> Any:
    async with await signed_in(app, user) as client:
        key = (await client.get("/api/sync/key")).json()
        body = {
            "author": user.id,
            "appointment": appointment,
            "response": "coming",
            "message": "",
            "base_version": 1,
        }
        entry = {
            "id": record_id,
            "type": "appointment_response",
            "sealed": seal(body, record_id=record_id, kid=key["kid"], spki_b64=key["spki"]),
        }
        token = await csrf_token(client)
        return await client.post(
            "/api/sync/push",
            json={"records": [entry]},
            headers={"origin": ORIGIN, "x-csrf-token": token},
        )


async def test_a_database_error_is_not_a_refusal(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    relative, _participant, shown, _hidden, foreign = await family_world()
    record_id = str(uuid.uuid4())

    async def broken(**_: Any) -> Any:
        raise OperationalError("could not serialize access")

    monkeypatch.setattr(responses, "appointment", broken)
    failed = await _push(app, relative, record_id, str(shown.id))
    # A server error (the phone keeps the entry waiting and tries again),
    # never a per-record "rejected: not_allowed" the phone would keep for good.
    assert failed.status_code == 500
    assert "not_allowed" not in failed.text
    assert await AppointmentResponse.filter(id=record_id).count() == 0

    monkeypatch.undo()
    again = await _push(app, relative, record_id, str(shown.id))
    assert [r["status"] for r in again.json()["results"]] == ["stored"]
    assert (await Appointment.get(id=shown.id)).family_response == "coming"

    # A real "not allowed" is still final: another family's appointment.
    refused = await _push(app, relative, str(uuid.uuid4()), str(foreign.id))
    result = refused.json()["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "not_allowed")
