from tortoise import fields
from tortoise.models import Model

from server.enums import Country


class CoordinatorCountry(Model):
    """A country whose organisations a programme coordinator sees, in aggregate."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="coordinated_countries")
    user_id: int
    country = fields.CharEnumField(Country, max_length=2)

    class Meta:
        table = "coordinator_country"
        unique_together = (("user", "country"),)


class ProgrammeSnapshot(Model):
    """A quarter's raw counts for one set of countries, kept for a day.

    Counting a quarter at national scale reads hundreds of thousands of
    session logs; a quarter that has ended changes only by late syncs, so
    its counts are kept and counted again once a day (docs/programme.md).
    Aggregates only, never a person; published only through disclosure
    control, like freshly counted figures.
    """

    id = fields.IntField(primary_key=True)
    quarter = fields.CharField(max_length=7)  # "2026-Q3"
    countries = fields.CharField(max_length=16)  # "KZ,TN,UG"
    computed_at = fields.DatetimeField()
    figures = fields.JSONField()

    class Meta:
        table = "programme_snapshot"
        unique_together = (("quarter", "countries"),)
