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


class PushSubscription(Model):
    """One phone's Web Push subscription for a family member's reminders.

    The endpoint is a capability URL at the phone's push service; p256dh and
    auth are the phone's keys the payload is encrypted to (RFC 8291). A
    subscription the push service answers 404 or 410 is deleted.
    """

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="push_subscriptions", on_delete=fields.CASCADE
    )
    user_id: int  # set by the ORM; declared for type checkers
    # Hashed for the unique index: endpoints run to several hundred characters.
    endpoint_hash = fields.CharField(max_length=64, unique=True)
    endpoint = fields.CharField(max_length=1024)
    p256dh = fields.CharField(max_length=100)
    auth = fields.CharField(max_length=40)
    created_at = fields.DatetimeField()

    class Meta:
        table = "push_subscription"


class ReminderSent(Model):
    """A reminder taken for sending: written BEFORE the push is sent, so two
    ``homeward reminders run`` at once cannot both send it (the unique
    constraint lets one insert win). Removed again when the push service
    fails (5xx, no answer), so the next run tries again.

    ``kind``: ``day_before``, ``morning``, ``cancelled``, ``moved``, or
    ``seen`` (not sent: what the phone already knew when it subscribed, so
    older changes are not announced as news). ``starts_at`` is the start the
    reminder spoke of: a family's own answer raises the version too, and must
    not bring the same day-before reminder again.
    """

    id = fields.IntField(primary_key=True)
    subscription = fields.ForeignKeyField(
        "models.PushSubscription", related_name="reminders", on_delete=fields.CASCADE
    )
    subscription_id: int
    appointment = fields.ForeignKeyField(
        "models.Appointment", related_name="reminders", on_delete=fields.CASCADE
    )
    appointment_id: uuid.UUID
    kind = fields.CharField(max_length=12)
    version = fields.IntField()
    starts_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reminder_sent"
        unique_together = (("subscription_id", "appointment_id", "kind", "version"),)
