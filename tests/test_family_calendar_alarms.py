"""The phone's calendar reminds the family (issue 17, item 4): every event in
the feed and in a single download carries two alarms, the day before and
two hours before, whose text is the discreet title; a cancelled event has
none. Read by icalendar (which writes them) and by vobject, independently."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import vobject
from icalendar import Calendar
from starlette.applications import Starlette

from server.appointments import services as appointment_services
from server.audit.services import SYSTEM
from server.enums import Pillar
from tests.support.web import signed_in
from tests.test_family_calendar import _feed_path
from tests.test_family_card import card_world

TWO_ALARMS = [("DISPLAY", timedelta(days=-1)), ("DISPLAY", timedelta(hours=-2))]


def alarms_both_ways(body: bytes) -> dict[str, list[tuple[str, timedelta, str]]]:
    """UID -> [(action, trigger, description)] as each parser reads them; they must agree."""
    first = {
        str(event["uid"]): [
            (str(a["action"]), a["trigger"].dt, str(a["description"])) for a in event.walk("VALARM")
        ]
        for event in Calendar.from_ical(body).walk("VEVENT")
    }
    second = {
        str(event.uid.value): [
            (a.action.value, a.trigger.value, a.description.value)
            for a in event.contents.get("valarm", [])
        ]
        for event in vobject.readOne(body.decode("utf-8")).vevent_list
    }
    assert first == second
    return first


async def test_every_event_has_two_discreet_alarms_and_a_cancelled_one_none(
    app: Starlette,
) -> None:
    relative, appointment = await card_world(language="kk")
    kept = await appointment(Pillar.FAMILY)
    dropped = await appointment(Pillar.EDUCATION)
    await appointment_services.cancel(appointment=dropped, actor=SYSTEM)
    async with await signed_in(app, relative) as client:
        path = await _feed_path(client)
        bodies: dict[str, Any] = {
            "feed": (await client.get(path)).content,
            "single": (await client.get(f"/family/appointments/{kept.id}/calendar.ics")).content,
            "single cancelled": (
                await client.get(f"/family/appointments/{dropped.id}/calendar.ics")
            ).content,
        }
    kept_uid, dropped_uid = f"{kept.id}@localhost", f"{dropped.id}@localhost"
    feed = alarms_both_ways(bodies["feed"])
    expected = [(action, trigger, "Кездесу уақыты — Brenda") for action, trigger in TWO_ALARMS]
    assert feed[kept_uid] == expected
    assert feed[dropped_uid] == []
    assert alarms_both_ways(bodies["single"]) == {kept_uid: expected}
    assert alarms_both_ways(bodies["single cancelled"]) == {dropped_uid: []}
    # As written on the wire (RFC 5545 durations), not only as parsed.
    for name, count in (("feed", 2), ("single", 2), ("single cancelled", 0)):
        text = bodies[name].decode("utf-8")
        assert text.count("BEGIN:VALARM") == count
        assert text.count("TRIGGER:-P1D\r\n") == text.count("TRIGGER:-PT2H\r\n") == count // 2
        assert text.count("ACTION:DISPLAY\r\n") == count
