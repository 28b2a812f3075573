"""Every route of the app by the people a referral concerns (docs/referrals.md).

The world of tests/test_routes_policy.py (its participant P, officer O,
worker W…) is referred by the home organisation to a partner. Who asks:

  Ra  partner worker assigned to an active referral of P (family pillar)
  Re  partner worker whose referral of P has ended
  Rd  partner worker of a partner that declined the referral of P
  Ro  officer of the partner (who accepted the active referral)
  Ru  worker of an organisation no referral concerns

Expected answers, by hand: a partner or unrelated worker meets every route
as a worker of another organisation does (the ``Wa`` column of the big
table, itself written by hand), and a partner officer as an officer of
another organisation (``Oa``), except for the cells listed in ``DIFFERENT``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette

from server.accounts.models import Passkey, User
from server.audit.services import Actor
from server.enums import Country, Pillar, Role
from server.participants.models import Participant
from server.referrals import services as referrals
from server.referrals.models import ReferralKind
from tests.support import world
from tests.support.web import signed_in
from tests.test_routes_policy import TABLE, ask, build_world, denials, expected, passkey

COLUMNS = ("Ra", "Re", "Rd", "Ro", "Ru")
LIKE = {"Ra": "Wa", "Re": "Wa", "Rd": "Wa", "Ro": "Oa", "Ru": "Wa"}

# (method, url template) → answer, where a column differs from its model.
DIFFERENT: dict[str, dict[tuple[str, str], str]] = {
    "Ra": {
        # The participant's page as a worker sees it, and logging for them.
        ("GET", "/participants/{P}"): "200",
        ("GET", "/log/{P}"): "200",
        # Appointment A is with the home worker W: not the partner's, so
        # a log that names it is refused as if it did not exist.
        ("GET", "/log/{P}/family?appointment={A}"): "x",
        ("POST", "/log/{P}/family?log={NEW}&appointment={A}"): "x",
    },
}

NOW = datetime.now(UTC)


async def refer_all(built: object, users: dict[str, User]) -> dict[str, User]:
    """Three partners of the home organisation, each with a referral of P in
    one state, and one organisation that has none."""
    officer = built.users["O"]  # type: ignore[attr-defined]
    participant = await Participant.get(id=built.ids["P"])  # type: ignore[attr-defined]
    people: dict[str, User] = {}
    for column, state in (("Ra", "active"), ("Re", "ended"), ("Rd", "declined")):
        partner = await world.organisation(f"Partner {state}", Country.UGANDA)
        worker = await world.user(partner, Role.WORKER, name=f"Partner Worker {state}")
        partner_officer = await world.user(partner, Role.OFFICER, name=f"Partner Officer {state}")
        by = Actor(officer.id, officer.organisation_id)
        made = await referrals.refer(
            officer=officer,
            participant=participant,
            to_organisation_id=partner.id,
            kind=ReferralKind.REFERRAL,
            pillars=[Pillar.FAMILY],
            share_goals=False,
            valid_until=NOW.date() + timedelta(days=30),
            consent_confirmed=True,
            today=NOW.date(),
            now=NOW,
            actor=by,
        )
        them = Actor(partner_officer.id, partner.id)
        if state == "declined":
            await referrals.decline(
                user=partner_officer, referral=made, reason="Full", now=NOW, actor=them
            )
        else:
            made = await referrals.accept(
                user=partner_officer, referral=made, worker_ids=[worker.id], now=NOW, actor=them
            )
        if state == "ended":
            await referrals.end(user=officer, referral=made, reason="Done", now=NOW, actor=by)
        people[column] = worker
        if state == "active":
            people["Ro"] = partner_officer
    elsewhere = await world.organisation("Unrelated NGO", Country.KAZAKHSTAN)
    people["Ru"] = await world.user(elsewhere, Role.WORKER, name="Unrelated Worker")
    for user in people.values():
        await passkey(user)
        await passkey(user)
    return people


def want(row_method: str, row_url: str, cells_of_model: str, column: str) -> str:
    return DIFFERENT.get(column, {}).get((row_method, row_url), cells_of_model)


@pytest.mark.parametrize("column", COLUMNS)
async def test_each_relationship_meets_each_route_as_written(app: Starlette, column: str) -> None:
    built = await build_world()
    people = await refer_all(built, built.users)
    user = people[column]
    values = dict(built.ids)
    own_key = await Passkey.filter(user=user).first()
    assert own_key is not None
    values["K"] = str(own_key.id)
    client = await signed_in(app, user)
    wrong: list[str] = []
    async with client:
        page = await client.get("/")
        token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
        for row in TABLE:
            if row.route == "/signout":
                page = await client.get("/")
                token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
            answer = want(row.method, row.url, expected(row, LIKE[column]), column)
            before = await denials()
            response = await ask(client, row, values, token)
            got = str(response.status_code)
            audited = await denials() - before
            if answer == "x":
                if got != "404" or audited < 1:
                    wrong.append(f"{row.method} {row.url}: {got} (audited {audited}), want x")
            elif got != answer:
                wrong.append(f"{row.method} {row.url}: {got}, want {answer}")
    assert wrong == [], f"{column}:\n" + "\n".join(wrong)


async def test_the_partner_page_shows_the_code_and_nothing_of_other_pillars(app: Starlette) -> None:
    built = await build_world()
    people = await refer_all(built, built.users)
    async with await signed_in(app, people["Ra"]) as client:
        page = await client.get(f"/participants/{built.ids['P']}")
        assert page.status_code == 200
        # The goal (education), the home worker's appointment place, the
        # home worker's name: none of them reach the partner.
        for secret in ("Literacy", "Community centre", "Brenda Achieng", "Aisha Relative"):
            assert secret not in page.text, secret
        # What a worker of P's own organisation sees: the code and the given name only.
        assert "Dana" in page.text and "Serikova" not in page.text
        # The pillar picker offers the referred pillar only.
        picker = await client.get(f"/log/{built.ids['P']}")
        assert picker.status_code == 200
        assert f"/log/{built.ids['P']}/family" in picker.text
        for other in ("education", "vocational", "counselling"):
            assert f"/log/{built.ids['P']}/{other}" not in picker.text
        refused = await client.get(f"/log/{built.ids['P']}/education")
        assert refused.status_code == 422
        assert "referred to you for other pillars" in refused.text


def test_every_column_has_a_model() -> None:
    assert set(LIKE) == set(COLUMNS) and set(DIFFERENT) <= set(COLUMNS)
    urls = {(row.method, row.url) for row in TABLE}
    assert set(DIFFERENT["Ra"]) <= urls  # each difference names a real row
