"""Names of pillars and attendance as people read them."""

from __future__ import annotations

from server.enums import Attendance, Pillar
from server.i18n import N_

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
