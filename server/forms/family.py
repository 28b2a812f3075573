"""Family engagement: a visit, meeting or call with the participant's family."""

from __future__ import annotations

from server.enums import Pillar
from server.forms.common import ABOUT, ATTENDED, CLOSING
from server.forms.fields import choices, long_text, multiple, scale, single
from server.forms.form import Form, Section
from server.i18n import N_

FAMILY_V1 = Form(
    pillar=Pillar.FAMILY,
    version=1,
    title=N_("Family engagement"),
    sections=(
        ABOUT,
        Section(
            N_("With the family"),
            (
                multiple(
                    "family_present",
                    N_("Who from the family took part?"),
                    choices(
                        ("mother", N_("Mother")),
                        ("father", N_("Father")),
                        ("spouse_partner", N_("Wife, husband or partner")),
                        ("children", N_("Children")),
                        ("siblings", N_("Brothers or sisters")),
                        ("grandparents", N_("Grandparents")),
                        ("other_relatives", N_("Other relatives")),
                        ("community_leader", N_("Community or religious leader")),
                    ),
                    help=N_("Choose everyone who took part."),
                    required=True,
                    show_when=ATTENDED,
                ),
                single(
                    "setting",
                    N_("How did you meet?"),
                    choices(
                        ("home_visit", N_("Home visit")),
                        ("office", N_("At the office")),
                        ("community_place", N_("In a community place")),
                        ("phone_video", N_("By phone or video call")),
                    ),
                    required=True,
                    show_when=ATTENDED,
                ),
                scale(
                    "family_readiness",
                    N_("How ready is the family to support the participant?"),
                    low=N_("Not ready"),
                    high=N_("Fully ready"),
                    required=True,
                    show_when=ATTENDED,
                ),
                multiple(
                    "family_concerns",
                    N_("What worries did the family talk about?"),
                    choices(
                        ("housing", N_("Housing")),
                        ("money", N_("Money")),
                        ("stigma", N_("How people in the community treat them")),
                        ("family_conflict", N_("Conflict in the family")),
                        ("children_needs", N_("Children's needs")),
                        ("safety", N_("Safety")),
                        ("none", N_("None of these")),
                        exclusive=("none",),
                    ),
                    help=N_("Choose all that apply, or “None of these”."),
                    required=True,
                    show_when=ATTENDED,
                ),
                long_text(
                    "next_steps",
                    N_("What next steps did you agree on?"),
                    show_when=ATTENDED,
                ),
            ),
        ),
        CLOSING,
    ),
)
