import uuid

from tortoise import fields
from tortoise.models import Model

from server.enums import Attendance, Pillar


class SessionLog(Model):
    """One session that happened. The id is made on the phone (idempotency key)."""

    id = fields.UUIDField(primary_key=True)
    participant = fields.ForeignKeyField("models.Participant", related_name="session_logs")
    pillar = fields.CharEnumField(Pillar, max_length=12)
    form_version = fields.IntField()
    occurred_at = fields.DatetimeField()
    duration_minutes = fields.IntField()
    place = fields.CharField(max_length=200, default="")
    author = fields.ForeignKeyField("models.User", related_name="session_logs")
    attendance = fields.CharEnumField(Attendance, max_length=10)
    answers = fields.JSONField(default=dict)
    engagement = fields.SmallIntField(null=True)
    notes = fields.TextField(default="")
    follow_up = fields.BooleanField(default=False)
    appointment = fields.ForeignKeyField(
        "models.Appointment", related_name="session_logs", null=True
    )
    # SHA-256 of the canonical payload: "same id, same content" is answered
    # as already stored, different content as a conflict.
    participant_id: uuid.UUID  # set by the ORM; declared for type checkers
    author_id: int
    appointment_id: uuid.UUID | None
    content_hash = fields.CharField(max_length=64)
    revision = fields.IntField(default=1)
    reviewed_at = fields.DatetimeField(null=True)
    reviewed_by = fields.ForeignKeyField("models.User", related_name="reviewed_logs", null=True)
    review_comment = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    seq = fields.BigIntField(default=0, db_index=True)

    class Meta:
        table = "session_log"
        indexes = (
            ("participant_id", "occurred_at"),
            ("author_id", "occurred_at"),
            # Indicators and exports read one period across the organisation.
            ("occurred_at",),
            # Open follow-ups per participant on the dashboard.
            ("participant_id", "follow_up", "reviewed_at"),
        )


class SessionLogRevision(Model):
    """An earlier version of a corrected session log, kept for the officer."""

    id = fields.IntField(primary_key=True)
    session_log = fields.ForeignKeyField("models.SessionLog", related_name="revisions")
    revision = fields.IntField()
    snapshot = fields.JSONField()
    edited_by = fields.ForeignKeyField("models.User", related_name="log_revisions")
    edited_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "session_log_revision"
        unique_together = (("session_log_id", "revision"),)
