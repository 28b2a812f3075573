"""Every route of the app, walked by a programme coordinator.

A coordinator reaches the programme pages and what every signed-in person
has (their account, signing out, the public pages); every other route
answers 404 as if it did not exist, and the refusal is audited. The routes
that are NOT refused are listed here by hand; any route not listed,
including one added later, must refuse a coordinator.
"""

from __future__ import annotations

from starlette.applications import Starlette

from server.accounts.models import Passkey
from server.enums import Country
from tests.support import programme as pw
from tests.support.web import signed_in
from tests.test_routes_policy import TABLE, ask, build_world, denials, passkey

# (method, request as in the table) → the coordinator's answer.
REACHED: dict[tuple[str, str], str] = {
    ("GET", "/"): "200",  # their home is the programme page
    ("GET", "/healthz"): "200",
    ("GET", "/signin"): "303",
    ("POST", "/api/auth/signin/options"): "200",
    ("POST", "/api/auth/signin/verify"): "422",
    ("GET", "/enrol/not-a-real-token"): "410",
    ("POST", "/api/auth/enrol/not-a-real-token/options"): "410",
    ("POST", "/api/auth/enrol/not-a-real-token/verify"): "422",
    ("GET", "/api/openapi.json"): "200",
    ("GET", "/calendar/not-a-real-token.ics"): "404",  # nobody's: not a refusal
    ("GET", "/metrics"): "404",
    ("GET", "/sw.js"): "200",
    ("GET", "/manifest.webmanifest"): "200",
    ("GET", "/app/shell"): "200",
    ("GET", "/i18n/kk.json"): "200",
    ("GET", "/i18n/kk/calendar.json"): "200",
    ("GET", "/account"): "200",
    ("GET", "/api/me"): "200",
    ("POST", "/account/language"): "303",
    ("POST", "/api/account/passkeys/options"): "200",
    ("POST", "/api/account/passkeys/verify"): "422",
    ("POST", "/account/passkeys/{K}/rename"): "303",
    ("POST", "/account/passkeys/{UK}/rename"): "404",  # someone else's passkey
    ("GET", "/programme"): "200",
    ("GET", "/programme/export.csv"): "200",
    ("POST", "/language"): "303",
    ("POST", "/account/passkeys/{K}/remove"): "303",
    ("POST", "/signout"): "303",
}


def test_every_reached_route_is_in_the_table() -> None:
    tabled = {(row.method, row.url) for row in TABLE}
    assert set(REACHED) - tabled == set()


async def test_a_coordinator_meets_every_route_as_listed(app: Starlette) -> None:
    app.state.clock = lambda: pw.NOW
    built = await build_world()
    programme = await pw.organisation(
        "Programme office", Country.UGANDA, "Africa/Kampala", programme=True
    )
    user = await pw.coordinator(programme, [Country.UGANDA])
    await passkey(user)
    await passkey(user)
    values = dict(built.ids)
    own_key = await Passkey.filter(user=user).first()
    assert own_key is not None
    values["K"] = str(own_key.id)
    wrong: list[str] = []
    client = await signed_in(app, user)
    async with client:
        page = await client.get("/")
        token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
        for row in TABLE:
            if row.route == "/signout":
                page = await client.get("/")
                token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
            want = REACHED.get((row.method, row.url), "x")
            before = await denials()
            response = await ask(client, row, values, token)
            got = str(response.status_code)
            audited = await denials() - before
            if want == "x":
                if got != "404" or audited < 1:
                    wrong.append(f"{row.method} {row.url}: {got} (audited {audited}), want x")
            elif got != want:
                wrong.append(f"{row.method} {row.url}: {got}, want {want}")
    assert wrong == [], "\n".join(wrong)
