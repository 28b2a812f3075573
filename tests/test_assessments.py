"""The needs assessment (issue 20, item 1): declared like the session forms,
recorded by the responsible officer only, proposing goals that are added
only on the officer's tap, and keeping its notes inside the organisation."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server import policy, retention
from server.accounts.models import User
from server.assessments import services
from server.assessments.declaration import (
    ASSESSMENT_V1,
    FAMILY,
    NOTES,
    Declaration,
    UnknownAssessment,
    declaration,
)
from server.assessments.models import AcceptedGoal, NeedsAssessment
from server.audit.models import AuditEvent
from server.audit.services import SYSTEM
from server.enums import Gender, Pillar, Role
from server.errors import Invalid, NotFound
from server.forms import REGISTRY
from server.forms.fields import single, text
from server.forms.form import Questions, Section
from server.orgs.models import Organisation
from server.participants.models import Participant, PlanGoal
from tests.support import world
from tests.support.web import post_form, signed_in

# Kampala is UTC+3 all year.
NOW = datetime(2024, 6, 15, 9, 0, tzinfo=UTC)
RISK = "Risk-canary: a cousin threatened her at the Kulsary market"
GENERAL = "General-canary: sleeps at an aunt flat on Abai street"
LEARN = "Learn-canary: bookkeeping at the Nur centre"


def answers(**changed: Any) -> dict[str, Any]:
    """A complete assessment: education high, vocational some, the others none."""
    base: dict[str, Any] = {
        "family_home": "with_family",
        "family_contact": "often",
        "family_readiness": "ready",
        "family_support": ["none"],
        "family_need": "none",
        "education_schooling": "primary",
        "education_wants": "yes",
        "education_literacy": "some_help",
        "education_learn": LEARN,
        "education_need": "high",
        "vocational_work": "no_income",
        "vocational_skills": "Welding",
        "vocational_training": "Tailoring",
        "vocational_documents": ["identity", "work_record"],
        "vocational_need": "some",
        "counselling_needs": ["stress", "grief"],
        "counselling_wants": "not_sure",
        "counselling_need": "none",
        "risk_note": RISK,
        "general_note": GENERAL,
    }
    return {**base, **changed}


class World:
    org: Organisation
    officer: User
    peer: User
    worker: User
    family: User
    admin: User
    participant: Participant
    other: Participant


async def build(language: str = "en", gender: Gender = Gender.FEMALE) -> World:
    w = World()
    w.org = await world.organisation()
    w.officer = await world.user(w.org, Role.OFFICER, name="Officer Amina", language=language)
    w.peer = await world.user(w.org, Role.OFFICER, name="Peer Officer")
    w.worker = await world.user(w.org, Role.WORKER, name="Worker Brenda")
    w.family = await world.user(w.org, Role.FAMILY, name="Relative Dana")
    w.admin = await world.user(w.org, Role.ADMIN, name="Admin Joseph")
    w.participant = await world.participant(w.org, w.officer, full_name="Dana S", gender=gender)
    await w.participant.workers.add(w.worker)
    await w.participant.family.add(w.family)
    w.other = await world.participant(w.org, w.officer, full_name="Other Person")
    return w


async def record(
    client: httpx.AsyncClient, participant: Participant, **changed: Any
) -> httpx.Response:
    return await post_form(
        client, f"/participants/{participant.id}/assessments/new", answers(**changed)
    )


# --- the declaration ---


def test_version_1_has_a_section_per_pillar_in_the_pillars_order_then_the_notes() -> None:
    questions = ASSESSMENT_V1.questions
    assert questions.pillar is None and questions.moment is None and questions.version == 1
    assert [s.title for s in questions.sections] == [
        "Family engagement",
        "Education",
        "Vocational training",
        "Counselling",
        "Notes",
    ]
    assert ASSESSMENT_V1.pillar_keys(Pillar.EDUCATION) == [
        "education_schooling",
        "education_wants",
        "education_literacy",
        "education_learn",
        "education_need",
    ]
    assert [f.key for f in NOTES.fields] == ["risk_note", "general_note"]
    assert declaration(1) is ASSESSMENT_V1
    with pytest.raises(UnknownAssessment):
        declaration(2)


def test_a_declaration_without_every_pillar_or_with_loose_keys_is_refused() -> None:
    def questions(*sections: Section) -> Questions:
        return Questions(pillar=None, version=9, title="T", sections=(*sections, NOTES))

    with pytest.raises(ValueError, match="a section for every pillar"):
        Declaration(questions(FAMILY), {Pillar.FAMILY: FAMILY})
    stray = Section("S", (single("education_need", "N", FAMILY.fields[-1].choices), text("x", "X")))
    parts = {p: stray if p is Pillar.EDUCATION else FAMILY for p in Pillar}
    with pytest.raises(ValueError, match="education keys must name it"):
        Declaration(questions(FAMILY, stray), parts)
    with pytest.raises(ValueError, match="section not in the form"):
        Declaration(questions(FAMILY), parts)


def test_the_session_forms_are_unchanged_by_the_shared_machinery() -> None:
    # Written down before the needs assessment came: a phone's cached form
    # stays the one the server validates with.
    assert {(str(f.pillar), f.version): f.content_hash for f in REGISTRY} == {
        ("counselling", 1): "94491e007527742e69e7ac6b2e4a230d42a173e040d51973e11d7cb942c56763",
        ("education", 1): "13c99af94d19ac26067c031da181a063f83ce60d5c90c53095d5c9a53b3e64a9",
        ("family", 1): "02689d8bc456ac0fc14f36a193814336b0c58bdbbd885634306932426efad7b1",
        ("vocational", 1): "eaea8f57e4b1d0bdc648fa14fa048d5daed06bbe1032c5e99957ee2c750ef4ea",
    }


def test_due_again_six_months_later_on_the_last_day_of_a_shorter_month() -> None:
    assert services.DUE_MONTHS == 6
    assert services.add_months(date(2024, 1, 31), 6) == date(2024, 7, 31)
    assert services.add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)
    assert services.add_months(date(2023, 8, 29), 6) == date(2024, 2, 29)
    assert services.add_months(date(2024, 12, 1), 1) == date(2025, 1, 1)


# --- recording, errors, wording ---


async def test_the_officer_records_one_and_it_is_stored_with_who_when_and_version(
    app: Starlette,
) -> None:
    app.state.clock = lambda: NOW
    w = await build()
    async with await signed_in(app, w.officer) as client:
        response = await record(client, w.participant)
        assert response.status_code == 303
        assert response.headers["location"] == f"/participants/{w.participant.id}?saved=1#needs"
    (stored,) = await NeedsAssessment.all()
    assert stored.participant_id == w.participant.id and stored.officer_id == w.officer.id
    assert stored.form_version == 1 and stored.assessed_on == date(2024, 6, 15)
    assert stored.risk_note == RISK and stored.general_note == GENERAL
    assert stored.answers["education_learn"] == LEARN
    assert stored.answers["vocational_documents"] == ["identity", "work_record"]
    assert "risk_note" not in stored.answers and "general_note" not in stored.answers
    event = await AuditEvent.get(action="assessment.created")
    assert event.detail == {
        "assessment": str(stored.id),
        "family": "none",
        "education": "high",
        "vocational": "some",
        "counselling": "none",
    }


@pytest.mark.parametrize(
    ("language", "choose", "choose_some", "exclusive"),
    [
        (
            "ru",
            "Выберите ответ.",
            "Выберите хотя бы один ответ.",
            "«Нет» нельзя выбрать вместе с другими ответами.",
        ),
        (
            "ar",
            "يُرجى اختيار إجابة.",
            "يُرجى اختيار إجابة واحدة على الأقل.",
            "لا يمكن اختيار «لا شيء» مع إجابات أخرى.",
        ),
    ],
)
async def test_bad_answers_get_translated_errors_and_nothing_is_stored(
    app: Starlette, language: str, choose: str, choose_some: str, exclusive: str
) -> None:
    app.state.clock = lambda: NOW
    w = await build(language)
    async with await signed_in(app, w.officer) as client:
        response = await record(
            client,
            w.participant,
            family_home="",
            counselling_needs=[],
            family_support=["none", "housing"],
            education_need="enormous",
        )
    assert response.status_code == 422
    page = response.text
    assert _problem(page, "family_home") == choose
    assert _problem(page, "counselling_needs") == choose_some
    assert _problem(page, "family_support") == exclusive
    assert (
        _problem(page, "education_need")
        == {
            "ru": "Выберите один из предложенных ответов.",
            "ar": "يُرجى اختيار إحدى الإجابات المعروضة.",
        }[language]
    )
    # What was typed comes back, the notes included, to the officer only.
    assert LEARN in page and RISK in page
    assert await NeedsAssessment.all().count() == 0
    assert await AuditEvent.filter(action="assessment.created").count() == 0


def _problem(page: str, key: str) -> str:
    found = re.search(rf'id="f-{key}-error" data-problem>([^<]*)</span>', page)
    assert found, key
    return found.group(1)


@pytest.mark.parametrize(
    ("language", "gender", "where", "study"),
    [
        ("ru", Gender.FEMALE, "Где сейчас живёт участница?", "Хочет ли участница учиться?"),
        ("ru", Gender.MALE, "Где сейчас живёт участник?", "Хочет ли участник учиться?"),
        (
            "fr",
            Gender.FEMALE,
            "Où vit la participante aujourd’hui\u202f?",
            "La participante souhaite-t-elle étudier\u202f?",
        ),
        ("ar", Gender.MALE, "أين يقيم المشارك الآن؟", "هل يرغب المشارك في الدراسة؟"),
        ("ar", Gender.UNDISCLOSED, "أين يقيم المشارك الآن؟", "هل يرغب المشارك في الدراسة؟"),
    ],
)
async def test_questions_about_the_participant_agree_with_their_gender(
    app: Starlette, language: str, gender: Gender, where: str, study: str
) -> None:
    w = await build(language, gender)
    async with await signed_in(app, w.officer) as client:
        page = await client.get(f"/participants/{w.participant.id}/assessments/new")
    assert page.status_code == 200
    assert _label(page.text, "family_home") == where
    assert _label(page.text, "education_wants") == study
    if language == "ar":
        assert 'dir="rtl"' in page.text


def _label(page: str, key: str) -> str:
    found = re.search(rf'id="f-{key}-field".*?<legend>(.*?) <span', page, re.S)
    assert found, key
    return found.group(1).strip()


# --- history and due date ---


async def test_history_newest_first_and_the_due_date_on_the_participant_page(
    app: Starlette,
) -> None:
    w = await build()
    async with await signed_in(app, w.officer) as client:
        for moment, need in (
            (datetime(2023, 12, 1, 9, tzinfo=UTC), "none"),
            (datetime(2024, 3, 10, 9, tzinfo=UTC), "some"),
            (datetime(2024, 1, 20, 9, tzinfo=UTC), "high"),  # entered late, dated that day
            (datetime(2024, 3, 10, 15, tzinfo=UTC), "high"),  # the same day, later
        ):
            app.state.clock = lambda moment=moment: moment
            assert (await record(client, w.participant, family_need=need)).status_code == 303
        app.state.clock = lambda: datetime(2024, 6, 15, 9, tzinfo=UTC)
        history = await client.get(f"/participants/{w.participant.id}/assessments")
        page = await client.get(f"/participants/{w.participant.id}")
        app.state.clock = lambda: datetime(2024, 9, 10, 9, tzinfo=UTC)
        later = await client.get(f"/participants/{w.participant.id}")
    assert history.status_code == 200
    assert re.findall(r"<h2>Needs assessment of ([^<]+)</h2>", history.text) == [
        "10 Mar 2024",
        "10 Mar 2024",
        "20 Jan 2024",
        "1 Dec 2023",
    ]
    # The two of 10 March: the later one first (family need high, then some).
    family = re.findall(
        r"<dt>How much support is needed here\?</dt>\s*<dd>([^<]+)</dd>", history.text
    )
    assert family[0:8:4] == ["High need", "Some need"]
    assert history.text.count("Recorded by Officer Amina") == 4
    assert "Latest needs assessment: 10 Mar 2024" in page.text
    assert "Next needs assessment due: 10 Sept 2024" in page.text
    assert "A new needs assessment is due since 10 Sept 2024." in later.text
    read = await AuditEvent.filter(action="assessment.read").count()
    assert read == 1


async def test_a_participant_with_no_assessment_asks_for_one(app: Starlette) -> None:
    w = await build()
    async with await signed_in(app, w.officer) as client:
        page = await client.get(f"/participants/{w.participant.id}")
    assert "No needs assessment yet. Please record one at intake." in page.text
    assert f'href="/participants/{w.participant.id}/assessments/new"' in page.text
    assert "All needs assessments" not in page.text


# --- who may ---


async def test_nobody_but_the_responsible_officer_reaches_an_assessment(app: Starlette) -> None:
    app.state.clock = lambda: NOW
    w = await build()
    async with await signed_in(app, w.officer) as client:
        assert (await record(client, w.participant)).status_code == 303
    (stored,) = await NeedsAssessment.all()
    away = await world.organisation("Away NGO")
    strangers = [
        w.peer,
        w.worker,
        w.family,
        w.admin,
        await world.user(away, Role.OFFICER),
        await world.user(away, Role.ADMIN),
    ]
    base = f"/participants/{w.participant.id}/assessments"
    for user in strangers:
        async with await signed_in(app, user) as client:
            for method, url, body in (
                ("GET", base, None),
                ("GET", base + "/new", None),
                ("POST", base + "/new", answers()),
                ("POST", base + "/goals", {"assessment": str(stored.id), "pillar": "education"}),
            ):
                before = await AuditEvent.filter(action="access.denied").count()
                if body is None:
                    response = await client.get(url)
                else:
                    response = await post_form(client, url, body)
                assert response.status_code == 404, (user.name, method, url)
                after = await AuditEvent.filter(action="access.denied").count()
                assert after == before + 1, (user.name, method, url)
    assert await NeedsAssessment.all().count() == 1
    assert await PlanGoal.all().count() == 0


# --- proposals ---


async def test_proposals_become_goals_only_on_a_tap_and_only_once(app: Starlette) -> None:
    app.state.clock = lambda: NOW
    w = await build()
    async with await signed_in(app, w.officer) as client:
        assert (await record(client, w.participant)).status_code == 303
        (stored,) = await NeedsAssessment.all()
        assert services.proposed_referral_pillars(stored) == [Pillar.EDUCATION, Pillar.VOCATIONAL]
        page = await client.get(f"/participants/{w.participant.id}")
        assert await PlanGoal.all().count() == 0  # proposing adds nothing
        assert "Join a class or a course" in page.text
        assert "Join a vocational training and get the documents needed for work" in page.text
        assert "Prepare the return home together with the family" not in page.text
        refer = page.text.split("Pillars to refer</h3>")[1].split("</ul>")[0]
        assert re.findall(r"<li>([^<]+)</li>", refer) == ["Education", "Vocational training"]
        tap = {"assessment": str(stored.id), "pillar": "education"}
        url = f"/participants/{w.participant.id}/assessments/goals"
        first = await post_form(client, url, tap)
        assert first.status_code == 303
        assert first.headers["location"] == f"/participants/{w.participant.id}#needs"
        again = await post_form(client, url, tap)  # a double tap
        assert again.status_code == 303
        # Two tabs at the same moment.
        both = await asyncio.gather(
            post_form(client, url, {**tap, "pillar": "vocational"}),
            post_form(client, url, {**tap, "pillar": "vocational"}),
        )
        assert [r.status_code for r in both] == [303, 303]
        refused = await post_form(client, url, {**tap, "pillar": "family"})
        assert refused.status_code == 422
        nonsense = await post_form(client, url, {**tap, "pillar": "astrology"})
        assert nonsense.status_code == 422
        after = await client.get(f"/participants/{w.participant.id}")
    goals = await PlanGoal.all().order_by("pillar")
    assert [(g.pillar, g.text, g.participant_id) for g in goals] == [  # type: ignore[attr-defined]
        (Pillar.EDUCATION, "Join a class or a course", w.participant.id),
        (
            Pillar.VOCATIONAL,
            "Join a vocational training and get the documents needed for work",
            w.participant.id,
        ),
    ]
    assert await AcceptedGoal.all().count() == 2
    assert await AuditEvent.filter(action="goal.created").count() == 2
    assert after.text.count("Added to the plan.") == 2
    assert "Add to the plan</button>" not in after.text


async def test_a_goal_is_worded_in_the_officers_language(app: Starlette) -> None:
    app.state.clock = lambda: NOW
    w = await build("ru")
    async with await signed_in(app, w.officer) as client:
        await record(client, w.participant)
        (stored,) = await NeedsAssessment.all()
        url = f"/participants/{w.participant.id}/assessments/goals"
        response = await post_form(
            client, url, {"assessment": str(stored.id), "pillar": "education"}
        )
    assert response.status_code == 303
    assert [g.text for g in await PlanGoal.all()] == ["Пойти на занятия или курс"]


async def test_an_assessment_is_taken_only_on_its_own_participants_page(app: Starlette) -> None:
    app.state.clock = lambda: NOW
    w = await build()
    async with await signed_in(app, w.officer) as client:
        await record(client, w.participant)
        (stored,) = await NeedsAssessment.all()
        before = await AuditEvent.filter(action="access.denied").count()
        wrong = await post_form(
            client,
            f"/participants/{w.other.id}/assessments/goals",
            {"assessment": str(stored.id), "pillar": "education"},
        )
        made_up = await post_form(
            client,
            f"/participants/{w.participant.id}/assessments/goals",
            {"assessment": "not-an-id", "pillar": "education"},
        )
    assert (wrong.status_code, made_up.status_code) == (404, 404)
    assert await AuditEvent.filter(action="access.denied").count() == before + 2
    assert await PlanGoal.all().count() == 0


# --- the notes never leave ---


async def test_shared_summary_holds_only_the_chosen_pillars_answers(app: Starlette) -> None:
    app.state.clock = lambda: NOW
    w = await build()
    async with await signed_in(app, w.officer) as client:
        await record(client, w.participant)
    (stored,) = await NeedsAssessment.all()
    shared = services.shared_summary(stored, [Pillar.VOCATIONAL, Pillar.EDUCATION])
    assert shared == {
        "form_version": 1,
        "assessed_on": "2024-06-15",
        "pillars": {
            "education": {
                "education_schooling": "primary",
                "education_wants": "yes",
                "education_literacy": "some_help",
                "education_learn": LEARN,
                "education_need": "high",
            },
            "vocational": {
                "vocational_work": "no_income",
                "vocational_skills": "Welding",
                "vocational_training": "Tailoring",
                "vocational_documents": ["identity", "work_record"],
                "vocational_need": "some",
            },
        },
    }
    everything = json.dumps(services.shared_summary(stored, list(Pillar)), ensure_ascii=False)
    assert RISK not in everything and GENERAL not in everything
    assert "Kulsary" not in everything and "Abai" not in everything
    assert services.shared_summary(stored, []) == {
        "form_version": 1,
        "assessed_on": "2024-06-15",
        "pillars": {},
    }


async def test_the_notes_reach_no_page_or_pull_of_anyone_else(app: Starlette) -> None:
    app.state.clock = lambda: NOW
    w = await build()
    async with await signed_in(app, w.officer) as client:
        await record(client, w.participant)
        own = await client.get(f"/participants/{w.participant.id}/assessments")
    # The officer's own history shows them: the search below can find them.
    assert RISK in own.text and GENERAL in own.text
    seen: dict[str, str] = {}
    for user, urls in (
        (w.worker, ["/", f"/participants/{w.participant.id}", "/api/sync/pull", "/log"]),
        (w.family, ["/", "/api/sync/pull", "/family/calendar"]),
        (w.admin, ["/", "/admin/audit", "/admin/users", "/indicators"]),
        (w.peer, ["/", "/participants", "/dashboard"]),
    ):
        async with await signed_in(app, user) as client:
            for url in urls:
                response = await client.get(url)
                seen[f"{user.name} {url}"] = f"{response.status_code} {response.text}"
    assert seen[f"Worker Brenda /participants/{w.participant.id}"].startswith("200")
    assert seen["Worker Brenda /api/sync/pull"].startswith("200")
    for where, body in seen.items():
        for secret in (RISK, GENERAL, "Kulsary", "Abai street"):
            assert secret not in body, where
    # Nor the audit trail, which administrators read.
    details = json.dumps([e.detail for e in await AuditEvent.all()], ensure_ascii=False)
    assert "Kulsary" not in details and "Abai" not in details and "Nur centre" not in details


# --- subject access and retention ---


async def test_subject_access_includes_the_assessments(app: Starlette) -> None:
    app.state.clock = lambda: NOW
    w = await build()
    async with await signed_in(app, w.officer) as client:
        await record(client, w.participant)
        exported = (
            await client.get(f"/participants/{w.participant.id}/subject-access.json")
        ).json()
        document = await client.get(f"/participants/{w.participant.id}/subject-access")
    (item,) = exported["needs_assessments"]
    assert item["assessed_on"] == "2024-06-15" and item["form_version"] == 1
    assert item["risk_note"] == RISK and item["general_note"] == GENERAL
    assert item["answers"]["education_learn"] == LEARN
    assert "Needs assessments (1)" in document.text


async def test_retention_erases_the_notes_and_free_text_and_keeps_the_needs(
    app: Starlette,
) -> None:
    app.state.clock = lambda: NOW
    w = await build()
    w.org.retention_days = 365
    await w.org.save()
    async with await signed_in(app, w.officer) as client:
        await record(client, w.participant)
        await record(client, w.other, education_learn="Other-learn")
    await Participant.filter(id=w.participant.id).update(release_date=date(2020, 1, 1))
    await retention.run(today=date(2024, 6, 15), now=NOW)
    erased = await NeedsAssessment.get(participant_id=w.participant.id)
    assert (erased.risk_note, erased.general_note) == ("", "")
    assert erased.answers["education_learn"] == ""
    assert erased.answers["vocational_skills"] == "" and erased.answers["vocational_training"] == ""
    assert erased.answers["education_need"] == "high"
    assert erased.answers["vocational_documents"] == ["identity", "work_record"]
    kept = await NeedsAssessment.get(participant_id=w.other.id)
    assert kept.risk_note == RISK and kept.answers["education_learn"] == "Other-learn"
    anonymised = await AuditEvent.filter(
        action="retention.anonymised", object_type="needs_assessment"
    ).values_list("object_id", flat=True)
    assert anonymised == [str(erased.id)]


def test_a_declaration_without_its_notes_is_refused() -> None:
    sections = {
        p: Section(p.value, (single(f"{p.value}_need", "N", FAMILY.fields[-1].choices),))
        for p in Pillar
    }
    questions = Questions(pillar=None, version=9, title="T", sections=tuple(sections.values()))
    with pytest.raises(ValueError, match="the notes stand apart"):
        Declaration(questions, sections)


async def test_an_assessment_with_errors_is_never_stored(orm: None) -> None:
    w = await build()
    result = services.check(answers(family_need=""), now=NOW)
    assert dict(result.errors).keys() == {"family_need"}
    with pytest.raises(Invalid):
        await services.create(
            officer=w.officer,
            participant=w.participant,
            result=result,
            today=NOW.date(),
            actor=SYSTEM,
        )
    assert await NeedsAssessment.all().count() == 0


async def test_retention_keeps_no_answer_of_a_version_it_does_not_know(orm: None) -> None:
    w = await build()
    w.org.retention_days = 365
    await w.org.save()
    await Participant.filter(id=w.participant.id).update(release_date=date(2020, 1, 1))
    await NeedsAssessment.create(
        participant=w.participant,
        officer=w.officer,
        form_version=99,
        assessed_on=date(2021, 1, 1),
        answers={"education_need": "high", "education_learn": LEARN},
        risk_note=RISK,
    )
    await retention.run(today=date(2024, 6, 15), now=NOW)
    erased = await NeedsAssessment.get(participant_id=w.participant.id)
    assert (erased.answers, erased.risk_note) == ({}, "")


async def test_the_policy_gives_assessments_to_the_responsible_officer_alone(orm: None) -> None:
    w = await build()
    mine = await NeedsAssessment.create(
        participant=w.participant, officer=w.officer, form_version=1, assessed_on=NOW.date()
    )
    goal = await PlanGoal.create(participant=w.participant, pillar=Pillar.EDUCATION, text="G")
    await AcceptedGoal.create(assessment=mine, pillar=Pillar.EDUCATION, goal=goal)
    away = await world.organisation("Away NGO")
    stranger = await world.user(away, Role.OFFICER, name="Away Officer")
    assert [a.id for a in await policy.assessments_for(w.officer)] == [mine.id]
    assert [a.pillar for a in await policy.accepted_goals_for(w.officer)] == [Pillar.EDUCATION]
    for user in (w.peer, w.worker, w.family, w.admin, stranger):
        assert await policy.assessments_for(user).count() == 0, user.name
        assert await policy.accepted_goals_for(user).count() == 0, user.name
    found = await policy.assessment_for(w.officer, str(mine.id), SYSTEM)
    assert found.id == mine.id and found.participant.id == w.participant.id
    with pytest.raises(NotFound):
        await policy.assessment_for(stranger, str(mine.id), SYSTEM)
    # The refusal is written to the trail of the organisation holding it too.
    (event,) = await AuditEvent.filter(action="access.denied")
    assert (event.object_type, event.object_id) == ("needs_assessment", str(mine.id))
    assert event.object_organisation_id == w.org.id
