"""Managing accounts and passkeys after enrolment."""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from server import policy
from server.accounts import sessions
from server.accounts.models import Passkey, User
from server.audit.services import Actor, record
from server.errors import Invalid, NotFound
from server.i18n import N_
from server.settings import LANGUAGES


async def own_passkey(*, user: User, passkey_id: int) -> Passkey:
    passkey = await Passkey.get_or_none(id=passkey_id, user=user, revoked_at=None)
    if passkey is None:
        raise NotFound()
    return passkey


async def rename_passkey(*, user: User, passkey_id: int, name: str, actor: Actor) -> Passkey:
    passkey = await own_passkey(user=user, passkey_id=passkey_id)
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 100:
        raise Invalid(N_("Please give the passkey a name of up to 100 characters."))
    passkey.name = cleaned
    async with in_transaction():
        await passkey.save(update_fields=["name"])
        await record(
            actor=actor, action="passkey.renamed", object_type="passkey", object_id=str(passkey.id)
        )
    return passkey


async def remove_passkey(*, user: User, passkey_id: int, now: datetime, actor: Actor) -> None:
    """Remove one of the user's own passkeys, never the last one."""
    passkey = await own_passkey(user=user, passkey_id=passkey_id)
    if await Passkey.filter(user=user, revoked_at=None).count() <= 1:
        raise Invalid(N_("This is your only passkey. Add another one before removing it."))
    passkey.revoked_at = now
    async with in_transaction():
        await passkey.save(update_fields=["revoked_at"])
        # A removed passkey may be on a lost phone: what it opened ends too.
        ended = await sessions.end_opened_by(user_id=user.id, passkey_id=passkey.id)
        await record(
            actor=actor,
            action="passkey.removed",
            object_type="passkey",
            object_id=str(passkey.id),
            detail={"sessions_ended": ended},
        )


async def set_language(*, user: User, language: str, actor: Actor) -> None:
    if language not in LANGUAGES:
        raise Invalid(N_("Please choose one of the languages offered."))
    user.language = language
    async with in_transaction():
        await user.save(update_fields=["language"])
        await record(
            actor=actor,
            action="account.language",
            object_type="user",
            object_id=str(user.id),
            detail={"language": language},
        )


async def organisation_user(*, admin: User, user_id: int, actor: Actor) -> User:
    """A user of the admin's own organisation, or NotFound (audited)."""
    other = await User.get_or_none(id=user_id)
    if (
        other is None
        or not policy.can_manage_users(admin)
        or not policy.same_organisation(admin, other)
    ):
        raise await policy.denied(actor, "user", str(user_id))
    return other


async def set_active(*, admin: User, user_id: int, active: bool, actor: Actor) -> User:
    """Disable (or re-enable) an account; disabling ends all its sessions at once."""
    other = await organisation_user(admin=admin, user_id=user_id, actor=actor)
    if other.id == admin.id:
        raise Invalid(N_("You cannot disable your own account."))
    other.is_active = active
    async with in_transaction():
        await other.save(update_fields=["is_active"])
        ended = 0 if active else await sessions.end_all(user_id=other.id)
        await record(
            actor=actor,
            action="user.enabled" if active else "user.disabled",
            object_type="user",
            object_id=str(other.id),
            detail={"sessions_ended": ended},
        )
    return other


async def revoke_passkey(*, admin: User, passkey_id: int, now: datetime, actor: Actor) -> None:
    """An admin revokes a passkey (a lost phone); the owner's sessions end."""
    passkey = await Passkey.get_or_none(id=passkey_id, revoked_at=None).prefetch_related("user")
    if passkey is None:
        raise await policy.denied(actor, "passkey", str(passkey_id))
    await organisation_user(admin=admin, user_id=passkey.user.id, actor=actor)
    passkey.revoked_at = now
    async with in_transaction():
        await passkey.save(update_fields=["revoked_at"])
        ended = await sessions.end_all(user_id=passkey.user.id)
        await record(
            actor=actor,
            action="passkey.revoked",
            object_type="passkey",
            object_id=str(passkey.id),
            detail={"user_id": passkey.user.id, "sessions_ended": ended},
        )


async def record_signout(*, actor: Actor) -> None:
    await record(
        actor=actor, action="signout", object_type="user", object_id=str(actor.user_id or "")
    )
