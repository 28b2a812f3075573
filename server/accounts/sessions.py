"""Server-side sign-in sessions.

The cookie carries only a random token; the database keeps its hash, so
every app server can check it and a leaked table opens no session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q

from server.accounts.models import LoginSession, User
from server.accounts.tokens import new_token, token_hash
from server.prepared import Prepared


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class Started:
    token: str
    session: LoginSession


async def start(
    *, user: User, now: datetime, ip: str, device: str, passkey_id: int | None = None
) -> Started:
    """Open a new session (always a new token: no fixation across sign-ins).

    ``passkey_id`` is the passkey that signed in: removing it ends the session.
    """
    token = new_token()
    session = await LoginSession.create(
        token_hash=token_hash(token),
        user=user,
        passkey_id=passkey_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        ip=ip[:64],
        device=device[:200],
    )
    return Started(token, session)


async def resume(*, token: str, now: datetime, lifetimes: Lifetimes) -> LoginSession | None:
    """The live session for ``token``, or None when unknown, idle or too old.

    An expired session is deleted on the spot. ``last_seen_at`` is written
    at most once a minute, to keep page views from all being writes.
    """
    # One query with joins, not three, its SQL built once per process: this
    # runs before every signed-in request (server/prepared.py).
    session = await _BY_TOKEN_HASH.first(token_hash(token))
    if session is None:
        return None
    expired = (
        now - session.last_seen_at > lifetimes.idle
        or now - session.created_at > lifetimes.absolute
        or not session.user.is_active
    )
    if expired:
        await session.delete()
        return None
    if now - session.last_seen_at > timedelta(minutes=1):
        session.last_seen_at = now
        await LoginSession.filter(token_hash=session.token_hash).update(last_seen_at=now)
    return session


_BY_TOKEN_HASH = Prepared(
    lambda hashed: (
        LoginSession.filter(token_hash=hashed).select_related("user", "user__organisation").limit(1)
    )
)


async def end(*, token: str) -> None:
    await LoginSession.filter(token_hash=token_hash(token)).delete()


async def end_opened_by(*, user_id: int, passkey_id: int) -> int:
    """End the sessions ``passkey_id`` opened, and those of ``user_id`` whose
    passkey is not known (opened before it was recorded): on the safe side."""
    return await LoginSession.filter(
        Q(passkey_id=passkey_id) | Q(passkey_id=None), user_id=user_id
    ).delete()


async def end_all(*, user_id: int) -> int:
    """End every session of one user (disabled account, revoked passkey)."""
    return await LoginSession.filter(user_id=user_id).delete()
