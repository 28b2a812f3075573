"""Referrals: one organisation asks a partner to work with a participant.

The participant stays with the referring organisation (a transfer moves
them); the partner's assigned workers reach them for the referred pillars
while the referral is active and not past ``expires_at`` (docs/referrals.md).
"""

import uuid
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ReferralKind(StrEnum):
    REFERRAL = "referral"
    TRANSFER = "transfer"  # the whole case moves to the partner on acceptance


class ReferralStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"
    ENDED = "ended"
    WITHDRAWN = "withdrawn"  # the participant withdrew consent


class Referral(Model):
    id = fields.UUIDField(primary_key=True)
    participant = fields.ForeignKeyField("models.Participant", related_name="referrals")
    from_organisation = fields.ForeignKeyField("models.Organisation", related_name="referrals_made")
    to_organisation = fields.ForeignKeyField(
        "models.Organisation", related_name="referrals_received"
    )
    participant_id: uuid.UUID  # set by the ORM; declared for type checkers
    from_organisation_id: int
    to_organisation_id: int
    kind = fields.CharEnumField(ReferralKind, max_length=10)
    # Comma-separated Pillar values, never empty (``pillar_list``).
    pillars = fields.CharField(max_length=64)
    # What the consent covers beyond the code and the name every staff
    # member sees: the plan goals of the referred pillars.
    share_goals = fields.BooleanField(default=False)
    consent_recorded_by = fields.ForeignKeyField("models.User", related_name="referrals_made")
    consent_recorded_by_id: int
    consent_recorded_at = fields.DatetimeField()
    valid_until = fields.DateField()
    # End of ``valid_until`` in the referring organisation's time zone, in
    # UTC: past it the referral counts as ended everywhere, at query time,
    # with no job and no stored change (``server.policy``).
    expires_at = fields.DatetimeField(db_index=True)
    status = fields.CharEnumField(ReferralStatus, max_length=10, default=ReferralStatus.PENDING)
    reason = fields.TextField(default="")  # of a decline or an ending
    decided_by = fields.ForeignKeyField("models.User", related_name="referrals_decided", null=True)
    decided_at = fields.DatetimeField(null=True)
    ended_by = fields.ForeignKeyField("models.User", related_name="referrals_ended", null=True)
    ended_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Bumped on every change, so two sides deciding at once cannot both win.
    version = fields.IntField(default=1)

    class Meta:
        table = "referral"
        indexes = (("to_organisation_id", "status"), ("participant_id", "status"))


class ReferralWorker(Model):
    """A partner worker assigned to a referral."""

    id = fields.IntField(primary_key=True)
    referral = fields.ForeignKeyField("models.Referral", related_name="assignments")
    user = fields.ForeignKeyField("models.User", related_name="referral_assignments")
    referral_id: uuid.UUID
    user_id: int

    class Meta:
        table = "referral_worker"
        unique_together = (("referral_id", "user_id"),)
