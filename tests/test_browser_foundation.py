import pytest
from playwright.async_api import Page

pytestmark = pytest.mark.browser


async def test_arabic_page_is_right_to_left(page: Page) -> None:
    await page.context.set_extra_http_headers({"Accept-Language": "ar"})
    await page.goto("/")
    html = page.locator("html")
    assert await html.get_attribute("dir") == "rtl"
    assert await html.get_attribute("lang") == "ar"
    # The layout really mirrors: the computed direction is rtl and the
    # brand link sits at the right-hand edge of the header.
    assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    box = await page.locator(".brand").bounding_box()
    width = await page.evaluate("document.documentElement.clientWidth")
    assert box is not None and box["x"] > width / 2
    assert await page.locator("h1").inner_text() == "مرحبًا بكم في Homeward"


async def test_kazakh_text_is_shown_after_switching_language(page: Page) -> None:
    await page.goto("/")
    await page.get_by_role("button", name="Қазақ тілі").click()
    await page.wait_for_url("**/")
    assert await page.locator("html").get_attribute("lang") == "kk"
    assert "Homeward-қа қош келдіңіз" in await page.locator("h1").inner_text()


async def test_page_works_at_320_pixels_without_sideways_scrolling(page: Page) -> None:
    await page.set_viewport_size({"width": 320, "height": 640})
    await page.goto("/")
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= 320
