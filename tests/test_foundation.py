import re

import httpx
import pytest

from server import demo
from server.accounts.models import User
from server.appointments.models import Appointment
from server.enums import Gender, Pillar, Role
from server.orgs.models import Organisation
from server.participants.models import Participant
from server.sessions.models import SessionLog
from tests.support.web import post_form


async def test_healthz_answers_ok_with_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_healthz_answers_503_without_the_database(client: httpx.AsyncClient) -> None:
    from tortoise import connections

    conn = connections.get("default")
    await conn.close()
    original = conn.execute_query

    async def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("database went away")

    conn.execute_query = broken  # type: ignore[method-assign]
    try:
        response = await client.get("/healthz")
    finally:
        conn.execute_query = original  # type: ignore[method-assign]
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


@pytest.mark.parametrize(
    ("accept", "lang", "direction", "title"),
    [
        ("ar", "ar", "rtl", "مرحبًا بكم في"),
        ("kk-KZ,kk;q=0.9", "kk", "ltr", "Homeward-қа қош келдіңіз"),
        ("ru", "ru", "ltr", "Добро пожаловать"),
        ("fr-FR", "fr", "ltr", "Bienvenue"),
        ("de, en;q=0.5", "en", "ltr", "Welcome to Homeward"),
    ],
)
async def test_language_follows_the_browser(
    client: httpx.AsyncClient, accept: str, lang: str, direction: str, title: str
) -> None:
    response = await client.get("/", headers={"accept-language": accept})
    assert response.status_code == 200
    assert f'<html lang="{lang}" dir="{direction}">' in response.text
    assert title in response.text
    assert response.headers["content-language"] == lang
    assert "Accept-Language" in response.headers["vary"]


async def test_language_switcher_cookie_beats_the_browser(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/language", {"language": "kk", "next": "//evil.example/"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    page = await client.get("/", headers={"accept-language": "fr"})
    assert '<html lang="kk" dir="ltr">' in page.text


async def test_unknown_language_is_refused_in_the_users_language(
    client: httpx.AsyncClient,
) -> None:
    client.headers["accept-language"] = "ru"
    response = await post_form(client, "/language", {"language": "xx"})
    assert response.status_code == 422
    assert "Пожалуйста, выберите один из предложенных языков" in response.text
    assert "homeward_lang" not in response.headers.get("set-cookie", "")


async def test_error_pages_are_translated_html_or_json(client: httpx.AsyncClient) -> None:
    page = await client.get("/no-such-page", headers={"accept-language": "fr"})
    assert page.status_code == 404
    assert "Page introuvable" in page.text or "Introuvable" in page.text
    assert "Traceback" not in page.text
    data = await client.get("/no-such-page", headers={"accept": "application/json"})
    assert data.status_code == 404
    assert data.json()["error"]["code"] == "not_found"


async def test_security_headers_on_pages_and_errors(client: httpx.AsyncClient) -> None:
    # Data (/healthz's JSON) gets a shorter, stricter policy: tests/test_asset_headers.py.
    for path in ("/", "/no-such-page"):
        response = await client.get(path)
        csp = response.headers["content-security-policy"]
        assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert re.search(r"'nonce-[A-Za-z0-9_-]{16,}'", csp)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


async def test_parts_of_pages_carry_only_the_headers_that_act_on_them(
    client: httpx.AsyncClient,
) -> None:
    from server.web.templating import static_url

    for path in (static_url("app.css"), "/pwa/app.js", "/static/icons/icon-192.png"):
        part = await client.get(path, headers={"accept-language": "ru"})
        assert part.status_code == 200
        assert part.headers["x-content-type-options"] == "nosniff"
        assert part.headers["cross-origin-resource-policy"] == "same-origin"
        assert "content-security-policy" not in part.headers
        # Not "Cookie": the browser's cache keeps them across a sign-in.
        assert "cookie" not in part.headers["vary"].lower()
    # What can be a document, or governs a worker, keeps the whole policy.
    for path in ("/static/icons/icon.svg", "/sw.js", "/healthz"):
        whole = await client.get(path)
        assert "frame-ancestors 'none'" in whole.headers["content-security-policy"], path
        assert whole.headers["x-frame-options"] == "DENY"


async def test_each_response_gets_its_own_nonce(client: httpx.AsyncClient) -> None:
    first = (await client.get("/")).headers["content-security-policy"]
    second = (await client.get("/")).headers["content-security-policy"]
    assert first != second


async def test_oversized_body_is_refused_with_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/language",
        content=b"language=" + b"x" * 2_000_000,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "accept-language": "fr",
            "origin": "http://localhost:8000",
        },
    )
    assert response.status_code == 413
    assert "trop volumineux" in response.text


async def test_static_files_cache_only_their_current_version(client: httpx.AsyncClient) -> None:
    from server.web.templating import static_url

    current = await client.get(static_url("app.css"))
    assert current.status_code == 200
    assert "immutable" in current.headers["cache-control"]
    stale = await client.get("/static/app.css?v=000000000000")
    assert stale.headers["cache-control"] == "no-cache"
    assert current.headers.get("content-encoding") == "gzip"


async def test_demo_world_is_believable(app: object) -> None:
    assert await demo.load(participants_per_org=10, months=4)
    assert not await demo.load()  # loading twice changes nothing
    assert await Organisation.filter(is_programme=False).count() == 3
    assert {o.country.value for o in await Organisation.filter(is_programme=False)} == {
        "KZ",
        "TN",
        "UG",
    }
    # The programme's own organisation, with the coordinators of each country.
    assert [o.name for o in await Organisation.filter(is_programme=True)] == [
        "Reintegration Programme Coordination"
    ]
    assert await Participant.filter(organisation__is_programme=True).count() == 0
    assert await Participant.all().count() == 30
    genders = {p.gender for p in await Participant.all()}
    assert {Gender.FEMALE, Gender.MALE} <= genders
    for role in Role:
        assert await User.filter(role=role).count() >= 3
    pillars = {log.pillar for log in await SessionLog.all()}
    assert pillars == set(Pillar)
    assert await Appointment.all().count() == 120
    codes = [p.code for p in await Participant.all()]
    assert len(set(codes)) == len(codes)


async def test_security_headers_even_on_unexpected_errors(app, client: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    from starlette.routing import Route

    from server import access

    @access.public
    async def boom(request: object) -> None:
        raise RuntimeError("secret detail that must not reach the user")

    app.router.routes.append(Route("/__boom__", boom))
    try:
        response = await client.get("/__boom__", headers={"accept-language": "fr"})
    finally:
        app.router.routes.pop()
    assert response.status_code == 500
    assert "secret detail" not in response.text and "Traceback" not in response.text
    assert "Une erreur s’est produite" in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    refused = await client.post("/language", data={"language": "kk"})  # no CSRF token
    assert refused.status_code == 403
    assert "object-src 'none'" in refused.headers["content-security-policy"]
