import uuid

from tortoise import fields
from tortoise.models import Model

from server.enums import ReviewStatus


class ProgressReview(Model):
    """An officer's periodic judgement of progress under each pillar."""

    id = fields.UUIDField(primary_key=True)
    participant = fields.ForeignKeyField("models.Participant", related_name="reviews")
    officer = fields.ForeignKeyField("models.User", related_name="reviews_written")
    participant_id: uuid.UUID  # set by the ORM; declared for type checkers
    officer_id: int
    family = fields.CharEnumField(ReviewStatus, max_length=16)
    education = fields.CharEnumField(ReviewStatus, max_length=16)
    vocational = fields.CharEnumField(ReviewStatus, max_length=16)
    counselling = fields.CharEnumField(ReviewStatus, max_length=16)
    summary = fields.TextField(default="")
    reviewed_on = fields.DateField()
    next_review_on = fields.DateField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    seq = fields.BigIntField(default=0, db_index=True)

    class Meta:
        table = "progress_review"
        indexes = (("participant_id", "reviewed_on"), ("reviewed_on",))
