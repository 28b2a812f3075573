from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AuditEvent',
            name='object_organisation_id',
            field=fields.IntField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='AuditHead',
            name='version',
            field=fields.SmallIntField(default=1),
        ),
    ]
