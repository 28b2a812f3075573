"""What people read for the participant and appointment vocabularies.

The stored values are short English identifiers (``server.enums``); these
maps give the marked, translatable wording that templates pass to ``_()``.
"""

from __future__ import annotations

from server.enums import AppointmentStatus, FamilyResponse, Gender, GoalStatus
from server.i18n import N_, pgettext
from server.sessions.labels import PILLARS

GENDERS = {
    Gender.FEMALE: N_("Woman"),
    Gender.MALE: N_("Man"),
    Gender.OTHER: N_("Other"),
    Gender.UNDISCLOSED: N_("Prefers not to say"),
}

GOAL_STATUSES = {
    GoalStatus.OPEN: N_("Not started"),
    GoalStatus.IN_PROGRESS: N_("In progress"),
    GoalStatus.ACHIEVED: N_("Achieved"),
    GoalStatus.DROPPED: N_("Dropped"),
}


def appointment_status(status: AppointmentStatus) -> str:
    """An appointment's status in the reader's language (call while rendering).

    With a context: "Cancelled" and "Done" also name a session's attendance
    and a button, with other words (and genders) in several languages.
    """
    if status is AppointmentStatus.SCHEDULED:
        return pgettext("appointment status", "Scheduled")
    if status is AppointmentStatus.CONFIRMED:
        return pgettext("appointment status", "Confirmed by the family")
    if status is AppointmentStatus.CANCELLED:
        return pgettext("appointment status", "Cancelled")
    return pgettext("appointment status", "Done")


FAMILY_RESPONSES = {
    FamilyResponse.COMING: N_("The family will come"),
    FamilyResponse.NOT_COMING: N_("The family will not come"),
}

__all__ = ["FAMILY_RESPONSES", "GENDERS", "GOAL_STATUSES", "PILLARS", "appointment_status"]
