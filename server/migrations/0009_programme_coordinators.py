from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from server.enums import Country, Role


class Migration(migrations.Migration):
    dependencies = [("models", "0008_needs_assessment")]

    initial = False

    operations = [
        ops.CreateModel(
            name="CoordinatorCountry",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="coordinated_countries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "country",
                    fields.CharEnumField(
                        description="KAZAKHSTAN: KZ\nTUNISIA: TN\nUGANDA: UG",
                        enum_type=Country,
                        max_length=2,
                    ),
                ),
            ],
            options={
                "table": "coordinator_country",
                "app": "models",
                "unique_together": (("user", "country"),),
                "pk_attr": "id",
                "table_description": "A country whose organisations a programme coordinator sees, in aggregate.",
            },
            bases=["Model"],
        ),
        ops.AlterField(
            model_name="Invitation",
            name="role",
            field=fields.CharEnumField(
                description="ADMIN: admin\nOFFICER: officer\nWORKER: worker\nFAMILY: family\nCOORDINATOR: coordinator",
                enum_type=Role,
                max_length=16,
            ),
        ),
        ops.AddField(
            model_name="Invitation",
            name="countries",
            field=fields.CharField(default="", max_length=32),
        ),
        ops.AddField(
            model_name="Organisation",
            name="is_programme",
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name="Organisation",
            name="suppression_threshold",
            field=fields.IntField(default=5),
        ),
        ops.AlterField(
            model_name="User",
            name="role",
            field=fields.CharEnumField(
                description="ADMIN: admin\nOFFICER: officer\nWORKER: worker\nFAMILY: family\nCOORDINATOR: coordinator",
                enum_type=Role,
                max_length=16,
            ),
        ),
    ]
