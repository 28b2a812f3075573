from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_organisation_contact_phone')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Appointment',
            name='latitude',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Appointment',
            name='longitude',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Appointment',
            name='moved_from',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
