"""Referrals through the pages (server/referrals/views.py): the officer refers,
the partner accepts or declines, the worker's phone gains and loses the
participant; values checked by hand (docs/referrals.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from server.accounts.models import User
from server.enums import Country, Gender, Role
from server.referrals.models import Referral, ReferralStatus
from tests.support import world
from tests.support.web import ORIGIN, csrf_token, signed_in

UNTIL = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()


async def post(client: httpx.AsyncClient, url: str, data: dict[str, object]) -> httpx.Response:
    token = await csrf_token(client)
    return await client.post(url, data={**data, "csrf_token": token}, headers={"origin": ORIGIN})


async def pulled_codes(client: httpx.AsyncClient) -> list[tuple[str, list[str]]]:
    body = (await client.get("/api/sync/pull?since=0")).json()
    return [(p["code"], p["pillars"]) for p in body["participants"]]


async def test_refer_accept_pull_end_through_the_pages(app: Starlette) -> None:
    home = await world.organisation("Probation Almaty", Country.KAZAKHSTAN)
    partner = await world.organisation("Umit NGO", Country.KAZAKHSTAN)
    officer = await world.user(home, Role.OFFICER, name="Aliya Nurlanova", language="kk")
    await User.filter(id=officer.id).update(language="kk")
    partner_officer = await world.user(partner, Role.OFFICER, name="Olga Petrova")
    worker = await world.user(partner, Role.WORKER, name="Marat Worker", language="ru")
    participant = await world.participant(
        home, officer, full_name="Aigerim Sadykova", gender=Gender.FEMALE
    )
    async with await signed_in(app, officer) as client:
        page = await client.get(f"/participants/{participant.id}/referrals")
        assert page.status_code == 200
        assert "Серіктес ұйымға жолдау" in page.text  # "Refer to a partner", in Kazakh
        assert "Umit NGO" in page.text
        refused = await post(
            client,
            f"/participants/{participant.id}/referrals",
            {"to_organisation": str(partner.id), "pillars": ["family"], "valid_until": UNTIL},
        )
        assert refused.status_code == 422  # consent not confirmed
        assert await Referral.all().count() == 0
        sent = await post(
            client,
            f"/participants/{participant.id}/referrals",
            {
                "to_organisation": str(partner.id),
                "kind": "referral",
                "pillars": ["family", "education"],
                "valid_until": UNTIL,
                "consent": "yes",
            },
        )
        assert sent.status_code == 303
    referral = await Referral.get(participant_id=participant.id)
    assert (referral.status, referral.pillars) == (ReferralStatus.PENDING, "education,family")

    async with await signed_in(app, partner_officer) as client:
        inbox = await client.get("/referrals")
        assert inbox.status_code == 200
        assert participant.code in inbox.text and "Probation Almaty" in inbox.text
        # The partner's inbox shows the code, never the name.
        assert "Aigerim" not in inbox.text and "Sadykova" not in inbox.text
        assert "Marat Worker" in inbox.text
        accepted = await post(
            client, f"/referrals/{referral.id}/accept", {"workers": [str(worker.id)]}
        )
        assert accepted.status_code == 303

    async with await signed_in(app, worker) as client:
        assert await pulled_codes(client) == [(participant.code, ["education", "family"])]
        assert (await client.get(f"/participants/{participant.id}")).status_code == 200

    async with await signed_in(app, officer) as client:
        ended = await post(client, f"/referrals/{referral.id}/end", {"reason": "Goals met"})
        assert ended.status_code == 303
        assert ended.headers["location"] == f"/participants/{participant.id}/referrals?saved=1"
        listed = await client.get(f"/participants/{participant.id}/referrals")
        assert "Аяқталды" in listed.text and "Goals met" in listed.text  # "Finished"

    async with await signed_in(app, worker) as client:
        assert await pulled_codes(client) == []
        assert (await client.get(f"/participants/{participant.id}")).status_code == 404


async def test_a_partner_declines_with_a_reason_and_the_officer_reads_it(app: Starlette) -> None:
    home = await world.organisation("Probation Tunis", Country.TUNISIA)
    partner = await world.organisation("Amal NGO", Country.TUNISIA)
    officer = await world.user(home, Role.OFFICER, name="Sami Officer")
    admin = await world.user(partner, Role.ADMIN, name="Amal Admin")
    participant = await world.participant(home, officer)
    async with await signed_in(app, officer) as client:
        await post(
            client,
            f"/participants/{participant.id}/referrals",
            {
                "to_organisation": str(partner.id),
                "pillars": ["vocational"],
                "valid_until": UNTIL,
                "consent": "yes",
            },
        )
    referral = await Referral.get(participant_id=participant.id)
    async with await signed_in(app, admin) as client:
        empty = await post(client, f"/referrals/{referral.id}/decline", {"reason": " "})
        assert empty.status_code == 422 and "Please give a reason." in empty.text
        done = await post(client, f"/referrals/{referral.id}/decline", {"reason": "No places"})
        assert done.status_code == 303
        # Declined: nothing left to accept or end.
        again = await post(client, f"/referrals/{referral.id}/accept", {"workers": []})
        assert again.status_code == 409
    async with await signed_in(app, officer) as client:
        listed = await client.get(f"/participants/{participant.id}/referrals")
        assert "Declined by the partner" in listed.text and "No places" in listed.text


async def test_a_bad_date_is_refused_and_the_partner_can_end_from_its_inbox(
    app: Starlette,
) -> None:
    home = await world.organisation("Probation Kampala")
    partner = await world.organisation("Tusitukirewamu NGO")
    officer = await world.user(home, Role.OFFICER, name="Joseph Okello")
    partner_officer = await world.user(partner, Role.OFFICER, name="Grace Partner")
    worker = await world.user(partner, Role.WORKER, name="Brenda Partner")
    participant = await world.participant(home, officer)
    form = {"to_organisation": str(partner.id), "pillars": ["counselling"], "consent": "yes"}
    async with await signed_in(app, officer) as client:
        bad = await post(
            client, f"/participants/{participant.id}/referrals", form | {"valid_until": "soon"}
        )
        assert bad.status_code == 422
        ok = await post(
            client, f"/participants/{participant.id}/referrals", form | {"valid_until": UNTIL}
        )
        assert ok.status_code == 303
    referral = await Referral.get(participant_id=participant.id)
    async with await signed_in(app, partner_officer) as client:
        await post(client, f"/referrals/{referral.id}/accept", {"workers": [str(worker.id)]})
        ended = await post(client, f"/referrals/{referral.id}/end", {"reason": "Moved away"})
        assert (ended.status_code, ended.headers["location"]) == (303, "/referrals?saved=1")
    stored = await Referral.get(id=referral.id)
    assert (stored.status, stored.reason, stored.ended_by_id) == (
        ReferralStatus.ENDED,
        "Moved away",
        partner_officer.id,
    )


async def test_each_admin_sees_the_partners_accesses_to_its_participants(app: Starlette) -> None:
    home = await world.organisation("Probation Gulu")
    partner = await world.organisation("Gulu Youth NGO")
    officer = await world.user(home, Role.OFFICER, name="Okot Officer")
    home_admin = await world.user(home, Role.ADMIN, name="Home Admin")
    partner_admin = await world.user(partner, Role.ADMIN, name="Partner Admin")
    worker = await world.user(partner, Role.WORKER, name="Partner Worker")
    participant = await world.participant(home, officer)
    form = {"to_organisation": str(partner.id), "pillars": ["education"], "consent": "yes"}
    async with await signed_in(app, officer) as client:
        await post(
            client, f"/participants/{participant.id}/referrals", form | {"valid_until": UNTIL}
        )
    referral = await Referral.get(participant_id=participant.id)
    async with await signed_in(app, partner_admin) as client:
        await post(client, f"/referrals/{referral.id}/accept", {"workers": [str(worker.id)]})
    async with await signed_in(app, worker) as client:
        assert (await client.get(f"/participants/{participant.id}")).status_code == 200
        await client.get("/api/sync/pull?since=0")
    async with await signed_in(app, home_admin) as client:
        page = await client.get("/admin/audit?partners=1")
        assert page.status_code == 200
        shown = set(re.findall(r'data-action="([^"]+)"', page.text))
        # The partner's acceptance, its worker's read and pull: in the home trail.
        assert shown == {"referral.accepted", "participant.read", "referral.caseload.read"}
        everything = await client.get("/admin/audit")
        assert "referral.created" in everything.text  # its own officer's, without the filter
    async with await signed_in(app, partner_admin) as client:
        page = await client.get("/admin/audit?partners=1")
        shown = set(re.findall(r'data-action="([^"]+)"', page.text))
        assert shown == {"referral.created"}  # the home officer's referral, in the partner's trail
