"""One-time enrolment and recovery links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from server.accounts.models import Invitation, User
from server.accounts.tokens import new_token, token_hash
from server.audit.services import Actor, record
from server.enums import Country, Role
from server.errors import Invalid
from server.i18n import N_
from server.orgs.models import Organisation
from server.participants.models import Participant
from server.settings import LANGUAGES

NAME_MAX = 200  # Invitation.name and User.name


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str

    def link(self, origin: str) -> str:
        return f"{origin}/enrol/{self.token}"


async def issue(
    *,
    actor: Actor,
    organisation: Organisation,
    role: Role,
    name: str,
    language: str,
    valid_hours: int,
    participant: Participant | None = None,
    user: User | None = None,
    created_by: User | None = None,
    countries: tuple[Country, ...] = (),
) -> IssuedInvitation:
    """Create a single-use invitation and return it with its (unstored) token.

    Args:
        participant: for a family member, the relative they are linked to.
        user: for a recovery link, the existing account that gets a new passkey.
        countries: for a coordinator, the countries whose figures they will see.

    Raises:
        Invalid: when the role, language or family link do not fit together.
    """
    if language not in LANGUAGES:
        raise Invalid(N_("Please choose one of the languages offered."))
    if not name.strip():
        raise Invalid(N_("Please enter the person's name."))
    if len(name.strip()) > NAME_MAX:
        # Checked here, not left to the database: PostgreSQL would refuse it
        # with a 500 whose log line carried the whole name.
        raise Invalid(N_("The name can be at most 200 characters long."))
    if role is Role.FAMILY and participant is None and user is None:
        raise Invalid(N_("A family member must be linked to a participant."))
    if participant is not None and participant.organisation_id != organisation.id:
        raise Invalid(N_("This participant belongs to another organisation."))
    if role is Role.COORDINATOR and user is None:
        if not organisation.is_programme:
            raise Invalid(N_("Only the programme's own organisation invites coordinators."))
        if not countries:
            raise Invalid(N_("Please choose at least one country."))
    token = new_token()
    async with in_transaction():
        invitation = await Invitation.create(
            token_hash=token_hash(token),
            organisation=organisation,
            role=role,
            name=name.strip(),
            language=language,
            participant=participant,
            user=user,
            created_by=created_by,
            countries=",".join(sorted({c.value for c in countries}))
            if role is Role.COORDINATOR
            else "",
            expires_at=datetime.now(UTC) + timedelta(hours=valid_hours),
        )
        await record(
            actor=actor,
            action="invitation.recovery" if user else "invitation.create",
            object_type="invitation",
            object_id=str(invitation.id),
            organisation_id=organisation.id,
            detail={"role": role.value, "user_id": user.id if user else None},
        )
    return IssuedInvitation(invitation, token)
