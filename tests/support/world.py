"""Small, explicit worlds for tests: organisations, people, invitations."""

from __future__ import annotations

import secrets
import uuid

from server.accounts import invitations
from server.accounts.models import User
from server.audit.services import SYSTEM
from server.enums import Country, Gender, Role
from server.orgs.models import Organisation
from server.participants.codes import new_code
from server.participants.models import Participant


async def organisation(name: str = "Test NGO", country: Country = Country.UGANDA) -> Organisation:
    return await Organisation.create(
        name=name, country=country, default_language="en", time_zone="Africa/Kampala"
    )


async def user(org: Organisation, role: Role, name: str = "", language: str = "en") -> User:
    return await User.create(
        organisation=org,
        name=name or f"{role.value} {secrets.token_hex(2)}",
        role=role,
        language=language,
        time_zone=org.time_zone,
        webauthn_handle=secrets.token_bytes(32),
    )


async def participant(
    org: Organisation, officer: User | None = None, **extra: object
) -> Participant:
    return await Participant.create(
        id=uuid.uuid4(),
        organisation=org,
        code=new_code(org.country.value),
        full_name=str(extra.pop("full_name", "Test Participant")),
        gender=extra.pop("gender", Gender.FEMALE),
        language="en",
        officer=officer,
        # Work is recorded only with consent on file, as in real use.
        consent_given=extra.pop("consent_given", True),
        **extra,
    )


async def invitation_token(
    org: Organisation,
    role: Role,
    *,
    name: str = "New Person",
    hours: int = 72,
    participant: Participant | None = None,
    existing: User | None = None,
    language: str = "en",
) -> str:
    issued = await invitations.issue(
        actor=SYSTEM,
        organisation=org,
        role=role,
        name=name,
        language=language,
        valid_hours=hours,
        participant=participant,
        user=existing,
    )
    return issued.token
