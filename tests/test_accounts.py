from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from server.accounts.models import Invitation, LoginSession, Passkey, User
from server.audit.models import AuditEvent
from server.enums import Role
from tests.support import world
from tests.support.authenticator import SoftAuthenticator
from tests.support.web import ORIGIN, csrf_token, enrol, post_form, post_json, signin


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


async def enrolled(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator, role: Role = Role.WORKER
) -> User:
    org = await world.organisation()
    token = await world.invitation_token(org, role, name="Brenda Achieng")
    response = await enrol(client, authenticator, token, language="fr")
    assert response.status_code == 200, response.text
    return await User.get(name="Brenda Achieng")


async def actions() -> list[str]:
    return [e.action for e in await AuditEvent.all().order_by("id")]


async def test_enrolment_creates_the_account_and_signs_in(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    user = await enrolled(client, authenticator)
    assert user.role is Role.WORKER and user.language == "fr"
    assert await Passkey.filter(user=user).count() == 1
    invitation = await Invitation.get(name="Brenda Achieng")
    assert invitation.used_at is not None
    assert len(invitation.token_hash) == 64  # only a hash is stored
    home = await client.get("/")
    assert "Brenda Achieng" in home.text and '<html lang="fr"' in home.text
    assert "account.enrolled" in await actions()


async def test_invitation_is_single_use(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER)
    assert (await enrol(client, authenticator, token)).status_code == 200
    second = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with second:
        page = await second.get(f"/enrol/{token}")
        assert page.status_code == 410
        options = await post_json(second, f"/api/auth/enrol/{token}/options")
        assert options.status_code == 410
    assert await User.filter(name="New Person").count() == 1


async def test_expired_invitation_is_refused(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator, app: Starlette
) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER, hours=1)
    app.state.clock = lambda: datetime.now(UTC) + timedelta(hours=2)
    page = await client.get(f"/enrol/{token}", headers={"accept-language": "ru"})
    assert page.status_code == 410
    assert "истёк" in page.text or "использована" in page.text


