"""Programme indicators and exports, against figures worked out by hand."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.enums import Attendance, Country, Gender, Pillar, ReviewStatus, Role
from server.orgs.models import Organisation
from server.participants.models import Participant
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog
from tests.support import world
from tests.support.web import post_form, signed_in

ALMATY = ZoneInfo("Asia/Almaty")
PERIOD = "?from=2024-06-01&to=2024-06-30"
ON_TRACK, SOME, SERIOUS = ReviewStatus


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ALMATY)


async def log(
    who: Participant, author: User, at: datetime, pillar: Pillar, attendance: Attendance
) -> None:
    await SessionLog.create(
        id=uuid.uuid4(),
        participant=who,
        pillar=pillar,
        form_version=1,
        occurred_at=at,
        duration_minutes=45,
        author=author,
        attendance=attendance,
        engagement=4 if attendance is Attendance.ATTENDED else None,
        follow_up=pillar is Pillar.COUNSELLING,
        content_hash="0" * 64,
    )


async def review(who: Participant, officer: User, on: date, *statuses: ReviewStatus) -> None:
    await ProgressReview.create(
        id=uuid.uuid4(),
        participant=who,
        officer=officer,
        reviewed_on=on,
        family=statuses[0],
        education=statuses[1],
        vocational=statuses[2],
        counselling=statuses[3],
    )


class World:
    officer: User
    worker: User
    people: dict[str, Participant]
    outsider_org: Organisation


@pytest.fixture
async def data(app: Starlette) -> World:
    """Eight participants; the comments give each one's part in the figures."""
    org = await Organisation.create(
        name="Almaty probation",
        country=Country.KAZAKHSTAN,
        default_language="ru",
        time_zone="Asia/Almaty",
    )
    other = await world.organisation("Elsewhere")
    officer = await world.user(org, Role.OFFICER, name="Officer One")
    colleague = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    female, male, other_gender = Gender.FEMALE, Gender.MALE, Gender.OTHER

    async def person(
        name: str,
        gender: Gender,
        born: date | None,
        org_: Organisation = org,
        officer_: User = officer,
    ) -> Participant:
        return await world.participant(
            org_, officer_, full_name=name, gender=gender, date_of_birth=born
        )

    p = {
        # 18 on the period's last day: 18 to 24.
        "p1": await person("Aigerim One", female, date(2006, 6, 30)),
        # 18 the day after the period: under 18.
        "p2": await person("Dana Two", female, date(2006, 7, 1)),
        "p3": await person("Marat Three", male, date(1990, 1, 1)),
        # Another officer's participant: in the indicators, not in my export.
        "p4": await person("Nurlan Four", male, None, officer_=colleague),
        "p5": await person("Sam Five", other_gender, date(1970, 5, 5)),
        "p6": await person("Gulnara Six", female, date(1985, 1, 1)),
        "p7": await person("Timur Seven", male, date(2000, 1, 1)),
        "p8": await person("Other Org", female, date(1990, 1, 1), other, None),  # type: ignore[arg-type]
    }
    A, MISS, CANC = Attendance
    await log(p["p1"], worker, local(2024, 6, 30, 23, 30), Pillar.EDUCATION, A)  # last minutes: in
    await log(p["p2"], worker, local(2024, 6, 1, 0, 0), Pillar.FAMILY, A)  # first instant: in
    await log(p["p2"], worker, local(2024, 6, 10, 10), Pillar.FAMILY, MISS)
    await log(p["p3"], worker, local(2024, 6, 15, 10), Pillar.VOCATIONAL, A)
    await log(p["p3"], worker, local(2024, 6, 16, 10), Pillar.COUNSELLING, CANC)
    await log(p["p4"], worker, local(2024, 6, 20, 10), Pillar.COUNSELLING, A)
    for day, pillar in enumerate(Pillar, start=5):  # every pillar
        await log(p["p5"], worker, local(2024, 6, day, 10), pillar, A)
    await log(p["p5"], worker, local(2024, 6, 9, 10), Pillar.EDUCATION, A)
    await log(p["p6"], worker, local(2024, 6, 12, 10), Pillar.EDUCATION, MISS)  # not supported
    await log(p["p7"], worker, local(2024, 7, 1, 0, 30), Pillar.EDUCATION, A)  # next day: out
    await log(p["p7"], worker, local(2024, 5, 31, 23, 30), Pillar.FAMILY, A)  # day before: out
    await log(p["p8"], worker, local(2024, 6, 15, 10), Pillar.EDUCATION, A)  # other organisation
    await review(p["p1"], officer, date(2024, 6, 30), ON_TRACK, SERIOUS, ON_TRACK, SOME)
    await review(p["p5"], officer, date(2024, 6, 1), ON_TRACK, ON_TRACK, ON_TRACK, ON_TRACK)
    await review(p["p3"], officer, date(2024, 5, 31), SERIOUS, SERIOUS, SERIOUS, SERIOUS)
    await review(p["p8"], officer, date(2024, 6, 15), SERIOUS, SERIOUS, SERIOUS, SERIOUS)
    result = World()
    result.officer, result.worker, result.people, result.outsider_org = officer, worker, p, other
    return result


