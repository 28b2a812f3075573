"""The programme view: figures across organisations, against values by hand."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from starlette.applications import Starlette

from server.audit.models import AuditEvent
from server.audit.services import SYSTEM
from server.enums import Attendance, Country, Gender, Pillar, ReviewStatus, Role
from server.indicators import services as indicators
from server.indicators.period import Period
from server.programme import services
from server.programme.period import Quarter
from server.reviews.models import ProgressReview
from tests.support import programme as pw
from tests.support.web import signed_in

Q3 = Quarter(2026, 3)
KAMPALA, TUNIS, ALMATY = "Africa/Kampala", "Africa/Tunis", "Asia/Almaty"
ORG = ("organisation",)


def at_clock(app: Starlette) -> None:
    app.state.clock = lambda: pw.NOW


def cells(page: str, table: str, level: str) -> list[str]:
    """The cells of the rows of one level in one table, as the page shows them."""
    part = page.split(f'data-table="{table}"')[1].split("</table>")[0]
    rows = re.findall(rf'<tr data-level="{level}">(.*?)</tr>', part, re.S)
    out = []
    for row in rows:
        for td in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S):
            shown = re.sub(r'<span class="visually-hidden">.*?</span>', "", td)
            out.append(re.sub(r"<[^>]+>", "", shown).replace("&lt;", "<").replace("&nbsp;", " "))
    return out


async def test_a_coordinator_sees_the_sum_of_the_organisations(app: Starlette) -> None:
    at_clock(app)
    programme = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    north = await pw.organisation("North NGO", Country.UGANDA, KAMPALA)
    south = await pw.organisation("South NGO", Country.UGANDA, KAMPALA)
    wn, ws = await pw.staff(north), await pw.staff(south)
    when = pw.local(KAMPALA, 2026, 8, 10, 10)
    # North: 6 women (each one family session attended), 5 men (one missed
    # session each: not supported). South: 7 men, 5 women, one education session each.
    for _ in range(6):
        await pw.log(await pw.person(north, gender=Gender.FEMALE), wn, when)
    for _ in range(5):
        who = await pw.person(north, gender=Gender.MALE)
        await pw.log(who, wn, when, attendance=Attendance.MISSED)
    for _ in range(7):
        await pw.log(await pw.person(south, gender=Gender.MALE), ws, when, pillar=Pillar.EDUCATION)
    for _ in range(5):
        await pw.log(
            await pw.person(south, gender=Gender.FEMALE), ws, when, pillar=Pillar.EDUCATION
        )
    user = await pw.coordinator(programme, [Country.UGANDA])
    async with await signed_in(app, user) as client:
        page = await client.get("/programme?quarter=2026-Q3")
    assert page.status_code == 200
    # Columns: female, male, other, undisclosed, total. Nobody is "other"
    # or "undisclosed" (0 < 5): hidden, two to a row. North's 0 men is
    # hidden, and would be Uganda's 7 minus South's 7: South's 7 goes too.
    assert cells(page.text, "supported_gender", "organisation") == [
        *["6", "< 5", "< 5", "< 5", "6"],
        *["5", "< 5", "< 5", "< 5", "12"],
    ]
    assert cells(page.text, "supported_gender", "country") == ["11", "7", "< 5", "< 5", "18"]
    assert cells(page.text, "supported_gender", "programme") == ["11", "7", "< 5", "< 5", "18"]
    # Sessions: family, education, vocational, counselling, total.
    # South's 0 family sessions is Uganda's 11 minus North's 11: hidden too;
    # the same for North's 0 education sessions.
    assert cells(page.text, "sessions_pillar", "organisation") == [
        *["< 5", "< 5", "< 5", "< 5", "11"],
        *["< 5", "< 5", "< 5", "< 5", "12"],
    ]
    assert cells(page.text, "sessions_pillar", "programme") == ["11", "12", "< 5", "< 5", "23"]
    # Attended, missed, cancelled, total.
    # South's 0 missed would be Uganda's 5 minus North's 5: North's goes;
    # then Uganda's row would give its 0 cancelled back: its 5 missed goes,
    # and with it the programme's (the programme is Uganda alone).
    assert cells(page.text, "sessions_attendance", "organisation") == [
        *["6", "< 5", "< 5", "11"],
        *["12", "< 5", "< 5", "12"],
    ]
    # Where nothing is hidden, Uganda is North plus South.
    assert cells(page.text, "sessions_attendance", "country") == ["18", "< 5", "< 5", "23"]
    assert cells(page.text, "sessions_attendance", "programme") == ["18", "< 5", "< 5", "23"]
    # And the organisations' own indicators say the same.
    period = Period(Q3.first, Q3.last, pw.ZoneInfo(KAMPALA))
    for org, supported in ((north, 6), (south, 12)):
        admin = await pw.staff(org, Role.ADMIN)
        own = await indicators.compute(user=admin, period=period, actor=SYSTEM)
        assert own.supported_total == supported


async def test_period_edges_are_each_organisations_own_midnight(orm: None) -> None:
    programme = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    user = await pw.coordinator(programme, [Country.KAZAKHSTAN, Country.TUNISIA, Country.UGANDA])
    expected = {}
    for name, country, zone in (
        ("Almaty NGO", Country.KAZAKHSTAN, ALMATY),
        ("Tunis NGO", Country.TUNISIA, TUNIS),
        ("Kampala NGO", Country.UGANDA, KAMPALA),
    ):
        org = await pw.organisation(name, country, zone)
        worker = await pw.staff(org)
        who = await pw.person(org)
        # In Q3: local midnight opening 1 July, and 23:59 on 30 September.
        await pw.log(who, worker, pw.local(zone, 2026, 7, 1, 0, 0))
        await pw.log(who, worker, pw.local(zone, 2026, 9, 30, 23, 59))
        # Not in Q3: a minute before 1 July, and midnight opening 1 October.
        await pw.log(who, worker, pw.local(zone, 2026, 6, 30, 23, 59))
        await pw.log(who, worker, pw.local(zone, 2026, 10, 1, 0, 0))
        expected[org.id] = 2
    figures = await services.compute(user=user, quarter=Q3, actor=SYSTEM)
    got = {
        key[1][1]: n
        for key, n in figures.values.items()
        if key[0] == "sessions" and key[1][0] == "organisation" and key[2:] == ("all", "all")
    }
    assert got == expected
    assert figures.values[("sessions", ("programme",), "all", "all")] == 6


async def test_a_person_served_by_two_organisations_counts_once_above_them(orm: None) -> None:
    programme = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    home = await pw.organisation("Home NGO", Country.UGANDA, KAMPALA)
    partner = await pw.organisation("Partner NGO", Country.UGANDA, KAMPALA)
    user = await pw.coordinator(programme, [Country.UGANDA])
    who = await pw.person(home, gender=Gender.MALE, born="2010-01-01")
    # A referral's partner logs a session for the home organisation's participant.
    await pw.log(who, await pw.staff(home), pw.local(KAMPALA, 2026, 7, 5, 9))
    await pw.log(who, await pw.staff(partner), pw.local(KAMPALA, 2026, 7, 6, 9))
    figures = await services.compute(user=user, quarter=Q3, actor=SYSTEM)
    v = figures.values
    assert v[("supported", ("organisation", home.id), "all", "all")] == 1
    assert v[("supported", ("organisation", partner.id), "all", "all")] == 1
    assert v[("supported", ("country", "UG"), "all", "all")] == 1
    assert v[("supported", ("programme",), "male", "all")] == 1
    assert v[("supported", ("programme",), "all", "under_18")] == 1  # 16 on 30 September
    assert v[("sessions", ("country", "UG"), "all", "all")] == 2


async def test_every_pillar_and_reviews_are_counted_per_organisation(orm: None) -> None:
    programme = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    home = await pw.organisation("Home NGO", Country.UGANDA, KAMPALA)
    partner = await pw.organisation("Partner NGO", Country.UGANDA, KAMPALA)
    user = await pw.coordinator(programme, [Country.UGANDA])
    officer, other = await pw.staff(home, Role.OFFICER), await pw.staff(partner)
    full, half = await pw.person(home), await pw.person(home)
    when = pw.local(KAMPALA, 2026, 8, 1, 9)
    for pillar in Pillar:
        await pw.log(full, officer, when, pillar=pillar)
    # Half: two pillars at home, the other two with the partner: all four
    # programme-wide, but neither organisation gave all four.
    for pillar in (Pillar.FAMILY, Pillar.EDUCATION):
        await pw.log(half, officer, when, pillar=pillar)
    for pillar in (Pillar.VOCATIONAL, Pillar.COUNSELLING):
        await pw.log(half, other, when, pillar=pillar)
    for on in (date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 1)):
        await ProgressReview.create(
            id=uuid.uuid4(),
            participant=full,
            officer=officer,
            reviewed_on=on,
            family=ReviewStatus.ON_TRACK,
            education=ReviewStatus.ON_TRACK,
            vocational=ReviewStatus.ON_TRACK,
            counselling=ReviewStatus.ON_TRACK,
        )
    figures = await services.compute(user=user, quarter=Q3, actor=SYSTEM)
    v = figures.values
    assert v[("every_pillar", ("organisation", home.id))] == 1
    assert v[("every_pillar", ("organisation", partner.id))] == 0
    assert v[("every_pillar", ("country", "UG"))] == 2
    assert v[("every_pillar", ("programme",))] == 2
    assert v[("reviews", ("organisation", home.id))] == 2
    assert v[("reviews", ("programme",))] == 2


async def test_a_coordinator_of_kazakhstan_sees_no_tunisian_organisation(app: Starlette) -> None:
    at_clock(app)
    programme = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    almaty = await pw.organisation("Steppe Hope Almaty", Country.KAZAKHSTAN, ALMATY)
    tunis = await pw.organisation("Jasmine Bridge Tunis", Country.TUNISIA, TUNIS)
    for org, zone in ((almaty, ALMATY), (tunis, TUNIS)):
        worker = await pw.staff(org)
        for _ in range(6):
            await pw.log(await pw.person(org), worker, pw.local(zone, 2026, 8, 3, 10))
    user = await pw.coordinator(programme, [Country.KAZAKHSTAN])
    async with await signed_in(app, user) as client:
        page = await client.get("/programme?quarter=2026-Q3")
        export = await client.get("/programme/export.csv?quarter=2026-Q3")
    for body in (page.text, export.text):
        assert "Steppe Hope Almaty" in body
        assert "Jasmine Bridge Tunis" not in body
        assert "TN" not in re.findall(r"\b[A-Z]{2}\b", body)
    assert cells(page.text, "supported_gender", "programme")[-1] == "6"
    figures = await services.compute(user=user, quarter=Q3, actor=SYSTEM)
    assert ("organisation", tunis.id) not in {u.key for u in figures.units}


async def test_names_codes_and_notes_never_reach_the_coordinator(app: Starlette) -> None:
    at_clock(app)
    programme = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    org = await pw.organisation("Kampala NGO", Country.UGANDA, KAMPALA)
    worker = await pw.staff(org)
    for index in range(6):
        who = await pw.person(org, name=f"Nakato Secretname{index}", code=f"UG-ZQX{index}")
        await pw.log(
            who, worker, pw.local(KAMPALA, 2026, 8, 3, 10), notes=f"Private note number {index}"
        )
    user = await pw.coordinator(programme, [Country.UGANDA])
    async with await signed_in(app, user) as client:
        bodies = [
            (await client.get(url)).text
            for url in ("/", "/programme", "/programme?quarter=2026-Q3", "/programme/export.csv")
        ]
    for body in bodies:
        assert "Secretname" not in body
        assert "UG-ZQX" not in body
        assert "Private note" not in body
        assert worker.name not in body


async def test_only_whole_ended_quarters_are_computed(app: Starlette) -> None:
    at_clock(app)
    programme = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    user = await pw.coordinator(programme, [Country.UGANDA])
    async with await signed_in(app, user) as client:
        # Periods a day apart, a month, the running quarter, a year: refused.
        for url in (
            "/programme?from=2026-07-01&to=2026-09-30",
            "/programme?quarter=2026-Q3&from=2026-07-02",
            "/programme?quarter=2026-07-02",
            "/programme?quarter=2026-Q4",
            "/programme?quarter=2026",
            "/programme?quarter=1999-Q4",
            "/programme/export.csv?quarter=2026-Q4",
            "/programme/export.csv?to=2026-09-29",
        ):
            response = await client.get(url)
            assert response.status_code == 400, url
            assert "whole quarters that have ended" in response.text, url
        before = await AuditEvent.filter(action="export.programme").count()
        assert before == 0
        french = await client.get("/programme?quarter=2026-Q4", headers={"accept-language": "fr"})
    assert french.status_code == 400
    # The default is the last quarter ended everywhere.
    async with await signed_in(app, user) as client:
        page = await client.get("/programme")
    assert 'data-quarter="2026-Q3"' in page.text


async def test_the_export_is_audited_and_holds_published_cells_only(app: Starlette) -> None:
    at_clock(app)
    programme = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    org = await pw.organisation("=Kampala NGO", Country.UGANDA, KAMPALA)
    worker = await pw.staff(org)
    for _ in range(3):
        await pw.log(await pw.person(org), worker, pw.local(KAMPALA, 2026, 8, 3, 10))
    user = await pw.coordinator(programme, [Country.UGANDA])
    async with await signed_in(app, user) as client:
        export = await client.get("/programme/export.csv?quarter=2026-Q3")
    assert export.status_code == 200
    rows = pw.read_csv(export.text)
    total = [
        r
        for r in rows
        if r["table"] == "supported_gender" and r["level"] == "programme" and r["column"] == "all"
    ]
    assert total == [
        {
            "quarter": "2026-Q3",
            "table": "supported_gender",
            "level": "programme",
            "country": "",
            "organisation": "",
            "column": "all",
            "value": "< 5",
        }
    ]
    assert {r["organisation"] for r in rows} == {"", "'=Kampala NGO"}  # no formula
    assert not any(r["value"] == "3" for r in rows)
    events = await AuditEvent.filter(action="export.programme")
    assert [(e.object_type, e.object_id, e.actor_id) for e in events] == [
        ("programme", "2026-Q3", user.id)
    ]


@pytest.mark.parametrize("language", ["ar", "kk"])
async def test_the_page_is_in_the_coordinators_language(app: Starlette, language: str) -> None:
    at_clock(app)
    programme = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    user = await pw.coordinator(programme, [Country.UGANDA], language=language)
    async with await signed_in(app, user) as client:
        page = await client.get("/programme")
    assert page.status_code == 200
    assert f'lang="{language}"' in page.text
    assert "Programme figures" not in page.text
    if language == "ar":
        assert 'dir="rtl"' in page.text


async def test_a_quarters_counts_are_kept_for_a_day(app: Starlette) -> None:
    from datetime import timedelta

    from server.programme.models import ProgrammeSnapshot

    # The day before the tests' NOW (the sign-in session is not idle then).
    app.state.clock = lambda: pw.NOW - timedelta(days=1)
    programme = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    org = await pw.organisation("Kampala NGO", Country.UGANDA, KAMPALA)
    worker = await pw.staff(org)
    when = pw.local(KAMPALA, 2026, 8, 3, 10)
    for _ in range(6):
        await pw.log(await pw.person(org, name="Kept Secretname"), worker, when)
    user = await pw.coordinator(programme, [Country.UGANDA])
    async with await signed_in(app, user) as client:
        first = await client.get("/programme?quarter=2026-Q3")
        # A late sync brings a seventh person's session into the ended quarter.
        await pw.log(await pw.person(org), worker, when)
        same_day = await client.get("/programme?quarter=2026-Q3")
        app.state.clock = lambda: pw.NOW + timedelta(minutes=1)
        next_day = await client.get("/programme?quarter=2026-Q3")
    assert cells(first.text, "supported_gender", "programme")[-1] == "6"
    assert cells(same_day.text, "supported_gender", "programme")[-1] == "6"
    assert cells(next_day.text, "supported_gender", "programme")[-1] == "7"
    kept = await ProgrammeSnapshot.all()
    assert [(k.quarter, k.countries) for k in kept] == [("2026-Q3", "UG")]
    assert "Secretname" not in str(kept[0].figures)
    # The threshold is read when the page is made, not when counts were kept.
    await type(programme).filter(id=programme.id).update(suppression_threshold=8)
    async with await signed_in(app, user) as client:
        raised = await client.get("/programme?quarter=2026-Q3")
    assert cells(raised.text, "supported_gender", "programme")[-1] == "< 8"
