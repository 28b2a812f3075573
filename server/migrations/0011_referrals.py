from tortoise import migrations
from tortoise.migrations import operations as ops
from server.referrals.models import ReferralKind, ReferralStatus
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_programme_snapshot')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Referral',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('participant', fields.ForeignKeyField('models.Participant', source_field='participant_id', db_constraint=True, to_field='id', related_name='referrals', on_delete=OnDelete.CASCADE)),
                ('from_organisation', fields.ForeignKeyField('models.Organisation', source_field='from_organisation_id', db_constraint=True, to_field='id', related_name='referrals_made', on_delete=OnDelete.CASCADE)),
                ('to_organisation', fields.ForeignKeyField('models.Organisation', source_field='to_organisation_id', db_constraint=True, to_field='id', related_name='referrals_received', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='REFERRAL: referral\nTRANSFER: transfer', enum_type=ReferralKind, max_length=10)),
                ('pillars', fields.CharField(max_length=64)),
                ('share_goals', fields.BooleanField(default=False)),
                ('consent_recorded_by', fields.ForeignKeyField('models.User', source_field='consent_recorded_by_id', db_constraint=True, to_field='id', related_name='referrals_made', on_delete=OnDelete.CASCADE)),
                ('consent_recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('valid_until', fields.DateField()),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=ReferralStatus.PENDING, description='PENDING: pending\nACTIVE: active\nDECLINED: declined\nENDED: ended\nWITHDRAWN: withdrawn', enum_type=ReferralStatus, max_length=10)),
                ('reason', fields.TextField(default='', unique=False)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='referrals_decided', on_delete=OnDelete.CASCADE)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ended_by', fields.ForeignKeyField('models.User', source_field='ended_by_id', null=True, db_constraint=True, to_field='id', related_name='referrals_ended', on_delete=OnDelete.CASCADE)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'referral', 'app': 'models', 'indexes': [Index(fields=['to_organisation_id', 'status']), Index(fields=['participant_id', 'status'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReferralWorker',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('referral', fields.ForeignKeyField('models.Referral', source_field='referral_id', db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='referral_assignments', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'referral_worker', 'app': 'models', 'unique_together': (('referral_id', 'user_id'),), 'pk_attr': 'id', 'table_description': 'A partner worker assigned to a referral.'},
            bases=['Model'],
        ),
    ]
