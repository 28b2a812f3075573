"""The needs assessment, declared like the session forms (server/forms/).

One section per pillar, in the pillars' order, each ending with the need
level that drives the proposals; then the notes. A version is never edited
once shipped: an assessment records the version it was made with. Field keys
start with their pillar's name, so a pillar's answers are told apart from
the others' in the stored answers and in what a referral may share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from server.enums import Pillar
from server.errors import Invalid
from server.forms.fields import Field, choices, long_text, multiple, single, text
from server.forms.form import Questions, Section
from server.i18n import N_


class Need(StrEnum):
    """How much support a pillar needs, as the officer judged it."""

    NONE = "none"
    SOME = "some"
    HIGH = "high"


NEED_LABELS = {
    Need.NONE: N_("No need"),
    Need.SOME: N_("Some need"),
    Need.HIGH: N_("High need"),
}
NEED_CHOICES = choices(*NEED_LABELS.items())
YES_NO_NOT_SURE = choices(("yes", N_("Yes")), ("no", N_("No")), ("not_sure", N_("Not sure")))
RISK_NOTE = "risk_note"
GENERAL_NOTE = "general_note"
NOTE_MAX_LENGTH = 4_000


def need(pillar: Pillar) -> str:
    """The key of ``pillar``'s need level."""
    return f"{pillar.value}_need"


def _need(pillar: Pillar) -> Field:
    return single(need(pillar), N_("How much support is needed here?"), NEED_CHOICES, required=True)


FAMILY = Section(
    N_("Family engagement"),
    (
        single(
            "family_home",
            N_("Where does the participant live now?"),
            choices(
                ("with_family", N_("With the family")),
                ("alone", N_("Alone")),
                ("with_others", N_("With friends or others")),
                ("no_home", N_("No stable place to live")),
            ),
            required=True,
        ),
        single(
            "family_contact",
            N_("Contact with the family"),
            choices(
                ("often", N_("Often")),
                ("sometimes", N_("Sometimes")),
                ("none", N_("No contact")),
                ("unknown", N_("Not known")),
            ),
            required=True,
        ),
        single(
            "family_readiness",
            N_("How ready is the family to receive the participant?"),
            choices(
                ("ready", N_("Ready")),
                ("not_sure", N_("Not sure yet")),
                ("not_ready", N_("Not ready")),
                ("no_family", N_("No family to return to")),
            ),
            required=True,
        ),
        multiple(
            "family_support",
            N_("What support does the family need?"),
            choices(
                ("basic_needs", N_("Money or basic needs")),
                ("housing", N_("Housing")),
                ("mediation", N_("Advice or mediation")),
                ("childcare", N_("Care for children")),
                ("none", N_("None")),
                exclusive=("none",),
            ),
        ),
        _need(Pillar.FAMILY),
    ),
)

EDUCATION = Section(
    N_("Education"),
    (
        single(
            "education_schooling",
            N_("Highest schooling reached"),
            choices(
                ("none", N_("No schooling")),
                ("primary", N_("Primary school")),
                ("secondary", N_("Secondary school")),
                ("vocational_secondary", N_("Vocational school or college")),
                ("higher", N_("University or higher education")),
            ),
            required=True,
        ),
        single(
            "education_wants",
            N_("Does the participant want to study?"),
            YES_NO_NOT_SURE,
            required=True,
        ),
        single(
            "education_literacy",
            N_("Reading and writing"),
            choices(
                ("no_help", N_("No help needed")),
                ("some_help", N_("Some help needed")),
                ("from_start", N_("Needs to learn from the start")),
            ),
            required=True,
        ),
        text(
            "education_learn",
            N_("What to learn"),
            help=N_("For example reading, a school diploma."),
        ),
        _need(Pillar.EDUCATION),
    ),
)

