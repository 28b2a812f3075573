from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from server.enums import Pillar
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_push_reminders')]

    initial = False

    operations = [
        ops.CreateModel(
            name='NeedsAssessment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('participant', fields.ForeignKeyField('models.Participant', source_field='participant_id', db_constraint=True, to_field='id', related_name='assessments', on_delete=OnDelete.CASCADE)),
                ('officer', fields.ForeignKeyField('models.User', source_field='officer_id', db_constraint=True, to_field='id', related_name='assessments_recorded', on_delete=OnDelete.CASCADE)),
                ('form_version', fields.IntField()),
                ('assessed_on', fields.DateField()),
                ('answers', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('risk_note', fields.TextField(default='', unique=False)),
                ('general_note', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'needs_assessment', 'app': 'models', 'indexes': [Index(fields=['participant_id', 'assessed_on'])], 'pk_attr': 'id', 'table_description': 'One needs assessment of a participant, recorded by the responsible'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AcceptedGoal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('assessment', fields.ForeignKeyField('models.NeedsAssessment', source_field='assessment_id', db_constraint=True, to_field='id', related_name='accepted', on_delete=OnDelete.CASCADE)),
                ('pillar', fields.CharEnumField(description='FAMILY: family\nEDUCATION: education\nVOCATIONAL: vocational\nCOUNSELLING: counselling', enum_type=Pillar, max_length=12)),
                ('goal', fields.ForeignKeyField('models.PlanGoal', source_field='goal_id', db_constraint=True, to_field='id', related_name='proposed_by', on_delete=OnDelete.CASCADE)),
                ('accepted_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'assessment_goal', 'app': 'models', 'unique_together': (('assessment_id', 'pillar'),), 'pk_attr': 'id', 'table_description': "A goal the officer accepted from an assessment's proposals: at most"},
            bases=['Model'],
        ),
    ]