async def test_signin_updates_count_and_last_use(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    user = await enrolled(client, authenticator)
    await post_form(client, "/signout", {})
    response = await signin(client, authenticator)
    assert response.status_code == 200, response.text
    passkey = await Passkey.get(user=user)
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    assert "signin" in await actions()


async def test_session_token_is_new_at_every_signin(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    await enrolled(client, authenticator)
    first = client.cookies.get("homeward_session")
    assert (await signin(client, authenticator)).status_code == 200
    second = client.cookies.get("homeward_session")
    assert first and second and first != second
    assert await LoginSession.all().count() == 1  # the old session is gone
    client.cookies.set("homeward_session", first)
    assert "Brenda Achieng" not in (await client.get("/")).text


async def test_session_cookie_flags(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    org = await world.organisation()
    token = await world.invitation_token(org, Role.WORKER)
    options = await post_json(client, f"/api/auth/enrol/{token}/options")
    credential = authenticator.create(options.json())
    response = await post_json(
        client, f"/api/auth/enrol/{token}/verify", {"credential": credential, "language": "en"}
    )
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("homeward_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert len(cookie.split(";")[0].split("=", 1)[1]) >= 22  # >= 128 bits, base64


async def test_idle_and_absolute_expiry(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator, app: Starlette
) -> None:
    await enrolled(client, authenticator)
    start = datetime.now(UTC)
    app.state.clock = lambda: start + timedelta(minutes=29)
    assert "Brenda Achieng" in (await client.get("/")).text
    app.state.clock = lambda: start + timedelta(minutes=29 + 31)
    assert "Brenda Achieng" not in (await client.get("/")).text
    assert await LoginSession.all().count() == 0
    # Absolute: active every 20 minutes, still ended after 12 hours.
    app.state.clock = lambda: start
    assert (await signin(client, authenticator)).status_code == 200
    for step in range(1, 38):  # 12 h 20 min in all
        moment = start + timedelta(minutes=20 * step)
        app.state.clock = lambda moment=moment: moment
        page = await client.get("/")
    assert "Brenda Achieng" not in page.text


async def test_signout_destroys_the_session(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    await enrolled(client, authenticator)
    token = client.cookies.get("homeward_session")
    response = await post_form(client, "/signout", {})
    assert response.status_code == 303
    assert await LoginSession.all().count() == 0
    client.cookies.set("homeward_session", token or "")
    assert (await client.get("/account")).status_code == 303  # back to sign-in


@pytest.mark.parametrize(
    "knobs",
    [
        {"origin": "http://evil.localhost:8000"},
        {"verified": False},
        {"sign_count": 0},
    ],
    ids=["wrong-origin", "no-user-verification", "sign-count-regression"],
)
async def test_bad_assertions_are_rejected_and_audited(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator, knobs: dict[str, object]
) -> None:
    await enrolled(client, authenticator)
    await post_form(client, "/signout", {})
    assert (await signin(client, authenticator)).status_code == 200  # count is now 1
    await post_form(client, "/signout", {})
    before = await LoginSession.all().count()
    response = await signin(client, authenticator, **knobs)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "passkey_failed"
    assert await LoginSession.all().count() == before
    assert (await actions())[-1] == "signin.failed"


async def test_replayed_assertion_is_rejected(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    await enrolled(client, authenticator)
    await post_form(client, "/signout", {})
    options = await post_json(client, "/api/auth/signin/options")
    assertion = authenticator.get(options.json())
    ok = await post_json(client, "/api/auth/signin/verify", {"credential": assertion})
    assert ok.status_code == 200
    await post_form(client, "/signout", {})
    # Same ceremony cookie value and same assertion, sent again.
    client.cookies.set("homeward_ceremony", options.cookies["homeward_ceremony"])
    again = await post_json(client, "/api/auth/signin/verify", {"credential": assertion})
    assert again.status_code == 400
    event = await AuditEvent.filter(action="signin.failed").order_by("-id").first()
    assert event is not None and event.detail["reason"] == "unknown_challenge"


async def test_expired_challenge_is_rejected(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator, app: Starlette
) -> None:
    await enrolled(client, authenticator)
    await post_form(client, "/signout", {})
    options = await post_json(client, "/api/auth/signin/options")
    app.state.clock = lambda: datetime.now(UTC) + timedelta(minutes=6)
    assertion = authenticator.get(options.json())
    response = await post_json(client, "/api/auth/signin/verify", {"credential": assertion})
    assert response.status_code == 400
    event = await AuditEvent.filter(action="signin.failed").order_by("-id").first()
    assert event is not None and event.detail["reason"] == "expired_challenge"


async def test_challenge_from_another_ceremony_is_rejected(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    await enrolled(client, authenticator)
    # Options of the "add a passkey" ceremony, answered as a sign-in.
    options = await post_json(client, "/api/account/passkeys/options")
    assertion = authenticator.get({"challenge": options.json()["challenge"]})
    response = await post_json(client, "/api/auth/signin/verify", {"credential": assertion})
    assert response.status_code == 400
    event = await AuditEvent.filter(action="signin.failed").order_by("-id").first()
    assert event is not None and event.detail["reason"] == "wrong_ceremony"


async def test_credential_of_another_user_is_rejected(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    await enrolled(client, authenticator)
    await post_form(client, "/signout", {})
    org = await world.organisation("Other")
    other = await world.user(org, Role.WORKER)
    response = await signin(client, authenticator, user_handle=bytes(other.webauthn_handle))
    assert response.status_code == 400
    event = await AuditEvent.filter(action="signin.failed").order_by("-id").first()
    assert event is not None and event.detail["reason"] == "credential_of_another_user"


async def test_disabled_user_cannot_sign_in_and_loses_sessions(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator, app: Starlette
) -> None:
    worker = await enrolled(client, authenticator)
    admin_client = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    admin_key = SoftAuthenticator(origin=ORIGIN)
    org = await worker.organisation
    async with admin_client:
        token = await world.invitation_token(org, Role.ADMIN, name="Grace Namuli")
        assert (await enrol(admin_client, admin_key, token)).status_code == 200
        response = await post_form(admin_client, f"/admin/users/{worker.id}/disable", {})
        assert response.status_code == 303
    assert (await client.get("/account")).status_code == 303  # session ended at once
    response = await signin(client, authenticator)
    assert response.status_code == 400
    # In French, the language this phone last used (enrolled in French).
    assert "désactivé" in response.json()["error"]["message"]
    assert "user.disabled" in await actions()


async def test_admin_revoking_a_passkey_ends_sessions(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    worker = await enrolled(client, authenticator)
    passkey = await Passkey.get(user=worker)
    org = await worker.organisation
    admin_client = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with admin_client:
        token = await world.invitation_token(org, Role.ADMIN, name="Grace Namuli")
        assert (
            await enrol(admin_client, SoftAuthenticator(origin=ORIGIN), token)
        ).status_code == 200
        response = await post_form(admin_client, f"/admin/passkeys/{passkey.id}/revoke", {})
        assert response.status_code == 303
    assert (await client.get("/account")).status_code == 303
    assert (await signin(client, authenticator)).status_code == 400


async def test_admin_of_another_organisation_gets_404(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    worker = await enrolled(client, authenticator)
    other_org = await world.organisation("Elsewhere")
    admin_client = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with admin_client:
        token = await world.invitation_token(other_org, Role.ADMIN)
        assert (
            await enrol(admin_client, SoftAuthenticator(origin=ORIGIN), token)
        ).status_code == 200
        response = await post_form(admin_client, f"/admin/users/{worker.id}/disable", {})
        assert response.status_code == 404
    assert (await User.get(id=worker.id)).is_active
    assert "access.denied" in await actions()


async def test_add_rename_and_remove_a_passkey(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    user = await enrolled(client, authenticator)
    options = await post_json(client, "/api/account/passkeys/options")
    assert options.status_code == 200
    credential = authenticator.create(options.json())
    added = await post_json(
        client, "/api/account/passkeys/verify", {"credential": credential, "name": "second phone"}
    )
    assert added.status_code == 200, added.text
    keys = await Passkey.filter(user=user, revoked_at=None).order_by("id")
    assert [k.name for k in keys] == ["test phone", "second phone"]
    await post_form(client, f"/account/passkeys/{keys[1].id}/rename", {"name": "tablet"})
    assert (await Passkey.get(id=keys[1].id)).name == "tablet"
    assert (
        await post_form(client, f"/account/passkeys/{keys[1].id}/remove", {})
    ).status_code == 303
    # The last passkey cannot be removed: the account would be locked out.
    last = await post_form(client, f"/account/passkeys/{keys[0].id}/remove", {})
    assert last.status_code == 422
    assert await Passkey.filter(user=user, revoked_at=None).count() == 1


async def test_recovery_link_gives_the_same_account_a_new_passkey(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    worker = await enrolled(client, authenticator)
    org = await worker.organisation
    token = await world.invitation_token(org, Role.WORKER, name=worker.name, existing=worker)
    phone = SoftAuthenticator(origin=ORIGIN)
    fresh = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with fresh:
        assert (await enrol(fresh, phone, token)).status_code == 200
    assert await User.filter(name=worker.name).count() == 1
    assert await Passkey.filter(user=worker).count() == 2
    assert {"invitation.recovery", "account.recovered"} <= set(await actions())


async def test_signin_is_rate_limited(client: httpx.AsyncClient) -> None:
    statuses = []
    for _ in range(31):
        response = await post_json(client, "/api/auth/signin/options")
        statuses.append(response.status_code)
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    assert int(response.headers["retry-after"]) >= 1


async def test_csrf_token_and_origin_are_required(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    user = await enrolled(client, authenticator)
    missing = await client.post(
        "/account/language", data={"language": "ar"}, headers={"origin": ORIGIN}
    )
    assert missing.status_code == 403
    token = await csrf_token(client)
    foreign = await client.post(
        "/account/language",
        data={"language": "ar", "csrf_token": token},
        headers={"origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    no_origin = await client.post("/account/language", data={"language": "ar", "csrf_token": token})
    assert no_origin.status_code == 403
    assert (await User.get(id=user.id)).language == "fr"
    good = await post_form(client, "/account/language", {"language": "ar"})
    assert good.status_code == 303
    assert (await User.get(id=user.id)).language == "ar"


async def test_personal_pages_are_not_stored(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator
) -> None:
    await enrolled(client, authenticator)
    for path in ("/", "/account", "/no-such-page"):
        response = await client.get(path)
        assert response.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
