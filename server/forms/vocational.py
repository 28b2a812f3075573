"""Vocational training: a workshop, training day or visit to a placement."""

from __future__ import annotations

from server.enums import Pillar
from server.forms.common import ABOUT, ATTENDED, CLOSING
from server.forms.fields import choices, number, single, text, when, yes_no
from server.forms.form import Form, Section
from server.i18n import N_

VOCATIONAL_V1 = Form(
    pillar=Pillar.VOCATIONAL,
    version=1,
    title=N_("Vocational training"),
    sections=(
        ABOUT,
        Section(
            N_("Training and work"),
            (
                single(
                    "trade",
                    N_("Which trade is the participant learning?"),
                    choices(
                        ("tailoring", N_("Sewing and tailoring")),
                        ("carpentry", N_("Carpentry")),
                        ("welding", N_("Welding")),
                        ("agriculture", N_("Farming")),
                        ("hairdressing", N_("Hairdressing")),
                        ("it", N_("Computers")),
                        ("driving", N_("Driving")),
                        ("cooking", N_("Cooking")),
                        ("other", N_("Other")),
                    ),
                    required=True,
                    show_when=ATTENDED,
                ),
                text(
                    "trade_other",
                    N_("Which other trade?"),
                    required=True,
                    show_when=when("trade", "other"),
                ),
                number(
                    "training_hours",
                    N_("How many hours of training since the last session?"),
                    help=N_("Whole hours. Write 0 if there was no training."),
                    min=0,
                    max=500,
                    required=True,
                    show_when=ATTENDED,
                ),
                yes_no(
                    "placement",
                    N_("Does the participant have a work placement or apprenticeship?"),
                    required=True,
                    show_when=ATTENDED,
                ),
                text(
                    "placement_where",
                    N_("Where is the placement or apprenticeship?"),
                    help=N_("The name of the workshop, business or employer."),
                    required=True,
                    show_when=when("placement", "yes"),
                ),
                yes_no(
                    "certificate",
                    N_("Has the participant received a certificate for this training?"),
                    required=True,
                    show_when=ATTENDED,
                ),
                single(
                    "income_status",
                    N_("What is the participant's work or income now?"),
                    choices(
                        ("no_income", N_("No income")),
                        ("casual", N_("Casual or day work")),
                        ("self_employed", N_("Works for themselves")),
                        ("employed", N_("Has a job")),
                        ("in_training", N_("Still in training")),
                    ),
                    required=True,
                    show_when=ATTENDED,
                ),
            ),
        ),
        CLOSING,
    ),
)
