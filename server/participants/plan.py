"""The reintegration plan: goals under the four pillars, kept by the officer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.audit.services import Actor, record
from server.enums import Pillar
from server.participants.forms import GoalInput
from server.participants.models import Participant, PlanGoal
from server.sync.sequence import next_seq


@dataclass(frozen=True)
class PillarGoals:
    pillar: Pillar
    goals: list[PlanGoal]


async def grouped(user: User, participant: Participant) -> list[PillarGoals]:
    """The plan by pillar, always all four (an empty pillar is worth seeing)."""
    goals = (
        await policy.goals_for(user)
        .filter(participant_id=participant.id)
        .order_by("created_at", "id")
    )
    return [PillarGoals(p, [g for g in goals if g.pillar is p]) for p in Pillar]


async def add(
    *, officer: User, participant: Participant, data: GoalInput, actor: Actor
) -> PlanGoal:
    """Add a goal to the plan.

    Args:
        officer: the responsible officer.
        participant: from ``services.responsible_for`` (the access check).
        data: a checked new goal (``forms.check_goal(new=True)``): pillar and text.
    """
    assert data.pillar is not None and data.text is not None  # checked by the form
    async with in_transaction() as conn:
        goal = await PlanGoal.create(
            using_db=conn,
            participant=participant,
            pillar=data.pillar,
            text=data.text,
            seq=await next_seq(conn),
        )
        await record(
            actor=actor,
            action="goal.created",
            object_type="goal",
            object_id=str(goal.id),
            detail={"participant": str(participant.id), "pillar": data.pillar.value},
        )
    return goal


async def goal_for(*, user: User, goal_id: Any, actor: Actor) -> PlanGoal:
    """A goal of a participant the officer is responsible for, or NotFound (audited)."""
    return await policy.goal_for(user, goal_id, actor)


async def change(*, goal: PlanGoal, data: GoalInput, actor: Actor) -> PlanGoal:
    """Change a goal's status and/or wording.

    Args:
        goal: from ``goal_for`` (the access check).
        data: a checked change (``forms.check_goal(new=False)``).
    """
    updates: dict[str, Any] = {}
    if data.status is not None and data.status is not goal.status:
        updates["status"] = data.status
    if data.text is not None and data.text != goal.text:
        updates["text"] = data.text
    if not updates:
        return goal
    async with in_transaction() as conn:
        await policy.row(goal).using_db(conn).update(**updates, seq=await next_seq(conn))
        detail: dict[str, Any] = {"fields": sorted(updates)}
        if "status" in updates:
            detail["status"] = updates["status"].value
        await record(
            actor=actor,
            action="goal.updated",
            object_type="goal",
            object_id=str(goal.id),
            detail=detail,
        )
    return await policy.row(goal).get()