VOCATIONAL = Section(
    N_("Vocational training"),
    (
        single(
            "vocational_work",
            N_("What is the participant's work or income now?"),
            choices(
                ("no_income", N_("No income")),
                ("casual", N_("Casual or day work")),
                ("self_employed", N_("Works for themselves")),
                ("employed", N_("Has a job")),
                ("in_training", N_("Still in training")),
            ),
            required=True,
        ),
        text("vocational_skills", N_("Trade or skills already learned")),
        text("vocational_training", N_("Training wanted")),
        multiple(
            "vocational_documents",
            N_("Documents needed for work"),
            choices(
                ("identity", N_("Identity card or passport")),
                ("diploma", N_("Diploma or certificate")),
                ("work_record", N_("Work record book")),
                ("other", N_("Other")),
                ("none", N_("None")),
                exclusive=("none",),
            ),
        ),
        _need(Pillar.VOCATIONAL),
    ),
)

COUNSELLING = Section(
    N_("Counselling"),
    (
        multiple(
            "counselling_needs",
            N_("Support for well-being"),
            choices(
                ("stress", N_("Stress or worry")),
                ("grief", N_("Grief or loss")),
                ("substances", N_("Alcohol or drugs")),
                ("anger", N_("Anger")),
                ("other", N_("Other")),
                ("none", N_("None")),
                exclusive=("none",),
            ),
            required=True,
        ),
        single(
            "counselling_wants",
            N_("Does the participant want counselling?"),
            YES_NO_NOT_SURE,
            required=True,
        ),
        _need(Pillar.COUNSELLING),
    ),
)

NOTES = Section(
    N_("Notes"),
    (
        long_text(
            RISK_NOTE,
            N_("Notes on risk and safety"),
            help=N_(
                "Only your organisation sees this. It is never shared with partners or families."
            ),
            max_length=NOTE_MAX_LENGTH,
        ),
        long_text(
            GENERAL_NOTE,
            N_("Other notes"),
            help=N_("Only your organisation sees this too."),
            max_length=NOTE_MAX_LENGTH,
        ),
    ),
)


@dataclass(frozen=True)
class Declaration:
    """One version of the needs assessment: the questions, and which
    section holds each pillar's (checked when declared)."""

    questions: Questions
    pillars: Mapping[Pillar, Section]

    def __post_init__(self) -> None:
        if set(self.pillars) != set(Pillar):
            raise ValueError(f"assessment v{self.version}: a section for every pillar")
        for pillar, section in self.pillars.items():
            if section not in self.questions.sections:
                raise ValueError(f"assessment v{self.version}: {pillar} section not in the form")
            keys = [field.key for field in section.fields]
            if need(pillar) not in keys or not all(k.startswith(f"{pillar.value}_") for k in keys):
                raise ValueError(f"assessment v{self.version}: {pillar} keys must name it")
        notes = {RISK_NOTE, GENERAL_NOTE}
        if not notes <= set(self.questions.by_key) or notes & set(self.pillar_keys()):
            raise ValueError(f"assessment v{self.version}: the notes stand apart")

    @property
    def version(self) -> int:
        return self.questions.version

    def pillar_keys(self, pillar: Pillar | None = None) -> list[str]:
        """The answer keys of one pillar's section (of every pillar's when None)."""
        wanted = [pillar] if pillar else list(self.pillars)
        return [field.key for p in wanted for field in self.pillars[p].fields]


ASSESSMENT_V1 = Declaration(
    questions=Questions(
        pillar=None,
        version=1,
        title=N_("Needs assessment"),
        sections=(FAMILY, EDUCATION, VOCATIONAL, COUNSELLING, NOTES),
    ),
    pillars={
        Pillar.FAMILY: FAMILY,
        Pillar.EDUCATION: EDUCATION,
        Pillar.VOCATIONAL: VOCATIONAL,
        Pillar.COUNSELLING: COUNSELLING,
    },
)

VERSIONS: dict[int, Declaration] = {ASSESSMENT_V1.version: ASSESSMENT_V1}
LATEST = max(VERSIONS)


class UnknownAssessment(Invalid):
    code = "unknown_assessment"

    def __init__(self) -> None:
        super().__init__(N_("This form is not known. Please update the app and try again."))


def declaration(version: int) -> Declaration:
    """The needs assessment at ``version``, old versions included.

    Raises:
        UnknownAssessment: no such version.
    """
    try:
        return VERSIONS[version]
    except KeyError:
        raise UnknownAssessment() from None
