"""What people read for a referral's kind and status (marked for translation)."""

from __future__ import annotations

from datetime import datetime

from server.i18n import N_
from server.referrals.models import Referral, ReferralKind, ReferralStatus

KINDS = {
    ReferralKind.REFERRAL: N_("Work with the participant on some pillars (referral)"),
    ReferralKind.TRANSFER: N_("Become responsible for the participant (transfer)"),
}

STATUSES = {
    ReferralStatus.PENDING: N_("Waiting for an answer"),
    ReferralStatus.ACTIVE: N_("Accepted, in progress"),
    ReferralStatus.DECLINED: N_("Declined by the partner"),
    ReferralStatus.ENDED: N_("Finished"),
    ReferralStatus.WITHDRAWN: N_("Finished: consent withdrawn"),
}
EXPIRED = N_("Finished: the end date has passed")


def status_label(referral: Referral, now: datetime) -> str:
    """The status as people read it: past its end date, an open referral is
    finished, whatever is stored (expiry is decided at query time)."""
    open_ = referral.status in (ReferralStatus.PENDING, ReferralStatus.ACTIVE)
    if open_ and referral.expires_at <= now:
        return EXPIRED
    return STATUSES[referral.status]
