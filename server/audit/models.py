from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    """Who did what to which record, when, from where. Never note contents.

    Each event stores the MAC of its predecessor, so altering, inserting or
    removing one breaks the chain (``homeward audit verify``). Actor and
    organisations are plain ids, not foreign keys, so the trail outlives the
    records it speaks of. ``organisation_id`` is the actor's side;
    ``object_organisation_id``, when set, is the organisation that holds the
    record (a refused look at another organisation's participant is shown to
    both admins).
    """

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    actor_id = fields.IntField(null=True)
    organisation_id = fields.IntField(null=True, db_index=True)
    object_organisation_id = fields.IntField(null=True, db_index=True)
    action = fields.CharField(max_length=64)
    object_type = fields.CharField(max_length=32, default="")
    object_id = fields.CharField(max_length=64, default="", db_index=True)
    ip = fields.CharField(max_length=64, default="")
    device = fields.CharField(max_length=200, default="")
    detail = fields.JSONField(default=dict)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64, unique=True)  # the event's MAC

    class Meta:
        table = "audit_event"


class AuditHead(Model):
    """The chain's tip. Updating this one row first serialises writers, and it
    records the length, so removing the newest events is detected too.
    ``version`` 1 is a chain of plain SHA-256 links from before keyed MACs; the
    first write after the upgrade re-seals it (``services.seal_legacy``)."""

    id = fields.IntField(primary_key=True)
    length = fields.BigIntField(default=0)
    hash = fields.CharField(max_length=64)
    version = fields.SmallIntField(default=1)

    class Meta:
        table = "audit_head"
