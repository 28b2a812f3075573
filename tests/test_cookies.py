"""Cookies are read with Starlette's parser, as browsers send them."""

from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette

from server.accounts import sessions
from server.enums import Role
from tests.support import world
from tests.support.web import ORIGIN

# Another application on the same host may set a cookie that the old RFC 2109
# parser (http.cookies) stops at, dropping every cookie after it.
FOREIGN = 'prefs={"theme":"dark"}'


async def test_a_foreign_cookie_does_not_sign_the_user_out(app: Starlette) -> None:
    user = await world.user(await world.organisation(), Role.WORKER)
    started = await sessions.start(user=user, now=datetime.now(UTC), ip="127.0.0.1", device="t")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        header = f"{FOREIGN}; homeward_session={started.token}; homeward_lang=ar"
        me = await client.get("/api/me", headers={"cookie": header})
        assert me.status_code == 200
        assert me.json()["id"] == user.id
        page = await client.get("/signin", headers={"cookie": f"{FOREIGN}; homeward_lang=ru"})
        assert page.headers["content-language"] == "ru"
