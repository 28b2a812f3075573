"""Names of pillars and attendance as people read them."""

from __future__ import annotations

from server.enums import Attendance, Gender, Pillar
from server.i18n import N_, gettext, pgettext

PILLARS = {
    Pillar.FAMILY: N_("Family engagement"),
    Pillar.EDUCATION: N_("Education"),
    Pillar.VOCATIONAL: N_("Vocational training"),
    Pillar.COUNSELLING: N_("Counselling"),
}

ATTENDANCE = {
    Attendance.ATTENDED: N_("Attended"),
    Attendance.MISSED: N_("Missed"),
    Attendance.CANCELLED: N_("Cancelled"),
}


def attendance_of(attendance: Attendance, gender: Gender) -> str:
    """A session's attendance as it reads about this participant, translated.

    In Russian, Arabic and French "came" agrees with the person (пришла,
    حضرت, présente): the catalogues hold one entry per gender, told apart by
    the contexts "female" and "male". Anyone else gets words that need no
    gender (присутствие, حضور, présence).
    """
    if attendance is Attendance.ATTENDED and gender is Gender.FEMALE:
        return pgettext("female", "Attended")
    if attendance is Attendance.ATTENDED and gender is Gender.MALE:
        return pgettext("male", "Attended")
    if attendance is Attendance.MISSED and gender is Gender.FEMALE:
        return pgettext("female", "Missed")
    if attendance is Attendance.MISSED and gender is Gender.MALE:
        return pgettext("male", "Missed")
    return gettext(ATTENDANCE[attendance])
