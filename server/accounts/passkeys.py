"""WebAuthn ceremonies: enrolment from an invitation, adding a passkey, and
sign-in with a discoverable credential.

Challenges live in the database (any app server can finish a ceremony),
are bound to one ceremony cookie and one kind of ceremony, are deleted on
first use and expire after five minutes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from server.accounts.models import Challenge, Invitation, Passkey, User
from server.accounts.tokens import token_hash
from server.audit.services import Actor, record
from server.enums import Role
from server.errors import AppError
from server.i18n import N_
from server.programme.coordinators import assign_countries

CHALLENGE_TTL = timedelta(minutes=5)
RP_NAME = "Homeward"


# What a malformed credential (wrong types, bad base64, truncated data) can
# raise inside py_webauthn besides its own exceptions.
MALFORMED = (ValueError, KeyError, TypeError, AttributeError, IndexError)


class PasskeyError(AppError):
    status = 400
    code = "passkey_failed"

    def __init__(self, message: str | None = None, *, reason: str = "") -> None:
        super().__init__(message or N_("Your passkey could not be checked. Please try again."))
        self.reason = reason  # for the audit trail, never shown


class InvitationUnusable(AppError):
    status = 410
    code = "invitation_unusable"

    def __init__(self) -> None:
        super().__init__(
            N_("This invitation link has expired or was already used. Ask for a new one.")
        )


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    origin: str


@dataclass(frozen=True)
class Ceremony:
    """Options for the browser and the secret that binds its answer to them."""

    options_json: str
    ceremony_token: str


async def _store_challenge(
    *,
    ceremony: str,
    challenge: bytes,
    now: datetime,
    user: User | None = None,
    invitation: Invitation | None = None,
    user_handle: bytes | None = None,
) -> str:
    ceremony_token = secrets.token_urlsafe(32)
    await Challenge.create(
        id=token_hash(ceremony_token),
        ceremony=ceremony,
        challenge=challenge,
        user=user,
        invitation=invitation,
        user_handle=user_handle,
        expires_at=now + CHALLENGE_TTL,
    )
    return ceremony_token


async def _take_challenge(*, ceremony_token: str, ceremony: str, now: datetime) -> Challenge:
    """Fetch and delete the challenge: whatever happens next, it is used up."""
    challenge = await Challenge.get_or_none(id=token_hash(ceremony_token or "-"))
    if challenge is None:
        raise PasskeyError(reason="unknown_challenge")
    deleted = await Challenge.filter(id=challenge.id).delete()
    if not deleted:  # another request took it first
        raise PasskeyError(reason="challenge_reused")
    if challenge.ceremony != ceremony:
        raise PasskeyError(reason="wrong_ceremony")
    if challenge.expires_at < now:
        raise PasskeyError(reason="expired_challenge")
    return challenge


async def usable_invitation(*, token: str, now: datetime) -> Invitation:
    invitation = await Invitation.get_or_none(token_hash=token_hash(token)).prefetch_related(
        "organisation", "user", "participant"
    )
    if invitation is None or invitation.used_at is not None or invitation.expires_at < now:
        raise InvitationUnusable()
    return invitation


def _registration_options(
    rp: RelyingParty, *, handle: bytes, name: str, exclude: list[Passkey]
) -> tuple[str, bytes]:
    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=RP_NAME,
        user_id=handle,
        user_name=name,
        user_display_name=name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=bytes(p.credential_id)) for p in exclude
        ],
    )
    return options_to_json(options), options.challenge


async def begin_enrolment(*, rp: RelyingParty, token: str, now: datetime, actor: Actor) -> Ceremony:
    """Registration options for the person an invitation names.

    An unusable link is audited as ``enrolment.failed`` (step "options"), as
    at the verify step: it is the first request of someone trying a stolen or
    guessed link. The route counts the per-IP enrolment limit before calling
    this, so one address writes at most ``ENROL_PER_IP`` such events.
    """
    try:
        invitation = await usable_invitation(token=token, now=now)
    except InvitationUnusable as error:
        await _audit_refusal(token, actor, {"reason": error.code, "step": "options"})
        raise
    existing = invitation.user
    handle = bytes(existing.webauthn_handle) if existing else secrets.token_bytes(32)
    exclude = await Passkey.filter(user=existing, revoked_at=None) if existing else []
    options_json, challenge = _registration_options(
        rp, handle=handle, name=invitation.name, exclude=exclude
    )
    ceremony_token = await _store_challenge(
        ceremony="register",
        challenge=challenge,
        now=now,
        invitation=invitation,
        user_handle=handle,
    )
    return Ceremony(options_json, ceremony_token)


def _verify_registration(rp: RelyingParty, credential: dict[str, Any], challenge: bytes) -> Any:
    try:
        return verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    # WebAuthnException: py_webauthn's base class, malformed JSON included.
    except (WebAuthnException, *MALFORMED) as error:
        raise PasskeyError(reason=f"registration: {type(error).__name__}") from error


async def finish_enrolment(*, token: str, actor: Actor, **kwargs: Any) -> User:
    """Enrol (``_finish_enrolment``), auditing a refusal as ``enrolment.failed``.

    A failed enrolment can be someone trying a stolen or guessed link, so it
    goes to the trail of the organisation that issued the link (when the
    link is known), with the reason but never the token.
    """
    try:
        return await _finish_enrolment(token=token, actor=actor, **kwargs)
    except AppError as error:
        await _audit_refusal(token, actor, {"reason": getattr(error, "reason", "") or error.code})
        raise


async def _audit_refusal(token: str, actor: Actor, detail: dict[str, str]) -> None:
    """``enrolment.failed`` in the trail of the organisation that issued the
    link (when the link is known), naming the invitation, never the token."""
    invitation = await Invitation.get_or_none(token_hash=token_hash(token))
    await record(
        actor=actor,
        action="enrolment.failed",
        object_type="invitation",
        object_id=str(invitation.id) if invitation else "",
        organisation_id=invitation.organisation_id if invitation else None,
        detail=detail,
    )


async def _finish_enrolment(
    *,
    rp: RelyingParty,
    token: str,
    ceremony_token: str,
    credential: dict[str, Any],
    language: str,
    passkey_name: str,
    now: datetime,
    actor: Actor,
) -> User:
    """Create the account (or, for a recovery link, the new passkey) and use
    up the invitation.

    Raises:
        InvitationUnusable: the link is expired or used.
        PasskeyError: the browser's answer does not verify.
    """
    invitation = await usable_invitation(token=token, now=now)
    stored = await _take_challenge(ceremony_token=ceremony_token, ceremony="register", now=now)
    if stored.invitation_id != invitation.id:
        raise PasskeyError(reason="challenge_for_other_invitation")
    verified = _verify_registration(rp, credential, bytes(stored.challenge))
    handle = bytes(stored.user_handle or b"")
    async with in_transaction():
        claimed = await Invitation.filter(id=invitation.id, used_at=None).update(used_at=now)
        if not claimed:
            raise InvitationUnusable()
        user = invitation.user
        if user is None:
            user = await User.create(
                organisation_id=invitation.organisation_id,
                name=invitation.name,
                role=invitation.role,
                language=language,
                time_zone=invitation.organisation.time_zone,
                webauthn_handle=handle,
            )
            if invitation.participant is not None:
                await invitation.participant.family.add(user)
            if invitation.role is Role.COORDINATOR:
                await assign_countries(user, invitation.countries)
        else:
            user.language = language
            await user.save(update_fields=["language"])
        passkey = await _store_passkey(user, verified, credential, passkey_name, now)
        await record(
            actor=Actor(user.id, user.organisation_id, actor.ip, actor.device),
            action="account.recovered" if invitation.user_id else "account.enrolled",
            object_type="user",
            object_id=str(user.id),
            detail={"invitation_id": invitation.id, "passkey_id": passkey.id},
        )
    return user


async def _store_passkey(
    user: User, verified: Any, credential: dict[str, Any], name: str, now: datetime
) -> Passkey:
    key = bytes_to_base64url(verified.credential_id)
    # One credential, one account: a credential id another account has is
    # a clone or a forgery. Checked first for a clear answer; the unique
    # index catches a race (the caller's transaction then rolls back).
    if await Passkey.filter(credential_key=key).exists():
        raise PasskeyError(reason="credential_already_registered")
    response = credential.get("response")
    transports = (response.get("transports") if isinstance(response, dict) else None) or []
    try:
        return await _create_passkey(user, verified, key, transports, name, now)
    except IntegrityError as error:
        raise PasskeyError(reason="credential_already_registered") from error


async def _create_passkey(
    user: User, verified: Any, key: str, transports: Any, name: str, now: datetime
) -> Passkey:
    return await Passkey.create(
        user=user,
        credential_id=verified.credential_id,
        credential_key=key,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[str(t) for t in transports][:8] if isinstance(transports, list) else [],
        name=(name or "").strip()[:100],
        created_at=now,
    )


async def begin_adding(*, rp: RelyingParty, user: User, now: datetime) -> Ceremony:
    """Registration options for a signed-in user's additional passkey."""
    existing = await Passkey.filter(user=user, revoked_at=None)
    options_json, challenge = _registration_options(
        rp, handle=bytes(user.webauthn_handle), name=user.name, exclude=existing
    )
    ceremony_token = await _store_challenge(ceremony="add", challenge=challenge, now=now, user=user)
    return Ceremony(options_json, ceremony_token)


