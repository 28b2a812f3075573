"""Reminders pushed to the family's phones: ``homeward reminders run``.

What is due, in the family member's own time zone:

- ``day_before``: from 18:00 on the day before the appointment until midnight;
- ``morning``: from 07:00 on the day until it starts (none for an
  appointment that starts at 07:00 or earlier: the evening before did);
- ``moved``: its start differs from the one the phone was last told of;
- ``cancelled``: it was cancelled after the phone subscribed.

A window that has passed is not made up for (a reminder at noon about the
evening before is no use). Each reminder is written to ``reminder_sent``
BEFORE it is pushed, under a unique (subscription, appointment, kind,
version): of two runs at once, one insert wins and only it sends. A push
that fails (5xx, no answer) removes its row again, so the next run retries;
one answered 404 or 410 (the phone dropped the subscription) removes the
subscription. A run that dies between the insert and the push loses that
one reminder: at most once, never twice.

Each run also forgets (deletes) the rows of appointments that ended more
than ``KEEP_DAYS`` days ago: an appointment that has started brings no more
reminders, so its rows only say who was told what, and need not grow forever.

Nothing here names the organisation, prison, reintegration or the
programme: a lock screen shows "Appointment — Dana" and a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from babel.support import NullTranslations
from cryptography.hazmat.primitives.asymmetric import ec
from pywebpush import WebPushException, webpush_async
from tortoise.exceptions import IntegrityError

from server import i18n, policy
from server.accounts.models import User
from server.appointments.models import Appointment
from server.enums import AppointmentStatus, Role
from server.family import ics, vapid
from server.family.models import PushSubscription, ReminderSent
from server.family.services import first_name
from server.i18n import N_

log = logging.getLogger("homeward.reminders")

DAY_BEFORE, MORNING, MOVED, CANCELLED, SEEN = "day_before", "morning", "moved", "cancelled", "seen"
EVENING = time(18, 0)  # the day before, local time
MORNING_AT = time(7, 0)  # on the day, local time
TIMEOUT_SECONDS = 15.0
MAX_TTL = 28 * 24 * 3600  # push services keep a message at most about four weeks
GONE = frozenset({404, 410})
# Rows of ``reminder_sent`` are kept this many days after their appointment
# ended (none is needed once it started): time to answer a family member who
# asks why their phone did or did not ring, no longer.
KEEP_DAYS = 7

TOMORROW = N_("Tomorrow at %(time)s")
TODAY = N_("Today at %(time)s")
MOVED_TO = N_("Moved to %(when)s")
CANCELLED_ON = N_("Cancelled: %(when)s")


@dataclass(frozen=True)
class Known:
    """A row of ``reminder_sent``: what a phone was told (or knew) of one appointment."""

    kind: str
    version: int
    starts_at: datetime


def due(
    *, status: AppointmentStatus, starts_at: datetime, known: list[Known], now: datetime, zone: str
) -> list[str]:
    """The kinds of reminder due now for one appointment on one phone.

    Args:
        known: what that phone was already told or knew (never empty: the
            first sight of an appointment is noted before this is asked).
    """
    if status is AppointmentStatus.CANCELLED:
        return [] if any(k.kind == CANCELLED for k in known) else [CANCELLED]
    if status not in policy.OPEN or starts_at <= now:
        return []
    kinds = []
    told = [k for k in known if k.kind in (SEEN, MOVED)]
    if told and max(told, key=lambda k: k.version).starts_at != starts_at:
        kinds.append(MOVED)
    tz = ZoneInfo(zone)
    day = starts_at.astimezone(tz).date()
    evening = datetime.combine(day - timedelta(days=1), EVENING, tz)
    midnight = datetime.combine(day, time(0, 0), tz)
    morning = datetime.combine(day, MORNING_AT, tz)
    for kind, opens, closes in ((DAY_BEFORE, evening, midnight), (MORNING, morning, starts_at)):
        already = any(k.kind == kind and k.starts_at == starts_at for k in known)
        if opens <= now < closes and opens < starts_at and not already:
            kinds.append(kind)
    return kinds


@dataclass
class Outcome:
    """What one run did, for the command's output and the tests."""

    sent: int = 0
    failed: int = 0  # kept, tried again next run
    removed: int = 0  # subscriptions the push service said are gone
    forgotten: int = 0  # rows of reminders about appointments long over
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pusher:
    """How to reach push services: the VAPID key and the JWT's subject."""

    key: ec.EllipticCurvePrivateKey
    subject: str  # "https://<our host>": who runs this server (RFC 8292, 2.1)
    catalogues: dict[str, NullTranslations]


async def note_known(*, subscription: PushSubscription, user: User, now: datetime) -> None:
    """Note what the phone knows when reminders are turned on: each upcoming
    appointment as it stands (not sent; changes before today are not news)."""
    for appointment in await _upcoming(user, now):
        await _note(subscription, appointment)


async def _note(subscription: PushSubscription, appointment: Appointment) -> None:
    kind = CANCELLED if appointment.status is AppointmentStatus.CANCELLED else SEEN
    # Already noted when the phone subscribed again, or by another run.
    with contextlib.suppress(IntegrityError):
        await ReminderSent.create(
            subscription_id=subscription.id,
            appointment_id=appointment.id,
            kind=kind,
            version=appointment.version,
            starts_at=appointment.starts_at,
            sent_at=None,
        )


