"""Vocabularies shared by models, forms and policies.

Values are stored in the database and sent to phones, so they are short,
stable English identifiers; what users read comes from the catalogues.
"""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"
    WORKER = "worker"
    FAMILY = "family"
    # Reads the programme's aggregated, suppressed figures of the
    # organisations of their countries; never a person (docs/programme.md).
    COORDINATOR = "coordinator"


class Pillar(StrEnum):
    """The four pillars of social reintegration named by the programme."""

    FAMILY = "family"
    EDUCATION = "education"
    VOCATIONAL = "vocational"
    COUNSELLING = "counselling"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNDISCLOSED = "undisclosed"


class Attendance(StrEnum):
    ATTENDED = "attended"
    MISSED = "missed"
    CANCELLED = "cancelled"


class AppointmentStatus(StrEnum):
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    DONE = "done"


class FamilyResponse(StrEnum):
    COMING = "coming"
    NOT_COMING = "not_coming"


class GoalStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    ACHIEVED = "achieved"
    DROPPED = "dropped"


class ReviewStatus(StrEnum):
    ON_TRACK = "on_track"
    SOME_CONCERNS = "some_concerns"
    SERIOUS_CONCERNS = "serious_concerns"


class Country(StrEnum):
    KAZAKHSTAN = "KZ"
    TUNISIA = "TN"
    UGANDA = "UG"
