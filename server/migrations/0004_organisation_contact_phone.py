from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_session_passkey')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Organisation',
            name='contact_phone',
            field=fields.CharField(default='', max_length=32),
        ),
    ]