async def finish_adding(
    *,
    rp: RelyingParty,
    user: User,
    ceremony_token: str,
    credential: dict[str, Any],
    passkey_name: str,
    now: datetime,
    actor: Actor,
) -> Passkey:
    stored = await _take_challenge(ceremony_token=ceremony_token, ceremony="add", now=now)
    if stored.user_id != user.id:
        raise PasskeyError(reason="challenge_for_other_user")
    verified = _verify_registration(rp, credential, bytes(stored.challenge))
    async with in_transaction():
        passkey = await _store_passkey(user, verified, credential, passkey_name, now)
        await record(
            actor=actor, action="passkey.added", object_type="passkey", object_id=str(passkey.id)
        )
    return passkey


async def begin_signin(*, rp: RelyingParty, now: datetime) -> Ceremony:
    """Options for a discoverable-credential sign-in: no user name to type."""
    options = generate_authentication_options(
        rp_id=rp.rp_id, user_verification=UserVerificationRequirement.REQUIRED
    )
    ceremony_token = await _store_challenge(ceremony="signin", challenge=options.challenge, now=now)
    return Ceremony(options_to_json(options), ceremony_token)


async def passkey_id(*, user: User, credential: dict[str, Any]) -> int | None:
    """The id of ``user``'s live passkey that ``credential`` (just verified) names."""
    found = await Passkey.get_or_none(
        user_id=user.id, credential_key=credential_key(credential), revoked_at=None
    )
    return found.id if found else None


