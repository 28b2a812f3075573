from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_appointment_place_and_move')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CalendarFeed',
            name='seed',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
