from tortoise import fields
from tortoise.models import Model

from server.enums import Gender, GoalStatus, Pillar


class Participant(Model):
    """A person being supported. Shown by pseudonymous code by default."""

    id = fields.UUIDField(primary_key=True)
    organisation = fields.ForeignKeyField("models.Organisation", related_name="participants")
    code = fields.CharField(max_length=16, unique=True)
    full_name = fields.CharField(max_length=200)
    gender = fields.CharEnumField(Gender, max_length=12)
    date_of_birth = fields.DateField(null=True)
    release_date = fields.DateField(null=True)
    language = fields.CharField(max_length=5)
    officer = fields.ForeignKeyField("models.User", related_name="responsible_for", null=True)
    organisation_id: int  # set by the ORM; declared for type checkers
    officer_id: int | None
    workers: fields.ManyToManyRelation["User"] = fields.ManyToManyField(  # type: ignore[name-defined]  # noqa: F821
        "models.User", related_name="caseload", through="participant_worker"
    )
    family: fields.ManyToManyRelation["User"] = fields.ManyToManyField(  # type: ignore[name-defined]  # noqa: F821
        "models.User", related_name="relatives", through="participant_family"
    )
    consent_given = fields.BooleanField(default=False)
    consent_date = fields.DateField(null=True)
    # Set by the retention run: personal details erased, structure kept.
    erased_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    seq = fields.BigIntField(default=0, db_index=True)

    class Meta:
        table = "participant"
        # The officer's caseload (dashboard) and organisation-wide indicators.
        # The officer's caseload is always asked for within the organisation
        # (server/policy.py): with both in the index SQLite picks it without
        # statistics, instead of scanning the organisation by code.
        indexes = (("organisation_id", "officer_id", "code"), ("organisation_id", "code"))


class ConsentRecord(Model):
    """History of consent: given or withdrawn, when, and who recorded it."""

    id = fields.IntField(primary_key=True)
    participant = fields.ForeignKeyField("models.Participant", related_name="consents")
    given = fields.BooleanField()
    on_date = fields.DateField()
    recorded_by = fields.ForeignKeyField("models.User", related_name="consents_recorded", null=True)
    recorded_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "consent_record"


class PlanGoal(Model):
    """One goal of a participant's reintegration plan, under one pillar."""

    id = fields.UUIDField(primary_key=True)
    participant = fields.ForeignKeyField("models.Participant", related_name="goals")
    pillar = fields.CharEnumField(Pillar, max_length=12)
    text = fields.TextField()
    status = fields.CharEnumField(GoalStatus, max_length=12, default=GoalStatus.OPEN)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    seq = fields.BigIntField(default=0, db_index=True)

    class Meta:
        table = "plan_goal"
