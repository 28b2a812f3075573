from tortoise import fields
from tortoise.models import Model


class ChangeCounter(Model):
    """The one-row source of change sequence numbers for pull-sync cursors."""

    id = fields.IntField(primary_key=True)
    value = fields.BigIntField(default=0)

    class Meta:
        table = "change_counter"
