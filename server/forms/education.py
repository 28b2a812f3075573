"""Education: a class, lesson or meeting about the participant's studies."""

from __future__ import annotations

from server.enums import Pillar
from server.forms.common import ABOUT, ATTENDED, CLOSING
from server.forms.fields import choices, scale, single, text, when, yes_no
from server.forms.form import Form, Section
from server.i18n import N_

EDUCATION_V1 = Form(
    pillar=Pillar.EDUCATION,
    version=1,
    title=N_("Education"),
    sections=(
        ABOUT,
        Section(
            N_("Studies"),
            (
                single(
                    "programme",
                    N_("Which programme is the participant following?"),
                    choices(
                        ("literacy", N_("Reading and writing")),
                        ("primary", N_("Primary school")),
                        ("secondary", N_("Secondary school")),
                        ("vocational_secondary", N_("Vocational school or college")),
                        ("higher", N_("University or higher education")),
                        ("other", N_("Other")),
                    ),
                    required=True,
                    show_when=ATTENDED,
                ),
                text(
                    "programme_other",
                    N_("Which other programme?"),
                    required=True,
                    show_when=when("programme", "other"),
                ),
                single(
                    "class_attendance",
                    N_("Since the last session, how often did the participant attend classes?"),
                    choices(
                        ("all", N_("Every class or almost every class")),
                        ("most", N_("Most classes")),
                        ("some", N_("Some classes")),
                        ("few", N_("Few or no classes")),
                    ),
                    required=True,
                    show_when=ATTENDED,
                ),
                scale(
                    "progress",
                    N_("How is the participant progressing?"),
                    low=N_("No progress"),
                    high=N_("Very good progress"),
                    required=True,
                    show_when=ATTENDED,
                ),
                yes_no(
                    "certificate_gained",
                    N_("Did the participant gain a certificate or diploma since the last session?"),
                    required=True,
                    show_when=ATTENDED,
                ),
                text(
                    "certificate_details",
                    N_("Which certificate or diploma?"),
                    required=True,
                    show_when=when("certificate_gained", "yes"),
                ),
            ),
        ),
        CLOSING,
    ),
)
