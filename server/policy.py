"""What each role may see and do with records: one module, called by services.

- admin: their organisation's users, invitations and audit log; no
  participant records.
- officer: the participants they are responsible for, with their
  appointments, session logs and reviews.
- worker: the participants assigned to them.
- family: the family-visible appointments of their linked relative only.

A record outside a user's reach is reported as not found (never as
forbidden, which would confirm it exists) and the attempt is audited.
"""

from __future__ import annotations

import uuid
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from server.accounts.models import User
from server.audit.services import Actor, record
from server.enums import Role
from server.errors import NotFound
from server.participants.models import Participant

INVITABLE_BY: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.OFFICER: frozenset({Role.WORKER, Role.FAMILY}),
}


def participant_filter(user: User) -> Q:
    """The participants ``user`` may see, as a query condition."""
    org = Q(organisation_id=user.organisation_id)
    if user.role is Role.OFFICER:
        return org & Q(officer_id=user.id)
    if user.role is Role.WORKER:
        return org & Q(workers__id=user.id)
    if user.role is Role.FAMILY:
        return org & Q(family__id=user.id)
    return Q(id=None)  # admins see no participant records


def appointment_filter(user: User) -> Q:
    """Extra condition on appointments: a worker sees only those they take part in."""
    if user.role is Role.WORKER:
        return Q(with_user_id=user.id)
    return Q()


def participants_for(user: User) -> QuerySet[Participant]:
    return Participant.filter(participant_filter(user)).distinct()


async def denied(actor: Actor, object_type: str, object_id: str) -> NotFound:
    """Audit a refused access and return the error to raise."""
    await record(
        actor=actor, action="access.denied", object_type=object_type, object_id=object_id[:64]
    )
    return NotFound()


async def participant_for(user: User, participant_id: Any, actor: Actor) -> Participant:
    """One participant the user may see, or NotFound (audited)."""
    try:
        wanted = uuid.UUID(str(participant_id))
    except ValueError:  # not even an id: refused like any other unknown record
        raise await denied(actor, "participant", str(participant_id)) from None
    participant = await participants_for(user).filter(id=wanted).first()
    if participant is None:
        raise await denied(actor, "participant", str(participant_id))
    return participant


def can_invite(user: User, role: Role) -> bool:
    return role in INVITABLE_BY.get(user.role, frozenset())


def can_manage_users(user: User) -> bool:
    return user.role is Role.ADMIN


def same_organisation(user: User, other: User) -> bool:
    return bool(user.organisation_id == other.organisation_id)
