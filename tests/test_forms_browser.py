"""pwa/forms.js in Chromium: conditions, checks before sending, what is sent.

The page is rendered by the real templates and served through Playwright's
router, so these tests need no database and no server.
"""

import contextvars
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import pytest
from playwright.async_api import Browser, Page, Route

from server import i18n
from server.forms import form_context, latest_form
from server.settings import ROOT
from server.web.templating import templates
from tests.test_forms_cases import PARTICIPANT
from tests.test_forms_render import CASELOAD, _request, translator

pytestmark = pytest.mark.browser
ORIGIN = "http://forms.test"


def page_html(pillar: str, language: str) -> str:
    t = translator(language)

    def run() -> str:
        i18n.activate(t)
        context = form_context(
            latest_form(pillar), participants=CASELOAD, action="/save", translator=t
        )
        return templates.env.get_template("forms/session.html").render(
            request=_request(),
            t=t,
            lang=language,
            dir=t.direction,
            languages=i18n.language_names(),
            nonce="",
            user=None,
            csrf_token="csrf-123",
            **context,
        )

    return contextvars.copy_context().run(run)


@pytest.fixture
async def form_page(browser: Browser) -> AsyncIterator[tuple[Page, list[str]]]:
    context = await browser.new_context()
    page = await context.new_page()
    posted: list[str] = []

    async def serve(route: Route) -> None:
        request = route.request
        path = request.url.removeprefix(ORIGIN).split("?")[0]
        if path.startswith("/pwa/"):
            body = (ROOT / path.lstrip("/")).read_text()
            await route.fulfill(body=body, content_type="text/javascript")
        elif path.startswith("/static/"):
            # The real sheet: a `display` rule there can defeat `hidden`.
            body = (ROOT / path.lstrip("/")).read_text()
            await route.fulfill(body=body, content_type="text/css")
        elif path == "/save":
            posted.append(request.post_data or "")
            await route.fulfill(body="saved", content_type="text/plain")
        elif path.startswith("/family/"):
            await route.fulfill(
                body=page_html("family", path.split("/")[2]), content_type="text/html"
            )
        else:
            await route.fulfill(status=404, body="")

    await page.route(f"{ORIGIN}/**", serve)
    yield page, posted
    await context.close()


async def test_conditional_questions_follow_the_answers(form_page: tuple[Page, list[str]]) -> None:
    page, _ = form_page
    await page.goto(f"{ORIGIN}/family/en")
    reason = page.locator("#f-attendance_reason-field")
    engagement = page.locator("#f-engagement-field")
    await page.wait_for_function("document.querySelector('form').dataset.conditions === 'on'")
    assert await reason.is_hidden() and await engagement.is_hidden()
    assert await page.locator("[data-condition-hint]").first.is_hidden()

    await page.check("#f-attendance-missed")
    assert await reason.is_visible() and await engagement.is_hidden()
    assert await page.locator("#f-attendance_reason").evaluate("el => el.required")
    duration_mark = page.locator("#f-duration_minutes-field [data-required-mark]")
    assert await duration_mark.is_hidden()

    await page.check("#f-attendance-attended")
    assert await reason.is_hidden() and await engagement.is_visible()
    assert await page.locator("#f-attendance_reason").is_disabled()
    assert await duration_mark.is_visible()
    assert await page.locator("#f-family_present-field").is_visible()


async def test_errors_show_before_sending_and_hidden_answers_are_not_sent(
    form_page: tuple[Page, list[str]],
) -> None:
    page, posted = form_page
    await page.goto(f"{ORIGIN}/family/ar")
    assert await page.get_attribute("html", "dir") == "rtl"
    await page.wait_for_function("document.querySelector('form').dataset.conditions === 'on'")
    await page.check("#f-attendance-missed")
    await page.fill("#f-attendance_reason", "written, then the answer changed")
    await page.click("button[type=submit]")
    assert posted == []
    participant_problem = page.locator("#f-participant-error")
    assert await participant_problem.is_visible()
    assert await participant_problem.inner_text()
    assert await page.evaluate("document.activeElement.id") == "f-participant"

    await page.select_option("#f-participant", PARTICIPANT)
    await page.fill("#f-occurred_on", "2025-03-10")
    await page.fill("#f-occurred_time", "10:30")
    await page.check("#f-attendance-cancelled")
    await page.check("#f-attendance-attended")
    await page.fill("#f-duration_minutes", "45")
    await page.fill("#f-place", "Home")
    await page.check("#f-engagement-4")
    await page.check("#f-family_present-mother")
    await page.check("#f-setting-home_visit")
    await page.check("#f-family_readiness-3")
    await page.check("#f-family_concerns-none")
    await page.check("#f-follow_up-no")
    await page.click("button[type=submit]")
    await page.wait_for_function("document.body.innerText.includes('saved')")
    (body,) = posted
    sent = parse_qs(body, keep_blank_values=True)
    assert sent["participant"] == [PARTICIPANT] and sent["csrf_token"] == ["csrf-123"]
    assert "attendance_reason" not in sent  # hidden by its condition, so not sent
    assert sent["family_concerns"] == ["none"]
