"""Appointments as iCalendar events, carrying only what the family screen shows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from server import i18n
from server.family.services import FamilyAppointment

PRODID = "-//Homeward//Family appointments//EN"
# The phone's own calendar reminds the family: the day before and two hours
# before (issue 17, item 4). Its reminder text is the discreet title only.
ALARMS = (timedelta(days=-1), timedelta(hours=-2))


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
        # The same UID and SEQUENCE in the feed and in a single download, and
        # SEQUENCE is the appointment's version (raised by every change): a
        # phone calendar replaces its copy, and keeps a cancelled event as such.
        event.add("uid", f"{item.id}@{origin_host}")
        event.add("sequence", item.version)
        event.add("dtstamp", datetime.now(t.tz))
        event.add("dtstart", item.starts_at.astimezone(t.tz))
        event.add("dtend", item.ends_at.astimezone(t.tz))
        event.add("summary", _summary(item))
        if item.place:
            event.add("location", item.place)
        if item.latitude is not None and item.longitude is not None:
            event.add("geo", (item.latitude, item.longitude))
        description = _description(item)
        if description:
            event.add("description", description)
        cancelled = item.status == "cancelled"
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        if not cancelled:  # nobody is to be reminded of what will not happen
            for before in ALARMS:
                event.add_component(_alarm(before, str(event["summary"])))
        cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def _alarm(before: timedelta, text: str) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", before)
    alarm.add("description", text)
    return alarm


def _summary(item: FamilyAppointment) -> str:
    return title(item.worker_first_name)


def title(first_name: str) -> str:
    """Discreet: a lock screen or a shared calendar shows only "Appointment —
    Dana", never the organisation's name (it may name prison or the programme).
    The same words title the calendar event, its alarms and the push reminder."""
    t = i18n.current()
    if first_name:
        return t.gettext("Appointment — %(name)s", name=first_name)
    return t.gettext("Appointment")


def _description(item: FamilyAppointment) -> str:
    t = i18n.current()
    lines = []
    if item.what_to_bring:
        lines.append(t.gettext("What to bring: %(things)s", things=item.what_to_bring))
    if item.contact_phone:
        lines.append(t.gettext("Phone: %(phone)s", phone=item.contact_phone))
    return "\n".join(lines)
