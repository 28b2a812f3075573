"""A family member's private calendar link: made, shown again, read, ended.

The token in the link is never stored. It is HMAC-SHA-256, under a key
derived from the server secret, of a random per-link seed kept in the row;
only the seed and the token's hash are kept. So the page can show the link
again on every visit (audited), a leaked database alone yields no usable
link, and a link stays unguessable. Revoking sets ``revoked_at``: the hash
no longer finds a live row and the page stops showing the link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.accounts.tokens import token_hash
from server.audit.services import Actor, record
from server.enums import Role
from server.errors import NotFound
from server.family.models import CalendarFeed

# Binds the derived key to this one use of the server secret.
KEY_INFO = b"homeward/calendar-feed-link/v1"


def _key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO).derive(
        secret.encode()
    )


def feed_token(*, secret: str, seed: str) -> str:
    """The link's token for a seed: 256 bits, URL-safe, the same every time."""
    mac = hmac.new(_key(secret), seed.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


@dataclass(frozen=True)
class FeedLink:
    """What the calendar page may say: whether a live link exists, and its
    token when it can be shown (not for links made before seeds, or after
    the server secret changed: those need a new link)."""

    active: bool
    token: str = ""


async def open_feed(*, user: User, now: datetime, actor: Actor, secret: str) -> str:
    """A new private calendar link; any earlier one stops working."""
    if user.role is not Role.FAMILY:
        raise await policy.denied(actor, "calendar_feed", str(user.id))
    seed = secrets.token_hex(32)
    token = feed_token(secret=secret, seed=seed)
    async with in_transaction():
        await CalendarFeed.filter(user=user, revoked_at=None).update(revoked_at=now)
        feed = await CalendarFeed.create(
            token_hash=token_hash(token), seed=seed, user=user, created_at=now
        )
        await record(
            actor=actor,
            action="calendar.created",
            object_type="calendar_feed",
            object_id=str(feed.id),
        )
    return token


async def current_link(*, user: User, actor: Actor, secret: str) -> FeedLink:
    """The family member's own live link, shown again; each showing is audited."""
    if user.role is not Role.FAMILY:
        raise await policy.denied(actor, "calendar_feed", str(user.id))
    # Only ever the signed-in person's own row: nobody else's link can be shown.
    feed = await CalendarFeed.filter(user_id=user.id, revoked_at=None).order_by("-id").first()
    if feed is None:
        return FeedLink(active=False)
    token = feed_token(secret=secret, seed=feed.seed) if feed.seed else ""
    if not token or not hmac.compare_digest(token_hash(token), feed.token_hash):
        return FeedLink(active=True)
    await record(
        actor=actor,
        action="calendar_link.read",
        object_type="calendar_feed",
        object_id=str(feed.id),
    )
    return FeedLink(active=True, token=token)


async def revoke_feeds(*, user_id: int, now: datetime, actor: Actor) -> int:
    """End a family member's calendar feeds (by them, or by an officer)."""
    async with in_transaction():
        count = await CalendarFeed.filter(user_id=user_id, revoked_at=None).update(revoked_at=now)
        await record(
            actor=actor,
            action="calendar.revoked",
            object_type="user",
            object_id=str(user_id),
            detail={"feeds": count},
        )
    return count


async def feed_owner(*, token: str, now: datetime, actor: Actor) -> User:
    """The family member a calendar token belongs to; every read is audited."""
    feed = await CalendarFeed.get_or_none(token_hash=token_hash(token), revoked_at=None)
    if feed is None:
        raise NotFound()
    user = await User.get(id=feed.user_id)
    if not user.is_active:
        raise NotFound()
    await CalendarFeed.filter(id=feed.id).update(last_read_at=now)
    await record(
        actor=Actor(user.id, user.organisation_id, actor.ip, actor.device),
        action="calendar.read",
        object_type="calendar_feed",
        object_id=str(feed.id),
    )
    return user


async def has_feed(user: User) -> bool:
    return await CalendarFeed.exists(user=user, revoked_at=None)
