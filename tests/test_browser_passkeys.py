import re

import pytest
from playwright.async_api import Page, expect

from server.accounts.models import Passkey, User
from server.enums import Role
from tests.support import world
from tests.support.passkeys import credential_count, virtual_authenticator

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ar", "rtl")])
async def test_enrol_sign_out_sign_in_add_and_remove_a_passkey(
    page: Page, language: str, direction: str
) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER, name="Moses Ssemakula")
    cdp, first_phone = await virtual_authenticator(page)

    await page.goto(f"/enrol/{token}")
    await page.select_option("#language", language)
    await page.fill("#passkey-name", "first phone")
    await page.locator("[data-passkey=enrol] button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.locator("h1")).to_contain_text("Moses Ssemakula")
    assert await page.locator("html").get_attribute("dir") == direction
    assert await page.locator("html").get_attribute("lang") == language
    assert await credential_count(cdp, first_phone) == 1

    await page.locator("form[action='/signout'] button").click()
    await expect(page.locator("a.button.primary[href='/signin']")).to_be_visible()
    assert await page.context.cookies() and not any(
        c["name"] == "homeward_session" for c in await page.context.cookies()
    )

    await page.goto("/signin")
    await page.locator("button[data-passkey=signin]").click()
    await expect(page.locator("h1")).to_contain_text("Moses Ssemakula")

    # A second phone: a second authenticator holding a second passkey.
    await cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first_phone})
    await virtual_authenticator(page)
    await page.goto("/account")
    await page.fill("#new-passkey-name", "second phone")
    await page.locator("[data-passkey=add] button[type=submit]").click()
    await expect(page.locator("[data-passkey-id]")).to_have_count(2)
    user = await User.get(name="Moses Ssemakula")
    assert sorted(p.name for p in await Passkey.filter(user=user, revoked_at=None)) == [
        "first phone",
        "second phone",
    ]

    second = page.locator("[data-passkey-id]").filter(has_text="second phone")
    await second.locator("form[action$='/remove'] button").click()
    await expect(page.locator("[data-passkey-id]")).to_have_count(1)
    assert await Passkey.filter(user=user, revoked_at=None).count() == 1


async def test_stored_script_in_a_name_is_inert(page: Page) -> None:
    hostile = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER, name=hostile)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await virtual_authenticator(page)
    await page.goto(f"/enrol/{token}")
    await page.locator("[data-passkey=enrol] button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.locator("h1")).to_contain_text("<script>")
    assert await page.evaluate("window.pwned === undefined")
    assert await page.locator("main img").count() == 0
    assert dialogs == []
