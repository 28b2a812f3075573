"""Signed-out pages speak the language of the invitation or of this device's last user."""

import httpx

from server.enums import Role
from tests.support import world
from tests.support.authenticator import SoftAuthenticator
from tests.support.web import ORIGIN, enrol, post_form, signin


def _client(app_client: httpx.AsyncClient, language: str) -> httpx.AsyncClient:
    """A fresh phone (no cookies) whose browser asks for ``language``."""
    return httpx.AsyncClient(
        transport=app_client._transport,
        base_url=str(app_client.base_url),
        headers={"accept-language": language},
    )


async def test_enrolment_page_is_in_the_invitations_language(client: httpx.AsyncClient) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER, language="kk")
    async with _client(client, "ru-RU,ru;q=0.9") as russian_phone:
        page = await russian_phone.get(f"/enrol/{token}")
    assert page.status_code == 200
    assert '<html lang="kk"' in page.text
    assert "Кіру кілтіңізді жасаңыз" in page.text  # "Create your passkey"
    assert "Создайте ключ доступа" not in page.text


async def test_choosing_a_language_on_the_enrolment_page_is_kept(
    client: httpx.AsyncClient,
) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER, language="kk")
    async with _client(client, "kk") as phone:
        chosen = await post_form(phone, "/language", {"language": "ru", "next": f"/enrol/{token}"})
        assert chosen.status_code == 303
        page = await phone.get(chosen.headers["location"])
    assert '<html lang="ru"' in page.text and "Создайте ключ доступа" in page.text


async def test_after_enrolment_and_signout_signin_is_in_the_users_language(
    client: httpx.AsyncClient,
) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER, language="en")
    async with _client(client, "en") as phone:
        authenticator = SoftAuthenticator(origin=ORIGIN)
        assert (await enrol(phone, authenticator, token, language="ar")).status_code == 200
        assert (await post_form(phone, "/signout", {})).status_code == 303
        page = await phone.get("/signin")
    assert '<html lang="ar"' in page.text and "تسجيل الدخول" in page.text


async def test_after_signin_in_arabic_and_signout_signin_stays_arabic(
    client: httpx.AsyncClient,
) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER, language="ar")
    authenticator = SoftAuthenticator(origin=ORIGIN)
    async with _client(client, "ar") as first_phone:
        assert (await enrol(first_phone, authenticator, token, language="ar")).status_code == 200
    async with _client(client, "en-GB,en;q=0.9") as shared_phone:
        before = await shared_phone.get("/signin")
        assert '<html lang="en"' in before.text
        assert (await signin(shared_phone, authenticator)).status_code == 200
        assert (await post_form(shared_phone, "/signout", {})).status_code == 303
        page = await shared_phone.get("/signin")
        start = await shared_phone.get("/")
    assert '<html lang="ar"' in page.text and "تسجيل الدخول" in page.text
    assert '<html lang="ar"' in start.text


async def test_changing_language_on_the_account_page_is_kept_after_signout(
    client: httpx.AsyncClient,
) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER, language="en")
    async with _client(client, "en") as phone:
        authenticator = SoftAuthenticator(origin=ORIGIN)
        assert (await enrol(phone, authenticator, token, language="en")).status_code == 200
        await post_form(phone, "/account/language", {"language": "kk"})
        assert (await post_form(phone, "/signout", {})).status_code == 303
        page = await phone.get("/signin")
    assert '<html lang="kk"' in page.text and "Кіру" in page.text
