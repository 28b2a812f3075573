"""Indicators (server/indicators/services.py): the service's own refusal and
the birthday arithmetic of the age bands, found by mutation testing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server.audit.models import AuditEvent
from server.audit.services import SYSTEM, Actor
from server.enums import Attendance, Pillar, ReviewStatus, Role
from server.errors import NotFound
from server.indicators import services
from server.indicators.period import Period
from tests.support import world
from tests.test_indicators import log, review


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2024, 3, 1), 18, date(2006, 3, 1)),
        (date(2024, 2, 29), 18, date(2006, 2, 28)),  # no 29 February in 2006
        (date(2024, 2, 29), 4, date(2020, 2, 29)),
        (date(2023, 12, 31), 60, date(1963, 12, 31)),
    ],
)
def test_the_last_birthday_of_someone_that_old(day: date, years: int, expected: date) -> None:
    assert services.born_before_or_on(day, years) == expected


@pytest.mark.parametrize("role", [Role.WORKER, Role.FAMILY])
async def test_the_service_itself_refuses_and_audits_other_roles(orm: None, role: Role) -> None:
    org = await world.organisation()
    user = await world.user(org, role)
    actor = Actor(user.id, org.id, "192.0.2.9", "phone")
    period = Period(first=date(2025, 1, 1), last=date(2025, 1, 31), tz=UTC)
    with pytest.raises(NotFound):
        await services.compute(user=user, period=period, actor=actor)
    event = await AuditEvent.get(action="access.denied")
    assert (event.actor_id, event.organisation_id, event.ip, event.device) == (
        user.id,
        org.id,
        "192.0.2.9",
        "phone",
    )
    assert (event.object_type, event.object_id) == ("indicators", str(org.id))


async def test_only_the_period_counts_for_every_pillar_and_reviews(orm: None) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    person = await world.participant(org, officer)
    june = Period(first=date(2024, 6, 1), last=date(2024, 6, 30), tz=UTC)
    inside = datetime(2024, 6, 10, 10, tzinfo=UTC)
    after = datetime(2024, 7, 1, 0, 30, tzinfo=UTC)
    for pillar, at in [
        (Pillar.EDUCATION, inside),
        (Pillar.FAMILY, inside),
        (Pillar.VOCATIONAL, inside),
        (Pillar.COUNSELLING, after),  # the fourth pillar only after June
    ]:
        await log(person, worker, at, pillar, Attendance.ATTENDED)
    # Missed in June does not count either.
    await log(person, worker, inside, Pillar.COUNSELLING, Attendance.MISSED)
    for on in (date(2024, 5, 31), date(2024, 7, 1)):  # the days either side
        await review(person, officer, on, *[ReviewStatus.ON_TRACK] * 4)
    figures = await services.compute(user=officer, period=june, actor=SYSTEM)
    assert figures.every_pillar == 0
    assert figures.reviews == 0 and figures.outcomes == {}
    assert sum(figures.sessions.values()) == 4
