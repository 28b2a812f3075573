import uuid

from tortoise import fields
from tortoise.models import Model

from server.enums import AppointmentStatus, FamilyResponse, Pillar


class Appointment(Model):
    """A planned session. Phones can change it offline, hence the client id."""

    id = fields.UUIDField(primary_key=True)
    participant = fields.ForeignKeyField("models.Participant", related_name="appointments")
    pillar = fields.CharEnumField(Pillar, max_length=12)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    place = fields.CharField(max_length=200, default="")
    with_user = fields.ForeignKeyField("models.User", related_name="appointments", null=True)
    participant_id: uuid.UUID  # set by the ORM; declared for type checkers
    with_user_id: int | None
    what_to_bring = fields.CharField(max_length=500, default="")
    # Where the organisation entered them: the family's phone opens its own
    # maps app through a ``geo:`` link (no map is loaded from elsewhere).
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    # The start before the latest move, so the family sees "moved to …".
    moved_from = fields.DatetimeField(null=True)
    status = fields.CharEnumField(
        AppointmentStatus, max_length=10, default=AppointmentStatus.SCHEDULED
    )
    family_visible = fields.BooleanField(default=False)
    family_response = fields.CharEnumField(FamilyResponse, max_length=12, null=True)
    family_message = fields.CharField(max_length=300, default="")
    created_by = fields.ForeignKeyField("models.User", related_name="appointments_created")
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    seq = fields.BigIntField(default=0, db_index=True)

    class Meta:
        table = "appointment"
        indexes = (("participant_id", "starts_at"), ("with_user_id", "starts_at"))
