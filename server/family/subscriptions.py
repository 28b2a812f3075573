"""A family member turns reminders on or off on one phone (Web Push).

What the phone sends is ``PushSubscription.toJSON()``: an endpoint URL at
its push service and two keys (RFC 8291: ``p256dh``, the phone's P-256
public key, 65 bytes; ``auth``, a 16-byte secret). Everything is checked
before anything is stored: a bad subscription would only fail later, in
the reminders run, where nobody can tell the family.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.audit.services import Actor, record
from server.enums import Role
from server.errors import Invalid
from server.family import reminders
from server.family.models import PushSubscription
from server.i18n import N_

ENDPOINT_MAX = 1024
# A family member's phones with reminders on; the oldest goes past this, so
# nobody can make the reminders run push to an endless list of addresses.
MAX_PHONES = 10
# Only for tests and a developer's machine: the app itself runs on http://.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})

BAD_SUBSCRIPTION = N_(
    "Reminders could not be turned on: this phone sent details that cannot be used."
    " Please try again. If it still does not work, your calendar link can remind you instead."
)


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def _b64url(value: Any, length: int) -> bytes:
    if not isinstance(value, str) or not value.isascii() or len(value) > 2 * length:
        raise Invalid(BAD_SUBSCRIPTION)
    try:
        raw = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise Invalid(BAD_SUBSCRIPTION) from None
    if len(raw) != length:
        raise Invalid(BAD_SUBSCRIPTION)
    return raw


def _endpoint(value: Any, *, allow_local_http: bool) -> str:
    if not isinstance(value, str) or not value.isascii() or not 0 < len(value) <= ENDPOINT_MAX:
        raise Invalid(BAD_SUBSCRIPTION)
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        raise Invalid(BAD_SUBSCRIPTION) from None
    local_http = allow_local_http and parts.scheme == "http" and host in LOCAL_HOSTS
    if not (parts.scheme == "https" or local_http) or not host or "@" in parts.netloc:
        raise Invalid(BAD_SUBSCRIPTION)
    if any(c.isspace() for c in value):
        raise Invalid(BAD_SUBSCRIPTION)
    if not local_http and not _public_name(host):
        raise Invalid(BAD_SUBSCRIPTION)
    return value


def _public_name(host: str) -> bool:
    """Push services are reached by DNS names (fcm.googleapis.com…): an IP
    address or a one-word name would make the reminders run post into the
    server's own network, so neither is taken."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "." in host.strip(".") and host != "localhost"
    return False


def parse(body: dict[str, Any], *, allow_local_http: bool) -> Subscription:
    """The subscription in a request body, checked.

    Args:
        allow_local_http: accept ``http://localhost`` and ``http://127.0.0.1``
            endpoints (when the app's own origin is http: tests only).

    Raises:
        Invalid: anything that is not a usable subscription (translated).
    """
    keys = body.get("keys")
    if not isinstance(keys, dict):
        raise Invalid(BAD_SUBSCRIPTION)
    endpoint = _endpoint(body.get("endpoint"), allow_local_http=allow_local_http)
    point = _b64url(keys.get("p256dh"), 65)
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:  # not an uncompressed point on P-256
        raise Invalid(BAD_SUBSCRIPTION) from None
    _b64url(keys.get("auth"), 16)
    return Subscription(endpoint, str(keys["p256dh"]).rstrip("="), str(keys["auth"]).rstrip("="))


async def subscribe(
    *, user: User, subscription: Subscription, now: datetime, actor: Actor
) -> PushSubscription:
    """Reminders on for this phone (the same phone again only renews its keys).

    What the family already knows is noted, so that a change made before
    today is not announced as news.
    """
    if user.role is not Role.FAMILY:
        raise await policy.denied(actor, "push_subscription", str(user.id))
    hashed = endpoint_hash(subscription.endpoint)
    async with in_transaction():
        # A phone has one subscription per site: if someone else signed in
        # on it had reminders on, the phone is now this person's.
        await policy.push_subscription_with_endpoint(hashed).exclude(user_id=user.id).delete()
        row = await policy.push_subscriptions_for(user).filter(endpoint_hash=hashed).first()
        if row is None:
            row = await PushSubscription.create(
                user=user,
                endpoint_hash=hashed,
                endpoint=subscription.endpoint,
                p256dh=subscription.p256dh,
                auth=subscription.auth,
                created_at=now,
            )
        else:
            row.p256dh, row.auth = subscription.p256dh, subscription.auth
            await row.save(update_fields=["p256dh", "auth"])
        kept = policy.push_subscriptions_for(user).order_by("-id").limit(MAX_PHONES)
        await (
            policy.push_subscriptions_for(user)
            .exclude(id__in=await kept.values_list("id", flat=True))
            .delete()
        )
        await record(
            actor=actor,
            action="reminders.subscribed",
            object_type="push_subscription",
            object_id=str(row.id),
        )
    await reminders.note_known(subscription=row, user=user, now=now)
    return row


async def unsubscribe(*, user: User, endpoint: Any, actor: Actor) -> None:
    """Reminders off for this phone; another person's phone is not found.

    Raises:
        NotFound: no subscription of this user has that endpoint (audited).
    """
    if not isinstance(endpoint, str) or len(endpoint) > ENDPOINT_MAX:
        raise Invalid(BAD_SUBSCRIPTION)
    row = await policy.own_push_subscription(user, endpoint_hash(endpoint), actor)
    async with in_transaction():
        await policy.row(row).delete()
        await record(
            actor=actor,
            action="reminders.unsubscribed",
            object_type="push_subscription",
            object_id=str(row.id),
        )
