import uuid
from datetime import datetime
from typing import Any

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

    @classmethod
    async def keep(
        cls,
        conn: Any,
        *,
        record_type: str,
        record_id: uuid.UUID,
        organisation_id: int,
        author: Any,
        payload: dict[str, Any],
        content_hash: str,
        received_at: datetime,
        seq: int,
    ) -> None:
        """Keep one conflicting version inside the transaction ``conn``.

        The same version sent again (same id and content) is kept once:
        ``ignore_conflicts`` on the unique (record, content) pair.
        """
        await cls.bulk_create(
            [
                cls(
                    record_type=record_type,
                    record_id=record_id,
                    organisation_id=organisation_id,
                    author=author,
                    payload=payload,
                    content_hash=content_hash,
                    received_at=received_at,
                    seq=seq,
                )
            ],
            ignore_conflicts=True,
            using_db=conn,
        )
