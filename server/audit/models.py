from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    """Who did what to which record, when, from where. Never note contents.

    Each event stores the hash of its predecessor, so altering, inserting or
    removing one breaks the chain (``homeward audit verify``). Actor and
    organisation are plain ids, not foreign keys, so the trail outlives the
    records it speaks of.
    """

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    actor_id = fields.IntField(null=True)
    organisation_id = fields.IntField(null=True, db_index=True)
    action = fields.CharField(max_length=64)
    object_type = fields.CharField(max_length=32, default="")
    object_id = fields.CharField(max_length=64, default="", db_index=True)
    ip = fields.CharField(max_length=64, default="")
    device = fields.CharField(max_length=200, default="")
    detail = fields.JSONField(default=dict)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64, unique=True)

    class Meta:
        table = "audit_event"


class AuditHead(Model):
    """The chain's tip. Updating this one row first serialises writers, and it
    records the length, so removing the newest events is detected too."""

    id = fields.IntField(primary_key=True)
    length = fields.BigIntField(default=0)
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "audit_head"
