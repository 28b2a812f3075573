"""Counselling: psychosocial support, mentoring or religious counselling."""

from __future__ import annotations

from server.enums import Pillar
from server.forms.common import ABOUT, ATTENDED, CLOSING
from server.forms.fields import choices, long_text, multiple, single, text, when, yes_no
from server.forms.form import Form, Section
from server.i18n import N_

COUNSELLING_V1 = Form(
    pillar=Pillar.COUNSELLING,
    version=1,
    title=N_("Counselling"),
    sections=(
        ABOUT,
        Section(
            N_("The counselling"),
            (
                single(
                    "format",
                    N_("Was it an individual or a group session?"),
                    choices(("individual", N_("Individual")), ("group", N_("Group"))),
                    required=True,
                    show_when=ATTENDED,
                ),
                single(
                    "modality",
                    N_("What kind of support was it?"),
                    choices(
                        ("psychosocial", N_("Psychosocial support")),
                        ("mentoring", N_("Mentoring")),
                        ("religious", N_("Religious counselling by a recognised scholar")),
                        ("other", N_("Other")),
                    ),
                    required=True,
                    show_when=ATTENDED,
                ),
                text(
                    "modality_other",
                    N_("What other kind of support?"),
                    required=True,
                    show_when=when("modality", "other"),
                ),
                multiple(
                    "topics",
                    N_("What did you talk about?"),
                    choices(
                        ("family_relations", N_("Family relations")),
                        ("anger_stress", N_("Anger and stress")),
                        ("substance_use", N_("Alcohol or drug use")),
                        ("identity_belonging", N_("Identity and belonging")),
                        ("future_plans", N_("Plans for the future")),
                        ("trauma", N_("Painful past experiences")),
                        ("other", N_("Other")),
                    ),
                    help=N_("Choose all that apply."),
                    required=True,
                    show_when=ATTENDED,
                ),
                text(
                    "topics_other",
                    N_("What other topics?"),
                    required=True,
                    show_when=when("topics", "other"),
                ),
                yes_no(
                    "concerns_observed",
                    N_("Did you notice any worry about the participant's well-being or safety?"),
                    help=N_(
                        "For example strong distress, or signs of harm to themselves or others. "
                        "If someone is in danger now, follow your organisation's safety procedure."
                    ),
                    required=True,
                    show_when=ATTENDED,
                ),
                long_text(
                    "concerns_details",
                    N_("What did you notice?"),
                    required=True,
                    show_when=when("concerns_observed", "yes"),
                ),
                yes_no(
                    "referral_made",
                    N_("Did you refer the participant to another service?"),
                    required=True,
                    show_when=ATTENDED,
                ),
                text(
                    "referral_to",
                    N_("To which service or person?"),
                    required=True,
                    show_when=when("referral_made", "yes"),
                ),
            ),
        ),
        CLOSING,
    ),
)