def _bytes(text: str) -> bytes:
    try:
        return base64url_to_bytes(text)
    except (ValueError, TypeError):
        return b""


def credential_key(credential: dict[str, Any]) -> str:
    """The credential id as sent by the browser, for lookup and rate limits."""
    raw_id = credential.get("rawId") or credential.get("id") or ""
    if not isinstance(raw_id, str):
        return ""
    try:
        return bytes_to_base64url(base64url_to_bytes(raw_id))
    except (ValueError, TypeError):
        return ""


async def finish_signin(
    *,
    rp: RelyingParty,
    ceremony_token: str,
    credential: dict[str, Any],
    now: datetime,
    actor: Actor,
) -> User:
    """Check a sign-in assertion and return the signed-in user.

    Raises:
        PasskeyError: unknown, revoked or foreign credential, disabled user,
            wrong origin, missing user verification, sign-count regression,
            replayed or expired challenge. Each failure is audited.
    """
    passkey: Passkey | None = None
    try:
        stored = await _take_challenge(ceremony_token=ceremony_token, ceremony="signin", now=now)
        key = credential_key(credential)
        passkey = await Passkey.get_or_none(credential_key=key).prefetch_related("user")
        if passkey is None or passkey.revoked_at is not None:
            raise PasskeyError(reason="unknown_or_revoked_credential")
        response = credential.get("response")
        claimed = response.get("userHandle") if isinstance(response, dict) else None
        if not isinstance(claimed, str) or _bytes(claimed) != bytes(passkey.user.webauthn_handle):
            raise PasskeyError(reason="credential_of_another_user")
        if not passkey.user.is_active:
            raise PasskeyError(
                N_("This account is disabled. Please contact your organisation."),
                reason="disabled_user",
            )
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=bytes(stored.challenge),
                expected_rp_id=rp.rp_id,
                expected_origin=rp.origin,
                credential_public_key=bytes(passkey.public_key),
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=True,
            )
        except (WebAuthnException, *MALFORMED) as error:
            raise PasskeyError(reason=f"assertion: {error}"[:200]) from error
        # Conditional update: two racing sign-ins with one count cannot both win.
        updated = await Passkey.filter(id=passkey.id, sign_count=passkey.sign_count).update(
            sign_count=verified.new_sign_count, last_used_at=now
        )
        if not updated:
            raise PasskeyError(reason="sign_count_race")
    except PasskeyError as error:
        owner = passkey.user if passkey is not None else None
        await record(
            actor=Actor(
                owner.id if owner else None,
                owner.organisation_id if owner else None,
                actor.ip,
                actor.device,
            ),
            action="signin.failed",
            object_type="passkey",
            object_id=str(passkey.id) if passkey else "",
            detail={"reason": error.reason},
        )
        raise
    assert passkey is not None  # every failure above raised
    user: User = passkey.user
    await record(
        actor=Actor(user.id, user.organisation_id, actor.ip, actor.device),
        action="signin",
        object_type="passkey",
        object_id=str(passkey.id),
    )
    return user