async def _upcoming(user: User, now: datetime) -> list[Appointment]:
    # In UTC: SQLite compares the stored text, and "…06:59+05:00" would sort
    # after "…05:00+00:00" although it is earlier.
    now = now.astimezone(UTC)
    statuses = (*policy.OPEN, AppointmentStatus.CANCELLED)
    return list(
        await policy.appointments_for(user)
        .filter(starts_at__gt=now, status__in=statuses)
        .prefetch_related("with_user")
        .order_by("starts_at")
    )


async def run(*, now: datetime, pusher: Pusher) -> Outcome:
    """Send every reminder that is due at ``now``; safe to run at any time,
    as often as wanted, and several at once."""
    outcome = Outcome(forgotten=await forget_past(now=now))
    async with aiohttp.ClientSession() as session:
        subscriptions = await policy.every_push_subscription().prefetch_related(
            "user__organisation"
        )
        for subscription in subscriptions:
            user = subscription.user
            if user.role is not Role.FAMILY or not user.is_active:
                continue
            await _serve(subscription, user, now, pusher, session, outcome)
    return outcome


async def forget_past(*, now: datetime) -> int:
    """Delete, in one statement, the rows of appointments that ended more
    than ``KEEP_DAYS`` days before ``now``; returns how many went."""
    # In UTC, for SQLite's comparison of stored text (see ``_upcoming``).
    cutoff = now.astimezone(UTC) - timedelta(days=KEEP_DAYS)
    return int(await ReminderSent.filter(appointment__ends_at__lt=cutoff).delete())


async def _serve(
    subscription: PushSubscription,
    user: User,
    now: datetime,
    pusher: Pusher,
    session: aiohttp.ClientSession,
    outcome: Outcome,
) -> None:
    translator = i18n.Translator(
        user.language,
        pusher.catalogues.get(user.language, NullTranslations()),
        user.time_zone,
        territory=user.organisation.country.value,
    )
    i18n.activate(translator)
    for appointment in await _upcoming(user, now):
        rows = await ReminderSent.filter(
            subscription_id=subscription.id, appointment_id=appointment.id
        ).values_list("kind", "version", "starts_at")
        known = [Known(kind, version, start) for kind, version, start in rows]
        if not known:  # first sight of an appointment made since subscribing
            await _note(subscription, appointment)
            known = [Known(SEEN, appointment.version, appointment.starts_at)]
            if appointment.status is AppointmentStatus.CANCELLED:
                continue
        kinds = due(
            status=appointment.status,
            starts_at=appointment.starts_at,
            known=known,
            now=now,
            zone=user.time_zone,
        )
        for kind in kinds:
            try:
                taken = await ReminderSent.create(
                    subscription_id=subscription.id,
                    appointment_id=appointment.id,
                    kind=kind,
                    version=appointment.version,
                    starts_at=appointment.starts_at,
                    sent_at=now,
                )
            except IntegrityError:
                continue  # another run has taken this one
            # Kept by the push service until the appointment starts, no longer.
            ttl = int((appointment.starts_at - now).total_seconds())
            body = payload(appointment, kind)
            status = await _push(session, pusher, subscription, body, min(max(ttl, 60), MAX_TTL))
            if status in GONE:
                # The phone dropped it (reinstalled, permission taken back).
                await policy.row(subscription).delete()
                outcome.removed += 1
                return
            if status is None or status >= 300:
                await policy.row(taken).delete()  # the next run tries again
                outcome.failed += 1
                outcome.errors.append(f"subscription {subscription.id}: {status or 'no answer'}")
                continue
            outcome.sent += 1


def payload(appointment: Appointment, kind: str) -> dict[str, Any]:
    """The notification as the phone shows it, in the family's language."""
    t = i18n.current()
    start, end = appointment.starts_at, appointment.ends_at
    worker = first_name(appointment.with_user.name) if appointment.with_user else ""
    bodies = {
        DAY_BEFORE: lambda: t.gettext(TOMORROW, time=t.time(start)),
        MORNING: lambda: t.gettext(TODAY, time=t.time(start)),
        MOVED: lambda: t.gettext(MOVED_TO, when=t.when(start, end)),
        CANCELLED: lambda: t.gettext(CANCELLED_ON, when=t.when(start, end)),
    }
    return {
        "title": ics.title(worker),
        "body": bodies[kind](),
        # One notification per appointment on the lock screen: a newer one replaces it.
        "tag": f"appointment-{appointment.id}",
        "url": "/",
        "lang": t.language,
        "dir": t.direction,
    }


async def _push(
    session: aiohttp.ClientSession,
    pusher: Pusher,
    subscription: PushSubscription,
    body: dict[str, Any],
    ttl: int,
) -> int | None:
    """The push service's answer (201 when taken), or None when none came."""
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            response = await webpush_async(
                subscription_info={
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=json.dumps(body, ensure_ascii=False),
                vapid_private_key=vapid.signer(pusher.key),
                # A new dict each time: pywebpush writes "aud" and "exp" into it.
                vapid_claims={"sub": pusher.subject},
                content_encoding="aes128gcm",
                ttl=ttl,
                aiohttp_session=session,
            )
    except WebPushException as refused:
        return int(refused.status_code) if refused.status_code is not None else None
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        log.warning("push to subscription %s failed: %s", subscription.id, type(error).__name__)
        return None
    return int(response.status)
