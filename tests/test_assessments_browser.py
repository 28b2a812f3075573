"""The needs assessment in a real Chromium: an officer in Arabic (right to
left) records one by tapping the answers, takes a proposed goal with one
tap, and every screen of it fits a small phone in the five languages with
44 px targets (tests/support/layout.js) and no axe violation."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser
from starlette.applications import Starlette

from server.accounts.models import User
from server.assessments.models import NeedsAssessment
from server.enums import Country, Gender, Pillar, Role
from server.participants.models import PlanGoal
from server.settings import LANGUAGES
from tests.support import outbox as ob
from tests.support import world
from tests.support.live import LiveServer
from tests.test_layout_browser import WIDTHS, measure

pytestmark = pytest.mark.browser

RISK = "Risk-canary: الحيّ الشرقي"

# Tapped in this order: one answer per required question (label "for" ids).
TAPS = [
    "f-family_home-with_family",
    "f-family_contact-sometimes",
    "f-family_readiness-not_sure",
    "f-family_need-some",
    "f-education_schooling-primary",
    "f-education_wants-yes",
    "f-education_literacy-from_start",
    "f-education_need-high",
    "f-vocational_work-casual",
    "f-vocational_documents-identity",
    "f-vocational_need-none",
    "f-counselling_needs-stress",
    "f-counselling_wants-not_sure",
    "f-counselling_need-none",
]


async def test_an_officer_in_arabic_records_an_assessment_and_takes_a_goal(
    browser: Browser, live_server: LiveServer, app: Starlette
) -> None:
    org = await world.organisation("Réseau de réinsertion de Tunis", Country.TUNISIA)
    officer = await world.user(org, Role.OFFICER, name="Karim Trabelsi", language="ar")
    woman = await world.participant(org, officer, full_name="Mariem Ben Ali", gender=Gender.FEMALE)
    context = await browser.new_context(base_url=live_server.url)
    try:
        await ob.sign_in(context, live_server.url, officer)
        page = await context.new_page()
        await page.set_viewport_size({"width": 360, "height": 720})
        await page.goto(f"/participants/{woman.id}")
        await page.get_by_role("link", name="تقييم جديد للاحتياجات").click()
        assert await page.locator("html").get_attribute("dir") == "rtl"
        # Sent with nothing chosen: the errors come back in Arabic, nothing is stored.
        await page.get_by_role("button", name="حفظ تقييم الاحتياجات").click()
        assert await page.locator("#f-family_home-error").inner_text() == "يُرجى اختيار إجابة."
        assert await NeedsAssessment.all().count() == 0
        # The question about her is worded for a woman.
        legend = page.locator("#f-family_home-field legend")
        assert (await legend.inner_text()).startswith("أين تقيم المشاركة الآن؟")
        for target in TAPS:
            await page.locator(f"label[for='{target}']").click()
        await page.locator("#f-risk_note").fill(RISK)
        await page.get_by_role("button", name="حفظ تقييم الاحتياجات").click()
        await page.wait_for_url(f"**/participants/{woman.id}?saved=1#needs")
        needs = page.locator("#needs")
        assert "التكوين المهني" not in await needs.locator("ul").last.inner_text()
        refer = needs.locator("h3:has-text('المحاور المقترحة للإحالة إلى الشركاء') + ul li")
        assert await refer.all_inner_texts() == ["التواصل مع العائلة", "التعليم"]
        assert await PlanGoal.all().count() == 0
        await needs.get_by_role("button", name="إضافة إلى الخطة").first.click()
        await page.wait_for_url(f"**/participants/{woman.id}#needs")
        assert await page.locator("#needs").get_by_text("تمت الإضافة إلى الخطة.").count() == 1
        goals = await PlanGoal.all()
        assert [(g.pillar, g.text) for g in goals] == [
            (Pillar.FAMILY, "التحضير للعودة إلى البيت مع العائلة")
        ]
        assert RISK not in await page.locator("main").inner_text()
        await page.goto(f"/participants/{woman.id}/assessments")
        assert RISK in await page.locator("main").inner_text()
    finally:
        await context.close()


async def test_the_assessment_screens_fit_a_small_phone_in_every_language(
    browser: Browser, live_server: LiveServer, app: Starlette
) -> None:
    org = await world.organisation("Réseau de réinsertion de Tunis", Country.TUNISIA)
    officer = await world.user(org, Role.OFFICER, name="Karim Trabelsi")
    woman = await world.participant(org, officer, full_name="Mariem Ben Ali", gender=Gender.FEMALE)
    await NeedsAssessment.create(
        participant=woman,
        officer=officer,
        form_version=1,
        assessed_on=woman.created_at.date(),
        answers={
            "family_home": "with_family",
            "family_support": ["housing", "mediation"],
            "family_need": "high",
            "education_need": "some",
            "education_learn": "Lecture et écriture, puis le diplôme de fin d’études primaires",
            "vocational_need": "some",
            "vocational_documents": ["identity", "diploma", "work_record"],
            "counselling_need": "none",
        },
        risk_note="Rien à signaler.",
    )
    paths = [
        f"/participants/{woman.id}",
        f"/participants/{woman.id}/assessments",
        f"/participants/{woman.id}/assessments/new",
    ]
    context = await browser.new_context(base_url=live_server.url)
    found: list[str] = []
    try:
        await ob.sign_in(context, live_server.url, officer)
        page = await context.new_page()
        for language in LANGUAGES:
            await User.filter(id=officer.id).update(language=language)
            for path in paths:
                await page.set_viewport_size({"width": WIDTHS[0], "height": 720})
                await page.goto(path)
                assert await page.locator("html").get_attribute("lang") == language
                found += [f"[{language}] {p}" for p in await measure(page, path, [woman.code])]
    finally:
        await context.close()
    assert not found, "\n".join(found)