def cell(html: str, table: str, row: str, column: str) -> str:
    body = html.split(f'<table data-indicator="{table}">')[1].split("</table>")[0]
    line = re.search(rf'data-(?:band|pillar)="{row}">(.*?)</tr>', body, re.S)
    assert line, (table, row)
    found = re.search(rf'data-(?:gender|attendance|status)="{column}">([^<]*)</td>', line.group(1))
    assert found, (table, row, column)
    return found.group(1)


async def test_indicators_match_the_hand_count(app: Starlette, data: World) -> None:
    async with await signed_in(app, data.officer) as client:
        page = await client.get("/indicators" + PERIOD)
    html = page.text
    assert page.status_code == 200
    supported = {
        ("18_24", "female"): "1",
        ("under_18", "female"): "1",
        ("25_34", "male"): "1",
        ("unknown", "male"): "1",
        ("45_plus", "other"): "1",
        ("under_18", "male"): "0",
        ("total", "female"): "2",
        ("total", "male"): "2",
        ("total", "other"): "1",
        ("total", "undisclosed"): "0",
        ("total", "total"): "5",
        ("35_44", "total"): "0",
    }
    for (band, gender), expected in supported.items():
        assert cell(html, "supported", band, gender) == expected, (band, gender)
    sessions = {
        ("education", "attended"): "3",
        ("education", "missed"): "1",
        ("family", "attended"): "2",
        ("family", "missed"): "1",
        ("vocational", "attended"): "2",
        ("vocational", "cancelled"): "0",
        ("counselling", "attended"): "2",
        ("counselling", "cancelled"): "1",
        ("counselling", "total"): "3",
    }
    for (pillar, attendance), expected in sessions.items():
        assert cell(html, "sessions", pillar, attendance) == expected, (pillar, attendance)
    assert "each of the four pillars: 1<" in html
    assert "written in the period: 2<" in html
    outcomes = {
        ("family", "on_track"): "2",
        ("education", "serious_concerns"): "1",
        ("education", "on_track"): "1",
        ("counselling", "some_concerns"): "1",
        ("vocational", "serious_concerns"): "0",
    }
    for (pillar, status), expected in outcomes.items():
        assert cell(html, "outcomes", pillar, status) == expected


async def test_the_period_is_the_readers_local_days(app: Starlette, data: World) -> None:
    # In Tunis (UTC+1) 00:30 on 1 July in Almaty is still 30 June, and
    # midnight on 1 June in Almaty is still 31 May.
    data.officer.time_zone = "Africa/Tunis"
    await data.officer.save()
    async with await signed_in(app, data.officer) as client:
        html = (await client.get("/indicators" + PERIOD)).text
    assert cell(html, "supported", "total", "total") == "5"
    assert cell(html, "supported", "under_18", "female") == "0"  # p2 left the period
    assert cell(html, "supported", "18_24", "male") == "1"  # p7 came in
    assert cell(html, "sessions", "family", "attended") == "1"
    assert cell(html, "sessions", "education", "attended") == "4"


