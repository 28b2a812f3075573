"""The officer's caseload dashboard: figures, flags, sorting, filters, pages."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from starlette.applications import Starlette

from server.accounts.models import User
from server.appointments.models import Appointment
from server.enums import AppointmentStatus, Attendance, Pillar, ReviewStatus, Role
from server.participants.models import Participant
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog
from tests.support import world
from tests.support.web import signed_in

NOW = datetime.now(UTC)


async def log(
    participant: Participant,
    author: User,
    *,
    days_ago: float,
    pillar: Pillar = Pillar.EDUCATION,
    attendance: Attendance = Attendance.ATTENDED,
    follow_up: bool = False,
    reviewed: bool = False,
) -> SessionLog:
    return await SessionLog.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=pillar,
        form_version=1,
        occurred_at=NOW - timedelta(days=days_ago),
        duration_minutes=60,
        author=author,
        attendance=attendance,
        engagement=4 if attendance is Attendance.ATTENDED else None,
        follow_up=follow_up,
        reviewed_at=NOW if reviewed else None,
        content_hash="0" * 64,
    )


async def review(
    participant: Participant, officer: User, *, next_on: date, serious: bool = False
) -> ProgressReview:
    return await ProgressReview.create(
        id=uuid.uuid4(),
        participant=participant,
        officer=officer,
        family=ReviewStatus.ON_TRACK,
        education=ReviewStatus.SERIOUS_CONCERNS if serious else ReviewStatus.SOME_CONCERNS,
        vocational=ReviewStatus.ON_TRACK,
        counselling=ReviewStatus.ON_TRACK,
        reviewed_on=NOW.date() - timedelta(days=40),
        next_review_on=next_on,
    )


def cards(html: str) -> dict[str, str]:
    """Each participant card's code → its HTML."""
    parts = html.split('<li class="card" data-participant="')[1:]
    return {re.search(r"<bdi[^>]*>([^<]+)</bdi>", p).group(1): p for p in parts}  # type: ignore[union-attr]


def flags_of(card: str) -> set[str]:
    return set(re.findall(r'data-flag="([a-z_]+)"', card))


async def test_dashboard_shows_figures_and_flags(app: Starlette) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    calm = await world.participant(org, officer)
    troubled = await world.participant(org, officer)
    unseen = await world.participant(org, officer)
    # calm: seen recently, on time with reviews, two sessions this month.
    await log(calm, worker, days_ago=2, pillar=Pillar.EDUCATION)
    await log(calm, worker, days_ago=10, pillar=Pillar.FAMILY, follow_up=True)
    await log(calm, worker, days_ago=12, pillar=Pillar.FAMILY, follow_up=True, reviewed=True)
    await log(calm, worker, days_ago=60, pillar=Pillar.FAMILY)
    await log(calm, worker, days_ago=70, pillar=Pillar.FAMILY, attendance=Attendance.MISSED)
    await review(calm, officer, next_on=NOW.date() + timedelta(days=30))
    await Appointment.create(
        id=uuid.uuid4(),
        participant=calm,
        pillar=Pillar.FAMILY,
        starts_at=NOW + timedelta(days=3),
        ends_at=NOW + timedelta(days=3, hours=1),
        created_by=officer,
        status=AppointmentStatus.SCHEDULED,
    )
    # troubled: two of the last three missed, last attended 30 days ago,
    # serious concerns and the next review date passed.
    await log(troubled, worker, days_ago=30)
    await log(troubled, worker, days_ago=5, attendance=Attendance.MISSED)
    await log(troubled, worker, days_ago=3, attendance=Attendance.CANCELLED)
    await log(troubled, worker, days_ago=1, attendance=Attendance.MISSED)
    await review(troubled, officer, next_on=NOW.date() - timedelta(days=1), serious=True)
    # Another officer's participant never shows.
    other = await world.participant(org, await world.user(org, Role.OFFICER))
    async with await signed_in(app, officer) as client:
        page = await client.get("/dashboard")
    assert page.status_code == 200
    shown = cards(page.text)
    assert set(shown) == {calm.code, troubled.code, unseen.code}
    assert other.code not in page.text
    assert flags_of(shown[calm.code]) == set()
    assert flags_of(shown[troubled.code]) == {"no_contact", "missed", "serious", "overdue"}
    assert flags_of(shown[unseen.code]) == {"no_contact"}
    calm_card = shown[calm.code]
    # 30 / 90 days per pillar: education 1/1, family 1/2 (the missed one is not counted).
    assert re.search(r"Education</th>\s*<td[^>]*>1</td>\s*<td[^>]*>1</td>", calm_card)
    assert re.search(r"Family engagement</th>\s*<td[^>]*>2</td>\s*<td[^>]*>3</td>", calm_card)
    # Attendance over 90 days: 4 attended of 5 (cancelled ones are left out).
    assert "80%" in calm_card
    assert re.search(r"Open follow-ups</dt>\s*<dd>1</dd>", calm_card)
    assert "None planned" not in calm_card
    assert "Some concerns" in calm_card
    assert "None planned" in shown[unseen.code]


async def test_dashboard_sorts_filters_and_pages(app: Starlette) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    people = [await world.participant(org, officer) for _ in range(27)]
    for index, person in enumerate(people[:20]):
        await log(
            person,
            worker,
            days_ago=index + 1,
            pillar=Pillar.VOCATIONAL if index < 3 else Pillar.FAMILY,
        )
    by_code = sorted(p.code for p in people)
    async with await signed_in(app, officer) as client:
        first = await client.get("/dashboard")
        second = await client.get("/dashboard?page=2")
        by_contact = await client.get("/dashboard?sort=contact")
        by_flags = await client.get("/dashboard?sort=flags")
        no_contact = await client.get("/dashboard?flag=no_contact")
        vocational = await client.get("/dashboard?pillar=vocational")
        silly = await client.get("/dashboard?sort=x&flag=y&pillar=z&page=-3")
    assert list(cards(first.text)) == by_code[:25]
    assert list(cards(second.text)) == by_code[25:]
    assert 'rel="next"' in first.text and 'rel="prev"' in second.text
    never = sorted(p.code for p in people[20:])
    contact_order = list(cards(by_contact.text))
    # Never seen first (by code), then longest ago first.
    assert contact_order[:7] == never
    assert contact_order[7:10] == [people[19].code, people[18].code, people[17].code]
    # Seen within 21 days: no flag; the 7 never seen and none else are flagged.
    assert set(cards(no_contact.text)) == set(never)
    assert list(cards(by_flags.text))[:7] == never
    assert set(cards(vocational.text)) == {p.code for p in people[:3]}
    assert silly.status_code == 200
    assert list(cards(silly.text)) == by_code[:25]


async def test_dashboard_is_for_officers_only(app: Starlette) -> None:
    org = await world.organisation()
    for role in (Role.WORKER, Role.FAMILY, Role.ADMIN):
        async with await signed_in(app, await world.user(org, role)) as client:
            assert (await client.get("/dashboard")).status_code == 404
