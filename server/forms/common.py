"""The questions every session form shares, before and after its own."""

from __future__ import annotations

from server.enums import Attendance
from server.forms.fields import (
    choices,
    date,
    long_text,
    number,
    participant,
    scale,
    single,
    text,
    time,
    when,
    yes_no,
)
from server.forms.form import Section
from server.i18n import N_

ATTENDED = when("attendance", Attendance.ATTENDED)
NOTES_MAX_LENGTH = 10_000

ABOUT = Section(
    N_("About the session"),
    (
        participant("participant", N_("Participant"), required=True),
        date("occurred_on", N_("Date of the session"), required=True),
        time(
            "occurred_time",
            N_("Time the session started"),
            help=N_("For example 14:30."),
            required=True,
        ),
        single(
            "attendance",
            N_("Did the session take place?"),
            choices(
                (Attendance.ATTENDED, N_("Yes, the participant attended")),
                (Attendance.MISSED, N_("No, the participant did not come")),
                (Attendance.CANCELLED, N_("No, the session was cancelled")),
            ),
            required=True,
        ),
        long_text(
            "attendance_reason",
            N_("Why did the session not take place?"),
            help=N_("Write what you know, for example illness, work or travel problems."),
            max_length=1_000,
            required=True,
            show_when=when("attendance", Attendance.MISSED, Attendance.CANCELLED),
        ),
        # Asked even for a missed session (the worker may have waited), but
        # only required when the session took place.
        number(
            "duration_minutes",
            N_("How long did the session last?"),
            help=N_("In minutes, for example 45."),
            min=5,
            max=600,
            required_when=ATTENDED,
        ),
        text(
            "place",
            N_("Place"),
            help=N_("For example the office, the family's home or the community centre."),
            required_when=ATTENDED,
        ),
        text(
            "facilitator",
            N_("Who led the session?"),
            help=N_("Leave your own name if you led it."),
            default_from="user",
        ),
        scale(
            "engagement",
            N_("How engaged was the participant?"),
            low=N_("Not engaged"),
            high=N_("Very engaged"),
            required=True,
            show_when=ATTENDED,
        ),
    ),
)

CLOSING = Section(
    N_("Notes and follow-up"),
    (
        long_text(
            "notes",
            N_("Notes"),
            help=N_("Write only what is needed for the support. Families never see these notes."),
            max_length=NOTES_MAX_LENGTH,
        ),
        yes_no("follow_up", N_("Is follow-up needed?"), required=True),
        long_text(
            "follow_up_details",
            N_("What follow-up is needed, and by whom?"),
            required=True,
            show_when=when("follow_up", "yes"),
        ),
    ),
)

# Stored in the session log's own columns; everything else is the form's
# type-specific answers.
COMMON_KEYS = frozenset(field.key for section in (ABOUT, CLOSING) for field in section.fields)
