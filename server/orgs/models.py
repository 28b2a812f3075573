from tortoise import fields
from tortoise.models import Model

from server.enums import Country


class Organisation(Model):
    """An NGO, a probation office or a prison service. All data belongs to one."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    country = fields.CharEnumField(Country, max_length=2)
    default_language = fields.CharField(max_length=5)
    time_zone = fields.CharField(max_length=64)
    # Shown to families so they can call the organisation; stored normalised
    # (digits, a leading + and single spaces), empty until an admin sets it.
    contact_phone = fields.CharField(max_length=32, default="")
    # Days after release or consent withdrawal before personal data is erased.
    retention_days = fields.IntField(default=5 * 365)
    # The programme's own organisation: its admin invites the coordinators,
    # and its threshold is the smallest count the programme view publishes.
    is_programme = fields.BooleanField(default=False)
    suppression_threshold = fields.IntField(default=5)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organisation"
