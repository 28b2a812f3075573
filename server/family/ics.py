"""Appointments as iCalendar events, carrying only what the family screen shows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from icalendar import Calendar, Event

from server import i18n
from server.family.services import FamilyAppointment

PRODID = "-//Homeward//Family appointments//EN"


def calendar(items: Iterable[FamilyAppointment], *, origin_host: str) -> bytes:
    """An iCalendar document; times are given in the family member's time zone."""
    t = i18n.current()
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", t.gettext("Appointments"))
    for item in items:
        event = Event()
        event.add("uid", f"{item.id}@{origin_host}")
        event.add("dtstamp", datetime.now(t.tz))
        event.add("dtstart", item.starts_at.astimezone(t.tz))
        event.add("dtend", item.ends_at.astimezone(t.tz))
        event.add("summary", _summary(item))
        if item.place:
            event.add("location", item.place)
        if item.what_to_bring:
            event.add(
                "description", t.gettext("What to bring: %(things)s", things=item.what_to_bring)
            )
        event.add("status", "CANCELLED" if item.status == "cancelled" else "CONFIRMED")
        cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def _summary(item: FamilyAppointment) -> str:
    t = i18n.current()
    if item.worker_first_name:
        return t.gettext(
            "Appointment with %(name)s, %(organisation)s",
            name=item.worker_first_name,
            organisation=item.organisation,
        )
    return t.gettext("Appointment, %(organisation)s", organisation=item.organisation)
