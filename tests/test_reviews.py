"""Participant progress: charts with their tables, mirrored in Arabic; reviews."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.enums import Attendance, Pillar, ReviewStatus, Role
from server.participants.models import Participant
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog
from tests.support import world
from tests.support.web import post_form, signed_in

# Kampala is UTC+3 all year: the month of a session is the local one.
NOW = datetime(2024, 6, 15, 9, 0, tzinfo=UTC)


async def log(
    participant: Participant,
    author: User,
    at: datetime,
    *,
    pillar: Pillar = Pillar.EDUCATION,
    engagement: int | None = 4,
    attendance: Attendance = Attendance.ATTENDED,
) -> None:
    await SessionLog.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=pillar,
        form_version=1,
        occurred_at=at,
        duration_minutes=60,
        author=author,
        attendance=attendance,
        engagement=engagement,
        content_hash="0" * 64,
    )


@pytest.fixture
async def setting(app: Starlette) -> tuple[User, Participant, User]:
    app.state.clock = lambda: NOW
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    participant = await world.participant(org, officer)
    await participant.workers.add(worker)
    at = datetime
    await log(participant, worker, at(2024, 6, 3, 8, tzinfo=UTC), engagement=4)
    await log(participant, worker, at(2024, 6, 10, 8, tzinfo=UTC), engagement=5)
    # 22:30 UTC on 31 May is 01:30 on 1 June in Kampala: a June session.
    await log(participant, worker, at(2024, 5, 31, 22, 30, tzinfo=UTC), engagement=3)
    await log(participant, worker, at(2024, 4, 1, 8, tzinfo=UTC), engagement=3)
    await log(participant, worker, at(2024, 5, 2, 8, tzinfo=UTC), attendance=Attendance.MISSED)
    await log(
        participant, worker, at(2024, 5, 20, 8, tzinfo=UTC), pillar=Pillar.FAMILY, engagement=2
    )
    # Before the six months shown (January to June).
    await log(participant, worker, at(2023, 12, 20, 8, tzinfo=UTC))
    return officer, participant, worker


def svgs(html: str) -> dict[str, ET.Element]:
    found = {}
    for part in html.split("<svg ")[1:]:
        element = ET.fromstring("<svg " + part.split("</svg>")[0] + "</svg>")
        found[element.attrib["data-chart"]] = element
    return found


def table_rows(html: str, pillar: str) -> list[list[str]]:
    table = html.split(f'<table data-table="{pillar}">')[1].split("</table>")[0]
    body = ET.fromstring("<tbody>" + table.split("<tbody>")[1].split("</tbody>")[0] + "</tbody>")
    return [["".join(cell.itertext()).strip() for cell in row] for row in body]


def bar_xs(chart: ET.Element) -> dict[str, float]:
    return {r.attrib["data-month"]: float(r.attrib["x"]) for r in chart.iter("rect")}


async def test_progress_page_has_charts_with_data_tables(
    app: Starlette, setting: tuple[User, Participant, User]
) -> None:
    officer, participant, _ = setting
    async with await signed_in(app, officer) as client:
        page = await client.get(f"/participants/{participant.id}/progress")
    assert page.status_code == 200, page.text
    rows = table_rows(page.text, "education")
    assert rows == [
        ["January 2024", "0", "—"],
        ["February 2024", "0", "—"],
        ["March 2024", "0", "—"],
        ["April 2024", "1", "3"],
        ["May 2024", "0", "—"],
        ["June 2024", "3", "4"],
    ]
    assert table_rows(page.text, "family")[4] == ["May 2024", "1", "2"]
    charts = svgs(page.text)
    sessions = charts["chart-education-sessions"]
    assert sessions.attrib["role"] == "img"
    title = sessions.find("title")
    assert title is not None and title.attrib["id"] == sessions.attrib["aria-labelledby"]
    assert "Education" in (title.text or "")
    assert set(bar_xs(sessions)) == {"2024-04-01", "2024-06-01"}
    heights = {r.attrib["data-month"]: float(r.attrib["height"]) for r in sessions.iter("rect")}
    assert heights["2024-06-01"] == pytest.approx(3 * heights["2024-04-01"])
    assert "chart-vocational-sessions" not in charts  # nothing to draw: the table says so
    assert (
        'style="' not in page.text.split("<main")[1]
        and "<script" not in page.text.split("<main")[1]
    )


async def test_progress_charts_are_mirrored_in_arabic(
    app: Starlette, setting: tuple[User, Participant, User]
) -> None:
    officer, participant, _ = setting
    async with await signed_in(app, officer) as client:
        english = await client.get(f"/participants/{participant.id}/progress")
        officer.language = "ar"
        await officer.save()
        arabic = await client.get(f"/participants/{participant.id}/progress")
    assert 'dir="rtl"' in arabic.text and 'dir="ltr"' in english.text
    ltr = bar_xs(svgs(english.text)["chart-education-sessions"])
    rtl_chart = svgs(arabic.text)["chart-education-sessions"]
    rtl = bar_xs(rtl_chart)
    width = float(rtl_chart.attrib["width"])
    bar = float(next(rtl_chart.iter("rect")).attrib["width"])
    assert ltr["2024-04-01"] < ltr["2024-06-01"]
    assert rtl["2024-04-01"] > rtl["2024-06-01"]
    for month, x in ltr.items():
        assert rtl[month] == pytest.approx(width - x - bar, abs=0.2)
    assert len(table_rows(arabic.text, "education")) == 6


async def review_form(**overrides: str) -> dict[str, str]:
    return {
        "family": "on_track",
        "education": "some_concerns",
        "vocational": "serious_concerns",
        "counselling": "on_track",
        "summary": "Attends classes; looking for an apprenticeship.",
        "next_review_on": "2024-09-15",
        **overrides,
    }


async def test_a_review_is_validated_saved_audited_and_kept_as_history(
    app: Starlette, setting: tuple[User, Participant, User]
) -> None:
    officer, participant, _ = setting
    url = f"/participants/{participant.id}/reviews/new"
    async with await signed_in(app, officer) as client:
        assert (await client.get(url)).status_code == 200
        bad = await post_form(
            client,
            url,
            await review_form(vocational="", summary="Kept text", next_review_on="2024-06-15"),
        )
        assert bad.status_code == 422
        assert "Please choose an answer." in bad.text
        assert "The next review must be after today." in bad.text
        assert (
            "Kept text" in bad.text
            and 'value="some_concerns" id="f-education-some_concerns" checked' in bad.text
        )
        assert await ProgressReview.all().count() == 0
        first = await post_form(client, url, await review_form())
        assert first.status_code == 303
        second = await post_form(
            client, url, await review_form(vocational="some_concerns", next_review_on="2024-12-01")
        )
        assert second.status_code == 303
        progress = await client.get(second.headers["location"])
        participant_page = await client.get(f"/participants/{participant.id}")
    reviews = await ProgressReview.filter(participant=participant).order_by("seq")
    assert [r.vocational for r in reviews] == [
        ReviewStatus.SERIOUS_CONCERNS,
        ReviewStatus.SOME_CONCERNS,
    ]
    assert reviews[0].reviewed_on.isoformat() == "2024-06-15"
    assert 0 < reviews[0].seq < reviews[1].seq
    events = await AuditEvent.filter(action="review.created").order_by("id")
    assert [e.object_id for e in events] == [str(participant.id)] * 2
    assert events[0].detail["vocational"] == "serious_concerns"
    assert "Attends classes" not in str(events[0].detail)
    assert progress.text.count('data-status="vocational:') == 2
    assert "The progress review is saved." in progress.text
    assert 'id="progress"' in participant_page.text
    assert "Latest progress review" in participant_page.text


async def test_progress_and_reviews_are_out_of_reach_of_others(
    app: Starlette, setting: tuple[User, Participant, User]
) -> None:
    _, participant, worker = setting
    org = await participant.organisation
    other_org = await world.organisation("Elsewhere")
    family = await world.user(org, Role.FAMILY)
    await participant.family.add(family)
    outsiders = [
        await world.user(org, Role.OFFICER),
        await world.user(other_org, Role.OFFICER),
        worker,
        family,
    ]
    for outsider in outsiders:
        async with await signed_in(app, outsider) as client:
            for path in ("progress", "reviews/new"):
                response = await client.get(f"/participants/{participant.id}/{path}")
                assert response.status_code == 404, (outsider.role, path)
            posted = await post_form(
                client, f"/participants/{participant.id}/reviews/new", await review_form()
            )
            assert posted.status_code == 404
        # A worker's participant page has no progress section.
        if outsider is worker:
            async with await signed_in(app, worker) as client:
                page = await client.get(f"/participants/{participant.id}")
            assert page.status_code == 200 and 'id="progress"' not in page.text
    assert await ProgressReview.all().count() == 0


async def test_a_malformed_id_is_not_found(app: Starlette) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    client: httpx.AsyncClient
    async with await signed_in(app, officer) as client:
        assert (await client.get("/participants/1/progress")).status_code == 404
        assert (await client.get("/participants/1/reviews/new")).status_code == 404
