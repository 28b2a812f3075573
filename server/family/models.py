from tortoise import fields
from tortoise.models import Model


class CalendarFeed(Model):
    """A family member's private calendar subscription. Only the token's hash
    is kept; revoking it (by them or an officer) ends the feed at once."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user = fields.ForeignKeyField("models.User", related_name="calendar_feeds")
    user_id: int  # set by the ORM; declared for type checkers
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    last_read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "calendar_feed"
