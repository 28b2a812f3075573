"""A family cannot answer an appointment that is over, through the page's
form (server/family/services.py): written after a mutant that dropped the
"still open" condition survived the suite."""

from __future__ import annotations

from starlette.applications import Starlette

from server.appointments.models import Appointment
from server.enums import AppointmentStatus
from tests.support.web import post_form, signed_in
from tests.test_family import family_world


async def test_a_done_appointment_takes_no_answer_from_the_form(app: Starlette) -> None:
    relative, _, shown, _, _ = await family_world()
    await Appointment.filter(id=shown.id).update(status=AppointmentStatus.DONE)
    async with await signed_in(app, relative) as client:
        page = await client.get("/")
        assert page.status_code == 200
        response = await post_form(
            client,
            f"/family/appointments/{shown.id}/response",
            {"response": "coming", "message": "canary: we will come"},
        )
    assert response.status_code == 422, response.status_code
    stored = await Appointment.get(id=shown.id)
    assert stored.status == AppointmentStatus.DONE
    assert stored.family_response is None and stored.family_message == ""
    assert stored.version == shown.version
