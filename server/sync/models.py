from tortoise import fields
from tortoise.models import Model


class ChangeCounter(Model):
    """The one-row source of change sequence numbers for pull-sync cursors."""

    id = fields.IntField(primary_key=True)
    value = fields.BigIntField(default=0)

    class Meta:
        table = "change_counter"


class Conflict(Model):
    """A record a phone sent again with the same id but different content.

    Neither version is thrown away: the stored one stays, this one is kept
    here until an officer resolves it, and the author sees it on the phone.
    """

    id = fields.IntField(primary_key=True)
    record_type = fields.CharField(max_length=32)
    record_id = fields.UUIDField(db_index=True)
    organisation_id = fields.IntField(db_index=True)
    author = fields.ForeignKeyField("models.User", related_name="conflicts")
    payload = fields.JSONField()
    content_hash = fields.CharField(max_length=64)
    received_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True)
    resolved_by = fields.ForeignKeyField(
        "models.User", related_name="conflicts_resolved", null=True
    )
    resolution = fields.CharField(max_length=16, default="")  # "kept" | "replaced"
    seq = fields.BigIntField(default=0, db_index=True)

    class Meta:
        table = "sync_conflict"
        unique_together = (("record_id", "content_hash"),)
