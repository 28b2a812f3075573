"""Accounts at the service level (server/accounts/passkeys.py, sessions.py,
invitations.py): what each ceremony stores, what it refuses and why, and
what the audit trail keeps. Written against the mutants that survived
tests/test_accounts.py; every expected value is written out by hand.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from server.accounts import invitations, passkeys, sessions
from server.accounts.models import Challenge, Invitation, LoginSession, Passkey, User
from server.accounts.tokens import token_hash
from server.audit.models import AuditEvent
from server.audit.services import SYSTEM, Actor
from server.enums import Role
from server.errors import Invalid
from server.orgs.models import Organisation
from tests.support import authenticator as soft
from tests.support import world
from tests.support.authenticator import SoftAuthenticator

pytestmark = pytest.mark.usefixtures("orm")

ORIGIN = "http://localhost:8000"
RP = passkeys.RelyingParty(rp_id="localhost", origin=ORIGIN)
FROM = Actor(None, None, "10.0.0.9", "Pixel 7")


async def last(action: str) -> AuditEvent:
    event = await AuditEvent.filter(action=action).order_by("-id").first()
    assert event is not None, f"no {action} event"
    return event


async def enrol(
    org: Organisation,
    role: Role = Role.WORKER,
    *,
    name: str = "Amina Okello",
    passkey_name: str = "  my phone  ",
    now: datetime | None = None,
    existing: User | None = None,
    **knobs: Any,
) -> tuple[User, SoftAuthenticator, dict[str, Any]]:
    now = now or datetime.now(UTC)
    token = await world.invitation_token(org, role, name=name, existing=existing, **knobs)
    authenticator = SoftAuthenticator(ORIGIN)
    ceremony = await passkeys.begin_enrolment(rp=RP, token=token, now=now, actor=FROM)
    options = json.loads(ceremony.options_json)
    credential = authenticator.create(options)
    user = await passkeys.finish_enrolment(
        rp=RP,
        token=token,
        ceremony_token=ceremony.ceremony_token,
        credential=credential,
        language="fr",
        passkey_name=passkey_name,
        now=now,
        actor=FROM,
    )
    return user, authenticator, options


async def sign_in(
    authenticator: SoftAuthenticator,
    *,
    now: datetime | None = None,
    later: timedelta = timedelta(0),
    **knobs: Any,
) -> User:
    now = now or datetime.now(UTC)
    ceremony = await passkeys.begin_signin(rp=RP, now=now)
    assertion = authenticator.get(json.loads(ceremony.options_json), **knobs)
    return await passkeys.finish_signin(
        rp=RP,
        ceremony_token=ceremony.ceremony_token,
        credential=assertion,
        now=now + later,
        actor=FROM,
    )


async def refused_signin(authenticator: SoftAuthenticator, **knobs: Any) -> str:
    with pytest.raises(passkeys.PasskeyError) as refused:
        await sign_in(authenticator, **knobs)
    return refused.value.reason


# --- invitations -----------------------------------------------------------


async def test_an_invitation_is_stored_as_issued_and_audited() -> None:
    org = await world.organisation()
    admin = await world.user(org, Role.ADMIN)
    actor = Actor(admin.id, org.id, "10.0.0.1", "desk")
    before = datetime.now(UTC)
    issued = await invitations.issue(
        actor=actor,
        organisation=org,
        role=Role.WORKER,
        name="  Grace Auma  ",
        language="kk",
        valid_hours=72,
        created_by=admin,
    )
    after = datetime.now(UTC)
    assert issued.link("https://hw.example") == f"https://hw.example/enrol/{issued.token}"
    stored = await Invitation.get(token_hash=token_hash(issued.token))
    assert (stored.name, stored.language, stored.role) == ("Grace Auma", "kk", Role.WORKER)
    assert (stored.organisation_id, stored.created_by_id, stored.user_id) == (
        org.id,
        admin.id,
        None,
    )
    assert before + timedelta(hours=72) <= stored.expires_at <= after + timedelta(hours=72)
    assert stored.used_at is None
    event = await last("invitation.create")
    assert (event.actor_id, event.organisation_id, event.ip, event.device) == (
        admin.id,
        org.id,
        "10.0.0.1",
        "desk",
    )
    assert (event.object_type, event.object_id) == ("invitation", str(stored.id))
    assert event.detail == {"role": "worker", "user_id": None}


async def test_a_recovery_link_names_the_account_in_the_trail() -> None:
    org = await world.organisation()
    worker = await world.user(org, Role.WORKER)
    issued = await invitations.issue(
        actor=SYSTEM,
        organisation=org,
        role=Role.WORKER,
        name="Recovery",
        language="en",
        valid_hours=1,
        user=worker,
    )
    event = await last("invitation.recovery")
    assert event.object_id == str(issued.invitation.id)
    assert event.organisation_id == org.id  # the organisation's admins read it
    assert event.detail == {"role": "worker", "user_id": worker.id}
    assert await AuditEvent.filter(action="invitation.create").count() == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"language": "de"}, "Please choose one of the languages offered."),
        ({"name": "   "}, "Please enter the person's name."),
        ({"name": "n" * 201}, "The name can be at most 200 characters long."),
        ({"role": Role.FAMILY}, "A family member must be linked to a participant."),
    ],
    ids=["language", "empty-name", "long-name", "family-without-participant"],
)
async def test_an_invitation_that_does_not_fit_is_refused(
    change: dict[str, Any], message: str
) -> None:
    org = await world.organisation()
    asked: dict[str, Any] = {"role": Role.WORKER, "name": "Someone", "language": "en"}
    with pytest.raises(Invalid) as refused:
        await invitations.issue(
            actor=SYSTEM, organisation=org, valid_hours=1, **{**asked, **change}
        )
    assert refused.value.message == message
    assert await Invitation.all().count() == 0


async def test_invitation_limits_are_inclusive_and_links_stay_in_the_organisation() -> None:
    org = await world.organisation()
    other = await world.organisation("Other NGO")
    relative_elsewhere = await world.participant(other)
    with pytest.raises(Invalid) as refused:
        await invitations.issue(
            actor=SYSTEM,
            organisation=org,
            role=Role.FAMILY,
            name="Relative",
            language="en",
            valid_hours=1,
            participant=relative_elsewhere,
        )
    assert refused.value.message == "This participant belongs to another organisation."
    # Exactly 200 characters (after trimming) is allowed; so is a family
    # member's recovery link, which names the account instead of a participant.
    issued = await invitations.issue(
        actor=SYSTEM,
        organisation=org,
        role=Role.WORKER,
        name=" " + "n" * 200 + " ",
        language="ar",
        valid_hours=1,
    )
    assert issued.invitation.name == "n" * 200
    relative = await world.user(org, Role.FAMILY)
    recovery = await invitations.issue(
        actor=SYSTEM,
        organisation=org,
        role=Role.FAMILY,
        name="Relative",
        language="en",
        valid_hours=1,
        user=relative,
    )
    assert recovery.invitation.user_id == relative.id


# --- enrolment ---------------------------------------------------------------


async def test_enrolment_options_ask_for_a_resident_verified_key_for_the_named_person() -> None:
    org = await world.organisation()
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    token = await world.invitation_token(org, Role.WORKER, name="Amina Okello")
    ceremony = await passkeys.begin_enrolment(rp=RP, token=token, now=now, actor=FROM)
    options = json.loads(ceremony.options_json)
    assert options["rp"] == {"id": "localhost", "name": "Homeward"}
    assert options["user"]["name"] == "Amina Okello"
    assert options["user"]["displayName"] == "Amina Okello"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["excludeCredentials"] == []
    handle = base64url_to_bytes(options["user"]["id"])
    assert len(handle) == 32
    stored = await Challenge.get(id=token_hash(ceremony.ceremony_token))
    invitation = await Invitation.get(token_hash=token_hash(token))
    assert stored.ceremony == "register"
    assert bytes(stored.challenge) == base64url_to_bytes(options["challenge"])
    assert (stored.invitation_id, stored.user_id) == (invitation.id, None)
    assert bytes(stored.user_handle) == handle
    assert stored.expires_at == datetime(2026, 3, 2, 9, 5, tzinfo=UTC)


async def test_enrolment_makes_the_account_the_invitation_describes() -> None:
    org = await world.organisation()
    now = datetime.now(UTC)
    user, authenticator, options = await enrol(org, Role.OFFICER, now=now)
    assert (user.organisation_id, user.name, user.role) == (org.id, "Amina Okello", Role.OFFICER)
    assert (user.language, user.time_zone) == ("fr", "Africa/Kampala")
    assert bytes(user.webauthn_handle) == base64url_to_bytes(options["user"]["id"])
    assert user.is_active
    passkey = await Passkey.get(user=user)
    credential = authenticator.credentials[0]
    assert bytes(passkey.credential_id) == credential.credential_id
    assert passkey.credential_key == bytes_to_base64url(credential.credential_id)
    assert bytes(passkey.public_key) == credential.cose_public_key()
    assert (passkey.name, passkey.transports, passkey.sign_count) == ("my phone", ["internal"], 0)
    assert passkey.created_at == now
    invitation = await Invitation.get(organisation=org)
    assert invitation.used_at == now
    event = await last("account.enrolled")
    assert (event.actor_id, event.organisation_id, event.ip, event.device) == (
        user.id,
        org.id,
        "10.0.0.9",
        "Pixel 7",
    )
    assert (event.object_type, event.object_id) == ("user", str(user.id))
    assert event.detail == {"invitation_id": invitation.id, "passkey_id": passkey.id}


async def test_a_family_member_is_linked_to_their_relative() -> None:
    org = await world.organisation()
    relative = await world.participant(org)
    user, _, _ = await enrol(org, Role.FAMILY, participant=relative)
    assert [u.id for u in await relative.family.all()] == [user.id]


async def test_a_passkey_name_and_transports_are_kept_within_bounds() -> None:
    org = await world.organisation()
    user, _, _ = await enrol(org, passkey_name=" " + "p" * 120)
    assert (await Passkey.get(user=user)).name == "p" * 100
    # Transports come from the browser unsigned: at most eight, as text, and
    # anything that is not a list is dropped.
    for transports, kept in [
        (["usb", "nfc", "ble", "internal", "hybrid", "a", "b", "c", "d"], 8),
        ("usb", 0),
    ]:
        token = await world.invitation_token(org, Role.WORKER)
        authenticator = SoftAuthenticator(ORIGIN)
        now = datetime.now(UTC)
        ceremony = await passkeys.begin_enrolment(rp=RP, token=token, now=now, actor=FROM)
        credential = authenticator.create(json.loads(ceremony.options_json))
        credential["response"]["transports"] = transports
        enrolled = await passkeys.finish_enrolment(
            rp=RP,
            token=token,
            ceremony_token=ceremony.ceremony_token,
            credential=credential,
            language="en",
            passkey_name="",
            now=now,
            actor=FROM,
        )
        passkey = await Passkey.get(user=enrolled)
        assert passkey.name == ""
        expected = ["usb", "nfc", "ble", "internal", "hybrid", "a", "b", "c"][:kept]
        assert passkey.transports == expected


async def test_a_recovery_link_adds_a_passkey_to_the_same_account() -> None:
    org = await world.organisation()
    user, _, _ = await enrol(org)
    old = await Passkey.get(user=user)
    revoked_token = await world.invitation_token(org, Role.WORKER, existing=user)
    # A second, revoked passkey is not excluded: only live ones are.
    ceremony = await passkeys.begin_enrolment(
        rp=RP, token=revoked_token, now=datetime.now(UTC), actor=FROM
    )
    options = json.loads(ceremony.options_json)
    assert [c["id"] for c in options["excludeCredentials"]] == [old.credential_key]
    assert base64url_to_bytes(options["user"]["id"]) == bytes(user.webauthn_handle)
    await Passkey.filter(id=old.id).update(revoked_at=datetime.now(UTC))
    again = await passkeys.begin_enrolment(
        rp=RP, token=revoked_token, now=datetime.now(UTC), actor=FROM
    )
    assert json.loads(again.options_json)["excludeCredentials"] == []
    authenticator = SoftAuthenticator(ORIGIN)
    credential = authenticator.create(json.loads(again.options_json))
    recovered = await passkeys.finish_enrolment(
        rp=RP,
        token=revoked_token,
        ceremony_token=again.ceremony_token,
        credential=credential,
        language="ru",
        passkey_name="new phone",
        now=datetime.now(UTC),
        actor=FROM,
    )
    assert recovered.id == user.id
    assert (await User.get(id=user.id)).language == "ru"
    assert await User.all().count() == 1
    assert await Passkey.filter(user=user).count() == 2
    event = await last("account.recovered")
    assert (event.actor_id, event.object_id) == (user.id, str(user.id))
    assert event.detail["invitation_id"] == (await Invitation.get(user=user)).id


async def test_a_refused_enrolment_is_audited_for_the_issuing_organisation() -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER)
    invitation = await Invitation.get(token_hash=token_hash(token))
    authenticator = SoftAuthenticator(ORIGIN)
    now = datetime.now(UTC)
    ceremony = await passkeys.begin_enrolment(rp=RP, token=token, now=now, actor=FROM)
    credential = authenticator.create(json.loads(ceremony.options_json))
    with pytest.raises(passkeys.PasskeyError) as refused:
        await passkeys.finish_enrolment(
            rp=RP,
            token=token,
            ceremony_token="not-the-ceremony",
            credential=credential,
            language="en",
            passkey_name="",
            now=now,
            actor=FROM,
        )
    assert refused.value.reason == "unknown_challenge"
    event = await last("enrolment.failed")
    assert (event.object_type, event.object_id) == ("invitation", str(invitation.id))
    assert (event.actor_id, event.organisation_id) == (None, org.id)
    assert (event.ip, event.device) == ("10.0.0.9", "Pixel 7")
    assert event.detail == {"reason": "unknown_challenge"}
    # An unknown link: nothing to name, and the error's code as the reason.
    with pytest.raises(passkeys.InvitationUnusable):
        await passkeys.finish_enrolment(
            rp=RP,
            token="no-such-link",
            ceremony_token=ceremony.ceremony_token,
            credential=credential,
            language="en",
            passkey_name="",
            now=now,
            actor=FROM,
        )
    event = await last("enrolment.failed")
    assert (event.object_id, event.organisation_id) == ("", None)
    assert event.detail == {"reason": "invitation_unusable"}


async def test_enrolment_refuses_another_invitations_challenge_and_an_unverified_key() -> None:
    org = await world.organisation()
    now = datetime.now(UTC)
    first = await world.invitation_token(org, Role.WORKER)
    second = await world.invitation_token(org, Role.WORKER)
    authenticator = SoftAuthenticator(ORIGIN)
    ceremony = await passkeys.begin_enrolment(rp=RP, token=first, now=now, actor=FROM)
    credential = authenticator.create(json.loads(ceremony.options_json))
    with pytest.raises(passkeys.PasskeyError) as refused:
        await passkeys.finish_enrolment(
            rp=RP,
            token=second,
            ceremony_token=ceremony.ceremony_token,
            credential=credential,
            language="en",
            passkey_name="",
            now=now,
            actor=FROM,
        )
    assert refused.value.reason == "challenge_for_other_invitation"
    ceremony = await passkeys.begin_enrolment(rp=RP, token=second, now=now, actor=FROM)
    unverified = authenticator.create(json.loads(ceremony.options_json), verified=False)
    with pytest.raises(passkeys.PasskeyError) as refused:
        await passkeys.finish_enrolment(
            rp=RP,
            token=second,
            ceremony_token=ceremony.ceremony_token,
            credential=unverified,
            language="en",
            passkey_name="",
            now=now,
            actor=FROM,
        )
    assert refused.value.reason == "registration: InvalidRegistrationResponse"
    assert refused.value.message == "Your passkey could not be checked. Please try again."
    assert await User.all().count() == 0
    # Neither refusal used up the links.
    assert await Invitation.filter(used_at=None).count() == 2


async def test_an_expired_or_used_invitation_is_unusable() -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER, hours=1)
    invitation = await Invitation.get(token_hash=token_hash(token))
    at_expiry = invitation.expires_at
    assert (await passkeys.usable_invitation(token=token, now=at_expiry)).id == invitation.id
    with pytest.raises(passkeys.InvitationUnusable) as refused:
        await passkeys.usable_invitation(token=token, now=at_expiry + timedelta(microseconds=1))
    assert refused.value.message == (
        "This invitation link has expired or was already used. Ask for a new one."
    )
    await Invitation.filter(id=invitation.id).update(used_at=at_expiry - timedelta(minutes=30))
    with pytest.raises(passkeys.InvitationUnusable):
        await passkeys.usable_invitation(token=token, now=at_expiry - timedelta(minutes=10))


# --- challenges --------------------------------------------------------------


async def test_a_challenge_lives_five_minutes_to_the_microsecond() -> None:
    org = await world.organisation()
    _, authenticator, _ = await enrol(org)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    signed = await sign_in(authenticator, now=start, later=timedelta(minutes=5))
    assert signed.name == "Amina Okello"
    late = timedelta(minutes=5, microseconds=1)
    assert await refused_signin(authenticator, now=start, later=late) == "expired_challenge"


async def test_a_challenge_is_used_up_and_bound_to_its_ceremony() -> None:
    org = await world.organisation()
    user, authenticator, _ = await enrol(org)
    now = datetime.now(UTC)
    ceremony = await passkeys.begin_signin(rp=RP, now=now)
    stored = await Challenge.get(id=token_hash(ceremony.ceremony_token))
    assert (stored.ceremony, stored.user_id, stored.invitation_id) == ("signin", None, None)
    assert stored.expires_at == now + timedelta(minutes=5)
    assert len(ceremony.ceremony_token) == 43  # 32 random bytes, base64url
    assertion = authenticator.get(json.loads(ceremony.options_json))
    signed = await passkeys.finish_signin(
        rp=RP, ceremony_token=ceremony.ceremony_token, credential=assertion, now=now, actor=FROM
    )
    assert signed.id == user.id
    assert await Challenge.all().count() == 0
    with pytest.raises(passkeys.PasskeyError) as refused:
        await passkeys.finish_signin(
            rp=RP,
            ceremony_token=ceremony.ceremony_token,
            credential=assertion,
            now=now,
            actor=FROM,
        )
    assert refused.value.reason == "unknown_challenge"
    # The ceremony of adding a passkey cannot answer a sign-in.
    adding = await passkeys.begin_adding(rp=RP, user=user, now=now)
    assertion = authenticator.get(json.loads(adding.options_json))
    with pytest.raises(passkeys.PasskeyError) as refused:
        await passkeys.finish_signin(
            rp=RP, ceremony_token=adding.ceremony_token, credential=assertion, now=now, actor=FROM
        )
    assert refused.value.reason == "wrong_ceremony"
    # ... and the wrong ceremony used the challenge up all the same.
    assert await Challenge.all().count() == 0


async def test_an_empty_ceremony_cookie_finds_no_challenge() -> None:
    org = await world.organisation()
    _, authenticator, _ = await enrol(org)
    now = datetime.now(UTC)
    # A challenge stored under the hash of "" must never be what "" finds.
    await Challenge.create(
        id=token_hash(""),
        ceremony="signin",
        challenge=secrets.token_bytes(32),
        expires_at=now + timedelta(minutes=5),
    )
    assertion = authenticator.get({"challenge": bytes_to_base64url(b"x" * 32)})
    with pytest.raises(passkeys.PasskeyError) as refused:
        await passkeys.finish_signin(
            rp=RP, ceremony_token="", credential=assertion, now=now, actor=FROM
        )
    assert refused.value.reason == "unknown_challenge"


# --- sign-in -----------------------------------------------------------------


async def test_a_sign_in_counts_and_is_audited_as_the_user() -> None:
    org = await world.organisation()
    user, authenticator, _ = await enrol(org)
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    signed = await sign_in(authenticator, now=now, sign_count=7)
    assert signed.id == user.id
    passkey = await Passkey.get(user=user)
    assert (passkey.sign_count, passkey.last_used_at) == (7, now)
    assert await passkeys.passkey_id(user=user, credential=_named(passkey.credential_key)) == (
        passkey.id
    )
    event = await last("signin")
    assert (event.actor_id, event.organisation_id, event.ip, event.device) == (
        user.id,
        org.id,
        "10.0.0.9",
        "Pixel 7",
    )
    assert (event.object_type, event.object_id) == ("passkey", str(passkey.id))


async def test_a_refused_sign_in_is_audited_with_the_owner_when_known() -> None:
    org = await world.organisation()
    user, authenticator, _ = await enrol(org)
    passkey = await Passkey.get(user=user)
    await User.filter(id=user.id).update(is_active=False)
    with pytest.raises(passkeys.PasskeyError) as refused:
        await sign_in(authenticator)
    assert refused.value.reason == "disabled_user"
    assert refused.value.message == "This account is disabled. Please contact your organisation."
    event = await last("signin.failed")
    assert (event.actor_id, event.organisation_id, event.ip, event.device) == (
        user.id,
        org.id,
        "10.0.0.9",
        "Pixel 7",
    )
    assert (event.object_type, event.object_id) == ("passkey", str(passkey.id))
    assert event.detail == {"reason": "disabled_user"}
    assert (await Passkey.get(id=passkey.id)).sign_count == 0


async def test_an_unknown_or_revoked_credential_is_refused_without_an_owner() -> None:
    org = await world.organisation()
    user, authenticator, _ = await enrol(org)
    stranger = SoftAuthenticator(ORIGIN)
    stranger.create({"rp": {"id": "localhost"}, "user": {"id": "AAAA"}, "challenge": "AAAA"})
    assert await refused_signin(stranger) == "unknown_or_revoked_credential"
    event = await last("signin.failed")
    assert (event.actor_id, event.organisation_id, event.object_id) == (None, None, "")
    assert (event.ip, event.device) == ("10.0.0.9", "Pixel 7")
    await Passkey.filter(user=user).update(revoked_at=datetime.now(UTC))
    assert await refused_signin(authenticator) == "unknown_or_revoked_credential"
    event = await last("signin.failed")
    assert event.actor_id == user.id  # the passkey was found: its owner is named


async def test_the_user_handle_must_be_the_owners() -> None:
    org = await world.organisation()
    _, authenticator, _ = await enrol(org)
    now = datetime.now(UTC)
    for handle in [None, 5, "A", bytes_to_base64url(b"\x00" * 32)]:
        ceremony = await passkeys.begin_signin(rp=RP, now=now)
        assertion = authenticator.get(json.loads(ceremony.options_json))
        assertion["response"]["userHandle"] = handle
        with pytest.raises(passkeys.PasskeyError) as refused:
            await passkeys.finish_signin(
                rp=RP,
                ceremony_token=ceremony.ceremony_token,
                credential=assertion,
                now=now,
                actor=FROM,
            )
        assert refused.value.reason == "credential_of_another_user", handle
    ceremony = await passkeys.begin_signin(rp=RP, now=now)
    assertion = authenticator.get(json.loads(ceremony.options_json))
    assertion["response"] = "not an object"
    with pytest.raises(passkeys.PasskeyError) as refused:
        await passkeys.finish_signin(
            rp=RP, ceremony_token=ceremony.ceremony_token, credential=assertion, now=now, actor=FROM
        )
    assert refused.value.reason == "credential_of_another_user"


async def test_a_bad_assertion_names_py_webauthns_reason() -> None:
    org = await world.organisation()
    _, authenticator, _ = await enrol(org)
    reason = await refused_signin(authenticator, verified=False)
    assert reason == (
        "assertion: User verification is required but user was not verified during authentication"
    )


async def test_a_sign_count_race_lets_only_one_sign_in_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = await world.organisation()
    user, authenticator, _ = await enrol(org)
    now = datetime.now(UTC)
    ceremony = await passkeys.begin_signin(rp=RP, now=now)
    assertion = authenticator.get(json.loads(ceremony.options_json))
    # Another sign-in moved the count on between this one's read and its
    # write: its conditional update then matches no row.
    original = Passkey.filter

    def moved_on(*args: Any, **kwargs: Any) -> Any:
        if "sign_count" in kwargs:
            kwargs["sign_count"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(Passkey, "filter", moved_on)
    with pytest.raises(passkeys.PasskeyError) as refused:
        await passkeys.finish_signin(
            rp=RP, ceremony_token=ceremony.ceremony_token, credential=assertion, now=now, actor=FROM
        )
    monkeypatch.undo()
    assert refused.value.reason == "sign_count_race"
    assert (await Passkey.get(user=user)).sign_count == 0


async def test_passkey_id_names_only_the_users_live_passkey() -> None:
    org = await world.organisation()
    user, _, _ = await enrol(org)
    other, _, _ = await enrol(org, name="Other")
    passkey = await Passkey.get(user=user)
    credential = _named(passkey.credential_key)
    assert await passkeys.passkey_id(user=user, credential=credential) == passkey.id
    assert await passkeys.passkey_id(user=other, credential=credential) is None
    await Passkey.filter(id=passkey.id).update(revoked_at=datetime.now(UTC))
    assert await passkeys.passkey_id(user=user, credential=credential) is None


def _named(key: str) -> dict[str, Any]:
    return {"rawId": key, "id": key, "response": {}}


def test_the_credential_key_is_the_normalised_raw_id() -> None:
    assert passkeys.credential_key({"rawId": "AAEC", "id": "AQID"}) == "AAEC"
    assert passkeys.credential_key({"rawId": "", "id": "AQID"}) == "AQID"
    assert passkeys.credential_key({"id": "AAE="}) == "AAE"  # padding dropped
    assert passkeys.credential_key({"rawId": 5, "id": "AQID"}) == ""
    assert passkeys.credential_key({"rawId": "A"}) == ""  # not base64url
    assert passkeys.credential_key({}) == ""


# --- adding a passkey --------------------------------------------------------


async def test_adding_a_passkey_is_bound_to_the_user_and_audited() -> None:
    org = await world.organisation()
    user, first_key, _ = await enrol(org)
    other, _, _ = await enrol(org, name="Other")
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    ceremony = await passkeys.begin_adding(rp=RP, user=user, now=now)
    options = json.loads(ceremony.options_json)
    existing = await Passkey.get(user=user)
    assert options["user"]["name"] == "Amina Okello"
    assert base64url_to_bytes(options["user"]["id"]) == bytes(user.webauthn_handle)
    assert [c["id"] for c in options["excludeCredentials"]] == [existing.credential_key]
    assert options["authenticatorSelection"]["userVerification"] == "required"
    stored = await Challenge.get(id=token_hash(ceremony.ceremony_token))
    assert (stored.ceremony, stored.user_id, stored.invitation_id) == ("add", user.id, None)
    assert stored.expires_at == datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    # A revoked passkey is no longer excluded: only live ones are.
    await Passkey.filter(id=existing.id).update(revoked_at=now)
    again = json.loads((await passkeys.begin_adding(rp=RP, user=user, now=now)).options_json)
    assert again["excludeCredentials"] == []
    credential = first_key.create(options)
    with pytest.raises(passkeys.PasskeyError) as refused:
        await passkeys.finish_adding(
            rp=RP,
            user=other,
            ceremony_token=ceremony.ceremony_token,
            credential=credential,
            passkey_name="x",
            now=now,
            actor=FROM,
        )
    assert refused.value.reason == "challenge_for_other_user"
    ceremony = await passkeys.begin_adding(rp=RP, user=user, now=now)
    credential = first_key.create(json.loads(ceremony.options_json))
    actor = Actor(user.id, org.id, "10.0.0.9", "Pixel 7")
    added = await passkeys.finish_adding(
        rp=RP,
        user=user,
        ceremony_token=ceremony.ceremony_token,
        credential=credential,
        passkey_name=" tablet ",
        now=now,
        actor=actor,
    )
    assert (added.user_id, added.name, added.created_at) == (user.id, "tablet", now)
    event = await last("passkey.added")
    assert (event.actor_id, event.object_type, event.object_id) == (
        user.id,
        "passkey",
        str(added.id),
    )


async def test_a_credential_cannot_be_registered_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    org = await world.organisation()
    user, authenticator, _ = await enrol(org)
    now = datetime.now(UTC)
    ceremony = await passkeys.begin_adding(rp=RP, user=user, now=now)
    # A fresh attestation that carries the first passkey's credential id.
    taken = authenticator.credentials[0].credential_id
    monkeypatch.setattr(soft, "secrets", SimpleNamespace(token_bytes=lambda n: taken))
    credential = authenticator.create(json.loads(ceremony.options_json))
    with pytest.raises(passkeys.PasskeyError) as refused:
        await passkeys.finish_adding(
            rp=RP,
            user=user,
            ceremony_token=ceremony.ceremony_token,
            credential=credential,
            passkey_name="clone",
            now=now,
            actor=FROM,
        )
    assert refused.value.reason == "credential_already_registered"
    assert await Passkey.filter(user=user).count() == 1


# --- sessions ----------------------------------------------------------------

LIFETIMES = sessions.Lifetimes(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_a_session_keeps_a_hash_and_bounded_facts() -> None:
    org = await world.organisation()
    user = await world.user(org, Role.WORKER)
    started = await sessions.start(
        user=user, now=T0, ip="1" * 70, device="d" * 250, passkey_id=None
    )
    row = await LoginSession.get(user=user)
    assert row.token_hash == token_hash(started.token)
    assert started.token not in (row.token_hash, row.csrf_token)
    assert (row.ip, row.device) == ("1" * 64, "d" * 200)
    assert (row.created_at, row.last_seen_at, row.passkey_id) == (T0, T0, None)
    assert len(row.csrf_token) == 43  # 32 random bytes, base64url
    again = await sessions.start(user=user, now=T0, ip="", device="")
    assert again.token != started.token
    assert again.session.csrf_token != row.csrf_token


async def test_a_session_ends_exactly_at_its_idle_and_absolute_limits() -> None:
    org = await world.organisation()
    user = await world.user(org, Role.WORKER)
    idle = await sessions.start(user=user, now=T0, ip="", device="")
    at_idle = T0 + timedelta(minutes=30)
    live = await sessions.resume(token=idle.token, now=at_idle, lifetimes=LIFETIMES)
    assert live is not None
    assert live.user.organisation.name == "Test NGO"  # one query brought both
    assert live.last_seen_at == at_idle
    assert (await LoginSession.get(token_hash=token_hash(idle.token))).last_seen_at == at_idle
    late = at_idle + timedelta(minutes=30, microseconds=1)
    assert await sessions.resume(token=idle.token, now=late, lifetimes=LIFETIMES) is None
    assert not await LoginSession.exists(token_hash=token_hash(idle.token))
    # Kept busy, a session still ends twelve hours after it began.
    old = await sessions.start(user=user, now=T0, ip="", device="")
    at_end = T0 + timedelta(hours=12)
    await LoginSession.filter(token_hash=token_hash(old.token)).update(last_seen_at=at_end)
    assert await sessions.resume(token=old.token, now=at_end, lifetimes=LIFETIMES) is not None
    beyond = at_end + timedelta(microseconds=1)
    assert await sessions.resume(token=old.token, now=beyond, lifetimes=LIFETIMES) is None
    assert not await LoginSession.exists(token_hash=token_hash(old.token))
    assert await sessions.resume(token="unknown", now=T0, lifetimes=LIFETIMES) is None


async def test_last_seen_is_written_only_after_a_minute() -> None:
    org = await world.organisation()
    user = await world.user(org, Role.WORKER)
    started = await sessions.start(user=user, now=T0, ip="", device="")
    a_minute = T0 + timedelta(minutes=1)
    seen = await sessions.resume(token=started.token, now=a_minute, lifetimes=LIFETIMES)
    assert seen is not None and seen.last_seen_at == T0
    assert (await LoginSession.get(user=user)).last_seen_at == T0
    later = a_minute + timedelta(microseconds=1)
    seen = await sessions.resume(token=started.token, now=later, lifetimes=LIFETIMES)
    assert seen is not None and seen.last_seen_at == later
    assert (await LoginSession.get(user=user)).last_seen_at == later


async def test_a_disabled_users_session_is_deleted() -> None:
    org = await world.organisation()
    user = await world.user(org, Role.WORKER)
    started = await sessions.start(user=user, now=T0, ip="", device="")
    await User.filter(id=user.id).update(is_active=False)
    assert await sessions.resume(token=started.token, now=T0, lifetimes=LIFETIMES) is None
    assert await LoginSession.all().count() == 0


async def test_ending_sessions_touches_only_the_ones_named() -> None:
    org = await world.organisation()
    user, _, _ = await enrol(org)
    other, _, _ = await enrol(org, name="Other")
    kept_key = await Passkey.get(user=user)
    ended_key = await Passkey.create(
        user=user,
        credential_id=b"k2",
        credential_key="azI",
        public_key=b"p",
        created_at=T0,
    )

    async def opened(owner: User, key: Passkey | None) -> str:
        started = await sessions.start(
            user=owner, now=T0, ip="", device="", passkey_id=key.id if key else None
        )
        return started.token

    by_kept = await opened(user, kept_key)
    by_ended = await opened(user, ended_key)
    unknown = await opened(user, None)
    others = await opened(other, None)
    assert await sessions.end_opened_by(user_id=user.id, passkey_id=ended_key.id) == 2
    left = {s.token_hash for s in await LoginSession.all()}
    assert left == {token_hash(by_kept), token_hash(others)}
    assert by_ended and unknown
    await sessions.end(token=by_kept)
    assert {s.token_hash for s in await LoginSession.all()} == {token_hash(others)}
    again = await opened(user, kept_key)
    assert await sessions.end_all(user_id=user.id) == 1
    assert {s.token_hash for s in await LoginSession.all()} == {token_hash(others)}
    assert again


async def test_sign_in_options_require_user_verification() -> None:
    ceremony = await passkeys.begin_signin(rp=RP, now=datetime.now(UTC))
    options = json.loads(ceremony.options_json)
    assert options["userVerification"] == "required"
    assert options["rpId"] == "localhost"


async def test_a_long_refusal_reason_is_cut_to_200_characters() -> None:
    org = await world.organisation()
    _, authenticator, _ = await enrol(org)
    # The origin comes from the browser and py_webauthn repeats it.
    reason = await refused_signin(authenticator, origin="http://" + "o" * 300)
    assert len(reason) == 200
    assert reason.startswith("assertion: Unexpected client data origin")
    event = await last("signin.failed")
    assert len(event.detail["reason"]) == 200


async def test_a_sign_in_counts_on_its_own_passkey_only() -> None:
    org = await world.organisation()
    user, authenticator, _ = await enrol(org)
    other, _, _ = await enrol(org, name="Other")
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    await sign_in(authenticator, now=now)
    theirs = await Passkey.get(user=other)
    assert (theirs.sign_count, theirs.last_used_at) == (0, None)
    assert (await Passkey.get(user=user)).sign_count == 1


async def begun(org: Organisation, **knobs: Any) -> tuple[str, Any, dict[str, Any]]:
    """An invitation with its registration ceremony begun and answered."""
    token = await world.invitation_token(org, Role.WORKER, **knobs)
    ceremony = await passkeys.begin_enrolment(rp=RP, token=token, now=datetime.now(UTC), actor=FROM)
    credential = SoftAuthenticator(ORIGIN).create(json.loads(ceremony.options_json))
    return token, ceremony, credential


async def finish(token: str, ceremony: Any, credential: dict[str, Any]) -> User:
    return await passkeys.finish_enrolment(
        rp=RP,
        token=token,
        ceremony_token=ceremony.ceremony_token,
        credential=credential,
        language="en",
        passkey_name="",
        now=datetime.now(UTC),
        actor=FROM,
    )


async def test_enrolling_uses_up_only_its_own_invitation() -> None:
    org = await world.organisation()
    waiting = await world.invitation_token(org, Role.WORKER, name="Waiting")
    await finish(*await begun(org))
    assert (await Invitation.get(token_hash=token_hash(waiting))).used_at is None


async def test_an_invitation_used_meanwhile_makes_no_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = await world.organisation()
    token, ceremony, credential = await begun(org)
    # Another tab finished with the same link after this one's first check.
    await Invitation.filter(token_hash=token_hash(token)).update(used_at=datetime.now(UTC))
    monkeypatch.setattr(passkeys, "usable_invitation", _still_usable)
    with pytest.raises(passkeys.InvitationUnusable):
        await finish(token, ceremony, credential)
    assert await User.all().count() == 0
    assert await Passkey.all().count() == 0


async def _still_usable(*, token: str, now: datetime) -> Invitation:
    """The invitation as the first check saw it, before the other tab used it."""
    invitation = await Invitation.get(token_hash=token_hash(token)).prefetch_related(
        "organisation", "user", "participant"
    )
    invitation.used_at = None
    return invitation


async def test_a_recovery_keeps_what_changed_meanwhile_on_the_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = await world.organisation()
    user, _, _ = await enrol(org)
    token, ceremony, credential = await begun(org, existing=user)
    real = passkeys._take_challenge

    async def disabled_meanwhile(**kwargs: Any) -> Any:
        # An admin disables the account after the link was read, before the
        # recovery writes the account's language.
        await User.filter(id=user.id).update(is_active=False, name="Renamed")
        return await real(**kwargs)

    monkeypatch.setattr(passkeys, "_take_challenge", disabled_meanwhile)
    await finish(token, ceremony, credential)
    stored = await User.get(id=user.id)
    assert (stored.is_active, stored.name, stored.language) == (False, "Renamed", "en")


async def test_a_recovery_excludes_only_the_accounts_own_passkeys() -> None:
    org = await world.organisation()
    user, _, _ = await enrol(org)
    await enrol(org, name="Someone else")
    token = await world.invitation_token(org, Role.WORKER, existing=user)
    ceremony = await passkeys.begin_enrolment(rp=RP, token=token, now=datetime.now(UTC), actor=FROM)
    excluded = json.loads(ceremony.options_json)["excludeCredentials"]
    assert [c["id"] for c in excluded] == [(await Passkey.get(user=user)).credential_key]


async def test_a_challenge_taken_by_another_request_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = await world.organisation()
    _, authenticator, _ = await enrol(org)
    real = Challenge.get_or_none

    def raced(*args: Any, **kwargs: Any) -> Any:
        async def fetch_then_lose() -> Any:
            found = await real(*args, **kwargs)
            if found is not None:  # the other request deletes it first
                await Challenge.filter(id=found.id).delete()
            return found

        return fetch_then_lose()

    monkeypatch.setattr(Challenge, "get_or_none", raced)
    assert await refused_signin(authenticator) == "challenge_reused"


async def test_a_credential_registered_by_a_racing_request_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = await world.organisation()
    token, ceremony, credential = await begun(org)

    async def raced(*args: Any) -> Any:
        raise passkeys.IntegrityError("UNIQUE constraint failed: passkey.credential_key")

    monkeypatch.setattr(passkeys, "_create_passkey", raced)
    with pytest.raises(passkeys.PasskeyError) as refused:
        await finish(token, ceremony, credential)
    assert refused.value.reason == "credential_already_registered"
    assert await User.all().count() == 0  # the enrolment rolled back whole


async def test_the_attested_sign_count_is_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    org = await world.organisation()
    token, ceremony, credential = await begun(org)
    real = passkeys.verify_registration_response
    monkeypatch.setattr(
        passkeys,
        "verify_registration_response",
        lambda **kwargs: dataclasses.replace(real(**kwargs), sign_count=5),
    )
    user = await finish(token, ceremony, credential)
    assert (await Passkey.get(user=user)).sign_count == 5


async def test_an_invitations_expiry_does_not_depend_on_the_servers_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = await world.organisation()
    monkeypatch.setenv("TZ", "Asia/Almaty")  # UTC+5, no daylight saving
    time.tzset()
    try:
        before = datetime.now(UTC)
        issued = await invitations.issue(
            actor=SYSTEM,
            organisation=org,
            role=Role.WORKER,
            name="Someone",
            language="en",
            valid_hours=2,
        )
        after = datetime.now(UTC)
    finally:
        monkeypatch.undo()
        time.tzset()
    stored = await Invitation.get(id=issued.invitation.id)
    assert before + timedelta(hours=2) <= stored.expires_at <= after + timedelta(hours=2)
