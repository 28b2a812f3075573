from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [("models", "0006_calendar_feed_seed")]

    initial = False

    operations = [
        ops.CreateModel(
            name="PushSubscription",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("user", fields.ForeignKeyField("models.User", source_field="user_id", db_constraint=True, to_field="id", related_name="push_subscriptions", on_delete=OnDelete.CASCADE)),
                ("endpoint_hash", fields.CharField(unique=True, max_length=64)),
                ("endpoint", fields.CharField(max_length=1024)),
                ("p256dh", fields.CharField(max_length=100)),
                ("auth", fields.CharField(max_length=40)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "push_subscription", "app": "models", "pk_attr": "id", "table_description": "One phone\u2019s Web Push subscription for a family member\u2019s reminders."},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ReminderSent",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("subscription", fields.ForeignKeyField("models.PushSubscription", source_field="subscription_id", db_constraint=True, to_field="id", related_name="reminders", on_delete=OnDelete.CASCADE)),
                ("appointment", fields.ForeignKeyField("models.Appointment", source_field="appointment_id", db_constraint=True, to_field="id", related_name="reminders", on_delete=OnDelete.CASCADE)),
                ("kind", fields.CharField(max_length=12)),
                ("version", fields.IntField()),
                ("starts_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "reminder_sent", "app": "models", "unique_together": (("subscription_id", "appointment_id", "kind", "version"),), "pk_attr": "id", "table_description": "A reminder taken for sending, written before the push is sent."},
            bases=["Model"],
        ),
    ]
