"""What a family member's phone pulls (issue 17): enough to draw the same
card as the page offline (what, how to call, where on a map, moved,
cancelled, whether an answer is still taken), and nothing more."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette

from server.appointments.models import Appointment
from server.enums import AppointmentStatus, FamilyResponse, Pillar, Role
from server.sessions.models import SessionLog
from tests.support import world
from tests.support.web import signed_in

FULL_NAME = "Zarina Abdulkhamitovna Kassymova"
NOTE = "CONFIDENTIAL-NOTE-5519"
FAMILY_MESSAGE = "PRIVATE-MESSAGE-4471"


async def pulled_world() -> tuple[Any, dict[str, Appointment], datetime]:
    org = await world.organisation("Kampala Community Reintegration Network")
    org.contact_phone = "+256 700 123 456"
    await org.save()
    officer = await world.user(org, Role.OFFICER, name="Joseph Okello")
    worker = await world.user(org, Role.WORKER, name="Brenda Achieng")
    participant = await world.participant(org, officer, full_name=FULL_NAME)
    relative = await world.user(org, Role.FAMILY, name="Sarah Kato", language="kk")
    await participant.family.add(relative)
    # Whole minutes in the future, so the expected texts are exact.
    start = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)

    async def make(pillar: Pillar, starts_at: datetime, **extra: object) -> Appointment:
        return await Appointment.create(
            id=uuid.uuid4(),
            participant=participant,
            pillar=pillar,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            place="Nakawa Community Hall",
            with_user=worker,
            what_to_bring="School report",
            family_visible=True,
            created_by=officer,
            **extra,
        )

    made = {
        "moved": await make(
            Pillar.EDUCATION,
            start,
            latitude=0.3136,
            longitude=32.6181,
            moved_from=start - timedelta(days=1),
            family_response=FamilyResponse.COMING,
            family_message=FAMILY_MESSAGE,
        ),
        "cancelled": await make(
            Pillar.COUNSELLING, start + timedelta(days=1), status=AppointmentStatus.CANCELLED
        ),
        "started": await make(Pillar.VOCATIONAL, datetime.now(UTC) - timedelta(minutes=20)),
    }
    await SessionLog.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.COUNSELLING,
        form_version=1,
        occurred_at=start - timedelta(days=5),
        duration_minutes=30,
        author=worker,
        attendance="attended",
        notes=NOTE,
        content_hash="x",
    )
    return relative, made, start


async def test_the_family_pull_carries_what_the_offline_card_shows(app: Starlette) -> None:
    relative, made, start = await pulled_world()
    async with await signed_in(app, relative) as client:
        pulled = (await client.get("/api/sync/pull")).json()
    by_id = {a["id"]: a for a in pulled["appointments"]}
    moved = by_id[str(made["moved"].id)]
    assert moved["pillar"] == "education"
    assert moved["contact_phone"] == "+256 700 123 456"
    assert (moved["latitude"], moved["longitude"]) == (0.3136, 32.6181)
    assert datetime.fromisoformat(moved["moved_from"]) == start - timedelta(days=1)
    assert moved["answerable"] is True
    assert moved["response"] == "coming"
    # Cancelled stays on the phone, as cancelled, and takes no answer.
    cancelled = by_id[str(made["cancelled"].id)]
    assert (cancelled["status"], cancelled["answerable"]) == ("cancelled", False)
    assert cancelled["pillar"] == "counselling"
    assert (cancelled["latitude"], cancelled["longitude"], cancelled["moved_from"]) == (
        None,
        None,
        None,
    )
    # Under way: still shown, no longer answerable.
    assert by_id[str(made["started"].id)]["answerable"] is False
    assert sorted(moved) == [
        "answerable",
        "contact_phone",
        "ends_at",
        "id",
        "latitude",
        "longitude",
        "moved_from",
        "organisation",
        "pillar",
        "place",
        "response",
        "starts_at",
        "status",
        "version",
        "what_to_bring",
        "with",
    ]


async def test_the_family_pull_keeps_names_notes_and_messages_off_the_phone(
    app: Starlette,
) -> None:
    relative, _made, _start = await pulled_world()
    async with await signed_in(app, relative) as client:
        pulled = (await client.get("/api/sync/pull")).json()
    text = str(pulled)
    assert "Brenda" in text  # the worker's first name, as on the page
    for absent in (FULL_NAME, "Kassymova", "Achieng", "Okello", NOTE, FAMILY_MESSAGE):
        assert absent not in text
