from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_audit_keyed_chain')]

    initial = False

    operations = [
        ops.AddField(
            model_name='LoginSession',
            name='passkey',
            field=fields.ForeignKeyField('models.Passkey', source_field='passkey_id', null=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE),
        ),
    ]
