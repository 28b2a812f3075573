from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_programme_coordinators')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProgrammeSnapshot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('quarter', fields.CharField(max_length=7)),
                ('countries', fields.CharField(max_length=16)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('figures', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'programme_snapshot', 'app': 'models', 'unique_together': (('quarter', 'countries'),), 'pk_attr': 'id', 'table_description': "A quarter's raw counts for one set of countries, kept for a day."},
            bases=['Model'],
        ),
    ]
