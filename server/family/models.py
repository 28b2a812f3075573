import uuid

from tortoise import fields
from tortoise.models import Model


class CalendarFeed(Model):
    """A family member's private calendar subscription. Only the token's hash
    and a random seed are kept; revoking it (by them or an officer) ends the
    feed at once."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    # The link's token is HMAC(key from the server secret, seed): the page can
    # show the link again without the database ever holding it. Null for links
    # made before that (they work until revoked, but cannot be shown again).
    seed = fields.CharField(max_length=64, null=True)
    user = fields.ForeignKeyField("models.User", related_name="calendar_feeds")
    user_id: int  # set by the ORM; declared for type checkers
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    last_read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "calendar_feed"


class AppointmentResponse(Model):
    """A family member's "will you come?" answer, as sent (possibly from an
    offline phone). Its id is made on the phone: the idempotency key."""

    id = fields.UUIDField(primary_key=True)
    appointment = fields.ForeignKeyField("models.Appointment", related_name="responses")
    appointment_id: uuid.UUID
    author = fields.ForeignKeyField("models.User", related_name="appointment_responses")
    author_id: int
    response = fields.CharField(max_length=12)
    message = fields.CharField(max_length=300, default="")
    # The appointment version the phone showed when the answer was given.
    base_version = fields.IntField()
    content_hash = fields.CharField(max_length=64)
    outcome = fields.CharField(max_length=12)  # "applied" | "conflict"
    received_at = fields.DatetimeField()

    class Meta:
        table = "appointment_response"
