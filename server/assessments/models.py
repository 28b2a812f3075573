import uuid

from tortoise import fields
from tortoise.models import Model

from server.enums import Pillar


class NeedsAssessment(Model):
    """One needs assessment of a participant, recorded by the responsible
    officer. Never changed: each new assessment is a new row, and the
    history is what shows how needs moved."""

    id = fields.UUIDField(primary_key=True)
    participant = fields.ForeignKeyField("models.Participant", related_name="assessments")
    officer = fields.ForeignKeyField("models.User", related_name="assessments_recorded")
    participant_id: uuid.UUID  # set by the ORM; declared for type checkers
    officer_id: int
    form_version = fields.IntField()
    assessed_on = fields.DateField()
    # The answers of the pillars' sections (validated, as JSON types); the
    # notes are kept apart so nothing that reads answers can reach them.
    answers = fields.JSONField(default=dict)
    # Stays with the officer's organisation: never shared, never pulled.
    risk_note = fields.TextField(default="")
    general_note = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "needs_assessment"
        indexes = (("participant_id", "assessed_on"),)


class AcceptedGoal(Model):
    """A goal the officer accepted from an assessment's proposals: at most
    one per assessment and pillar, so a second tap (or a second tab) finds
    this row instead of adding the goal twice."""

    id = fields.IntField(primary_key=True)
    assessment = fields.ForeignKeyField("models.NeedsAssessment", related_name="accepted")
    pillar = fields.CharEnumField(Pillar, max_length=12)
    goal = fields.ForeignKeyField("models.PlanGoal", related_name="proposed_by")
    accepted_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "assessment_goal"
        unique_together = (("assessment_id", "pillar"),)