def parse(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


async def test_indicators_csv(app: Starlette, data: World) -> None:
    async with await signed_in(app, data.officer) as client:
        response = await client.get("/indicators/export.csv" + PERIOD)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "no-store" in response.headers["cache-control"]
    rows = parse(response.content)

    def value(indicator: str, **keys: str) -> int:
        matches = [
            r
            for r in rows
            if r["indicator"] == indicator
            and all(
                r[c] == keys.get(c, "")
                for c in ("pillar", "gender", "age_band", "attendance", "review_status")
            )
        ]
        assert len(matches) == 1, (indicator, keys)
        return int(matches[0]["value"])

    assert {r["period_start"] for r in rows} == {"2024-06-01"}
    assert value("participants_supported") == 5
    assert value("participants_supported", gender="female", age_band="18_24") == 1
    assert value("participants_supported", gender="other", age_band="45_plus") == 1
    assert value("sessions", pillar="education", attendance="attended") == 3
    assert value("participants_every_pillar") == 1
    assert value("progress_reviews") == 2
    assert value("progress_reviews", pillar="education", review_status="serious_concerns") == 1
    event = await AuditEvent.get(action="export.indicators")
    assert event.detail == {"from": "2024-06-01", "to": "2024-06-30"}


async def test_session_log_csv_is_pseudonymised_unless_names_are_confirmed(
    app: Starlette, data: World
) -> None:
    form = {"from": "2024-06-01", "to": "2024-06-30"}
    async with await signed_in(app, data.officer) as client:
        plain = await post_form(client, "/indicators/session-logs.csv", form)
        unconfirmed = await post_form(
            client, "/indicators/session-logs.csv", {**form, "full_names": "1"}
        )
        named = await post_form(
            client, "/indicators/session-logs.csv", {**form, "full_names": "1", "confirm": "1"}
        )
    assert plain.status_code == 200
    assert plain.headers["content-disposition"].startswith("attachment;")
    rows = parse(plain.content)
    assert list(rows[0]) == [
        "date",
        "participant_code",
        "pillar",
        "attendance",
        "duration_minutes",
        "engagement",
        "follow_up",
        "author_id",
    ]
    codes = {k: v.code for k, v in data.people.items()}
    # p4 is another officer's; p7's sessions fall outside; p8 is elsewhere.
    assert sorted(r["participant_code"] for r in rows) == sorted(
        [codes["p1"], codes["p2"], codes["p2"], codes["p3"], codes["p3"], codes["p6"]]
        + [codes["p5"]] * 5
    )
    assert rows[0] == {
        "date": local(2024, 6, 1, 0, 0).isoformat(timespec="minutes"),
        "participant_code": codes["p2"],
        "pillar": "family",
        "attendance": "attended",
        "duration_minutes": "45",
        "engagement": "4",
        "follow_up": "no",
        "author_id": str(data.worker.id),
    }
    assert rows[-1]["date"].startswith("2024-06-30T23:30")
    assert "Aigerim" not in plain.text
    assert unconfirmed.status_code == 422
    assert "please confirm" in unconfirmed.text
    named_rows = parse(named.content)
    assert named_rows[-1]["participant_name"] == "Aigerim One"
    actions = [
        e.action for e in await AuditEvent.filter(action__startswith="export.").order_by("id")
    ]
    assert actions == ["export.session_logs", "export.session_logs", "export.full_names"]


async def test_who_may_see_indicators(app: Starlette, data: World) -> None:
    org = await data.officer.organisation
    admin = await world.user(org, Role.ADMIN)
    outsider = await world.user(data.outsider_org, Role.ADMIN)
    async with await signed_in(app, admin) as client:
        page = await client.get("/indicators" + PERIOD)
        export = await post_form(client, "/indicators/session-logs.csv", {})
    assert cell(page.text, "supported", "total", "total") == "5"
    assert "session-logs.csv" not in page.text
    assert export.status_code == 404
    async with await signed_in(app, outsider) as client:
        elsewhere = await client.get("/indicators" + PERIOD)
    assert cell(elsewhere.text, "supported", "total", "total") == "1"
    assert cell(elsewhere.text, "sessions", "education", "attended") == "1"
    for role in (Role.WORKER, Role.FAMILY):
        async with await signed_in(app, await world.user(org, role)) as client:
            assert (await client.get("/indicators")).status_code == 404
            assert (await client.get("/indicators/export.csv")).status_code == 404


async def test_a_wrong_period_is_explained(app: Starlette, data: World) -> None:
    async with await signed_in(app, data.officer) as client:
        backwards = await client.get("/indicators?from=2024-06-30&to=2024-06-01")
        unreadable = await client.get("/indicators/export.csv?from=June&to=2024-06-01")
        default = await client.get("/indicators")
    assert backwards.status_code == 422
    assert "must not be before its start" in backwards.text
    assert 'value="2024-06-30"' in backwards.text
    assert unreadable.status_code == 422 and 'value="June"' in unreadable.text
    assert default.status_code == 200
