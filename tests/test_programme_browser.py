"""The programme page in Chromium: fits a small phone in all five languages
(nothing wider than the screen, table headers shown, 44 px tap targets, axe
finds nothing), with "< 5" cells and a chart, the same checks as every main
screen (tests/test_layout_browser.py)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser
from starlette.applications import Starlette

from server.enums import Country, Gender
from tests.conftest import BACKEND
from tests.support import outbox as ob
from tests.support import programme as pw
from tests.support.live import LiveServer
from tests.test_layout_browser import _screens

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(BACKEND != "sqlite", reason="layout does not depend on the database"),
]
KAMPALA = "Africa/Kampala"


async def test_the_programme_page_fits_a_small_phone_in_every_language(
    browser: Browser, live_server: LiveServer, app: Starlette
) -> None:
    office = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    org = await pw.organisation("Kampala Reintegration Partners Network", Country.UGANDA, KAMPALA)
    worker = await pw.staff(org)
    for gender in [Gender.FEMALE] * 7 + [Gender.MALE] * 2:
        # 2025-Q3: ended whatever day the test runs on.
        await pw.log(await pw.person(org, gender=gender), worker, pw.local(KAMPALA, 2025, 8, 4, 9))
    user = await pw.coordinator(office, [Country.UGANDA])
    context = await browser.new_context(base_url=live_server.url)
    try:
        await ob.sign_in(context, live_server.url, user)
        found = await _screens(context, user, ["/programme?quarter=2025-Q3"], [])
        page = await context.new_page()
        await page.goto("/programme?quarter=2025-Q3")
        assert await page.locator("svg[data-chart]").count() == 2
        assert await page.locator("td[data-suppressed]").count() > 0
    finally:
        await context.close()
    assert not found, "\n".join(found)
