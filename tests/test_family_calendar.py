"""Phone calendars follow changes (issue 17, item 3): a cancelled event stays
with STATUS:CANCELLED, SEQUENCE rises with every change, and a single
download carries the feed's UID and SEQUENCE. Every calendar is read by
icalendar (which writes them) and by vobject, an independent parser."""

from __future__ import annotations

import re
from typing import Any

import vobject
from icalendar import Calendar
from starlette.applications import Starlette

from server.appointments import services as appointment_services
from server.appointments.forms import AppointmentInput
from server.appointments.models import Appointment
from server.audit.services import SYSTEM
from server.enums import Pillar
from tests.support.web import post_form, signed_in
from tests.test_family_card import START, card_world

ORG_NAME = "Kampala Community Reintegration Network"


def events_both_ways(body: bytes) -> dict[str, dict[str, Any]]:
    """UID -> (status, sequence, summary) as each parser reads them; they must agree."""
    first = {
        str(e["uid"]): {
            "status": str(e.get("status", "")),
            "sequence": int(e.get("sequence", 0)),
            "summary": str(e["summary"]),
        }
        for e in Calendar.from_ical(body).walk("VEVENT")
    }
    parsed = vobject.readOne(body.decode("utf-8"))
    second = {
        str(e.uid.value): {
            "status": str(e.status.value) if hasattr(e, "status") else "",
            "sequence": int(e.sequence.value) if hasattr(e, "sequence") else 0,
            "summary": str(e.summary.value),
        }
        for e in parsed.vevent_list
    }
    assert first == second
    return first


async def _feed_path(client: Any) -> str:
    page = await post_form(client, "/family/calendar", {})
    link = re.search(r"<code data-feed-link>([^<]+)</code>", page.text)
    assert link
    return link.group(1).replace("http://localhost:8000", "")


async def test_feed_keeps_cancelled_events_and_raises_sequence(app: Starlette) -> None:
    relative, appointment = await card_world(language="en")
    kept = await appointment(Pillar.FAMILY)
    dropped = await appointment(Pillar.EDUCATION)
    kept_uid, dropped_uid = f"{kept.id}@localhost", f"{dropped.id}@localhost"
    async with await signed_in(app, relative) as client:
        path = await _feed_path(client)
        before = events_both_ways((await client.get(path)).content)
        assert before[kept_uid]["sequence"] == 1 and before[dropped_uid]["sequence"] == 1
        assert before[dropped_uid]["status"] == "CONFIRMED"

        await appointment_services.cancel(appointment=dropped, actor=SYSTEM)
        moved_to = AppointmentInput(
            pillar=Pillar.FAMILY,
            starts_at=START.replace(hour=12),
            ends_at=START.replace(hour=13),
            place=kept.place,
            with_user_id=kept.with_user_id,
            what_to_bring=kept.what_to_bring,
            family_visible=True,
        )
        await appointment_services.move(appointment=kept, data=moved_to, version=1, actor=SYSTEM)

        after = events_both_ways((await client.get(path)).content)
        assert after[dropped_uid]["status"] == "CANCELLED"
        assert after[dropped_uid]["sequence"] == 2
        assert after[kept_uid]["sequence"] == 2 and after[kept_uid]["status"] == "CONFIRMED"

        for shown, uid in ((kept, kept_uid), (dropped, dropped_uid)):
            single = await client.get(f"/family/appointments/{shown.id}/calendar.ics")
            assert events_both_ways(single.content)[uid] == after[uid]
    assert (await Appointment.get(id=kept.id)).moved_from == START


async def test_nothing_in_the_calendar_names_the_programme(app: Starlette) -> None:
    relative, appointment = await card_world(language="en")
    shown = await appointment(Pillar.COUNSELLING, latitude=0.3136, longitude=32.6181)
    async with await signed_in(app, relative) as client:
        path = await _feed_path(client)
        bodies = [
            (await client.get(path)).content,
            (await client.get(f"/family/appointments/{shown.id}/calendar.ics")).content,
        ]
    for body in bodies:
        events = events_both_ways(body)
        assert events[f"{shown.id}@localhost"]["summary"] == "Appointment — Brenda"
        text = body.decode("utf-8").lower()
        for word in ("prison", "reintegration", "programme", ORG_NAME.lower()):
            assert word not in text
        # The organisation's phone is there, without its name.
        assert "+256 700 123 456" in body.decode("utf-8")
        assert vobject.readOne(body.decode("utf-8")).vevent.geo.value == "0.3136;32.6181"
