"""Fresh one-time sign-in links for the demo accounts."""

from __future__ import annotations

from server.accounts import invitations
from server.accounts.models import User
from server.audit.services import SYSTEM
from server.enums import Role
from server.settings import Settings


async def demo_links(settings: Settings) -> list[tuple[str, str]]:
    """A recovery link for one person of each role in each organisation."""
    links: list[tuple[str, str]] = []
    for role in (Role.ADMIN, Role.OFFICER, Role.WORKER, Role.FAMILY, Role.COORDINATOR):
        for user in await User.filter(role=role).order_by("id").prefetch_related("organisation"):
            if any(
                label.startswith(f"{role.value}:") and user.organisation.name in label
                for label, _ in links
            ):
                continue
            issued = await invitations.issue(
                actor=SYSTEM,
                organisation=user.organisation,
                role=role,
                name=user.name,
                language=user.language,
                valid_hours=settings.invitation_hours,
                user=user,
            )
            links.append(
                (
                    f"{role.value}: {user.name} ({user.organisation.name})",
                    issued.link(settings.origin),
                )
            )
    return links
