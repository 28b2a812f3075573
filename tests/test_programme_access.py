"""Who becomes a coordinator, and how: the programme's admin or the command line."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from server.accounts.models import Invitation, User
from server.accounts.tokens import token_hash
from server.audit.services import SYSTEM
from server.enums import Country, Role
from server.errors import Invalid
from server.orgs.models import Organisation
from server.programme import coordinators
from server.programme.models import CoordinatorCountry
from tests.support import programme as pw
from tests.support.authenticator import SoftAuthenticator
from tests.support.web import ORIGIN, enrol, post_form, signed_in
from tests.test_orgs import cli

KAMPALA = "Africa/Kampala"


async def test_the_command_line_starts_a_programme_and_its_coordinator(
    app: Starlette, client: httpx.AsyncClient, settings: object
) -> None:
    made = cli(
        settings,  # type: ignore[arg-type]
        "org", "create", "--name", "Homeward programme", "--country", "UG",
        "--language", "en", "--time-zone", KAMPALA, "--programme",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    office = await Organisation.get(name="Homeward programme")
    assert office.is_programme and office.suppression_threshold == 5
    made = cli(
        settings,  # type: ignore[arg-type]
        "coordinator", "create", "--organisation", str(office.id),
        "--name", "Sarah Coordinator", "--countries", "kz,UG,XX", "--language", "ru",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().rsplit("/", 1)[1]
    invitation = await Invitation.get(token_hash=token_hash(token))
    assert (invitation.role, invitation.countries) == (Role.COORDINATOR, "KZ,UG")
    enrolled = await enrol(client, SoftAuthenticator(origin=ORIGIN), token, language="ru")
    assert enrolled.status_code == 200, enrolled.text
    user = await User.get(name="Sarah Coordinator")
    assert user.role is Role.COORDINATOR and user.organisation_id == office.id
    countries = await CoordinatorCountry.filter(user=user).values_list("country", flat=True)
    assert sorted(str(c) for c in countries) == ["KZ", "UG"]
    # An ordinary organisation cannot have coordinators, nor can none be given.
    ngo = await pw.organisation("Plain NGO", Country.UGANDA, KAMPALA)
    refused = cli(
        settings,  # type: ignore[arg-type]
        "coordinator", "create", "--organisation", str(ngo.id),
        "--name", "Not Allowed", "--countries", "UG",
    )  # fmt: skip
    assert refused.returncode == 2
    assert "programme" in refused.stderr
    nothing = cli(
        settings,  # type: ignore[arg-type]
        "coordinator", "create", "--organisation", str(office.id),
        "--name", "No Country", "--countries", "XX",
    )  # fmt: skip
    assert nothing.returncode == 2
    missing = cli(
        settings,  # type: ignore[arg-type]
        "coordinator", "create", "--organisation", "99999", "--name", "X", "--countries", "UG",
    )  # fmt: skip
    assert missing.returncode != 0
    assert await Invitation.filter(role=Role.COORDINATOR).count() == 1


async def test_only_the_programmes_admin_invites_a_coordinator(app: Starlette) -> None:
    office = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    ngo = await pw.organisation("Plain NGO", Country.UGANDA, KAMPALA)
    form = {"role": "coordinator", "name": "Ana Coordinator", "language": "fr"}
    # An ordinary organisation's admin is not offered the role, and is refused it.
    async with await signed_in(app, await pw.staff(ngo, Role.ADMIN)) as client:
        page = await client.get("/invitations/new")
        assert 'value="coordinator"' not in page.text
        refused = await post_form(client, "/invitations", {**form, "countries": "UG"})
    assert refused.status_code == 422
    # Nor is an officer of the programme's office.
    async with await signed_in(app, await pw.staff(office, Role.OFFICER)) as client:
        refused = await post_form(client, "/invitations", {**form, "countries": "UG"})
    assert refused.status_code == 422
    async with await signed_in(app, await pw.staff(office, Role.ADMIN)) as client:
        page = await client.get("/invitations/new")
        assert 'value="coordinator"' in page.text and 'value="KZ"' in page.text
        no_country = await post_form(client, "/invitations", form)
        assert no_country.status_code == 422
        done = await client.post(
            "/invitations",
            data={**form, "countries": ["TN", "KZ"], "csrf_token": _token(page.text)},
            headers={"origin": ORIGIN},
        )
    assert done.status_code == 200, done.text
    invitation = await Invitation.get(role=Role.COORDINATOR)
    assert (invitation.countries, invitation.organisation_id) == ("KZ,TN", office.id)


def _token(page: str) -> str:
    return page.split('name="csrf-token" content="')[1].split('"')[0]


async def test_an_ordinary_organisation_gets_no_coordinator_whatever_the_path(
    orm: None,
) -> None:
    ngo = await pw.organisation("Plain NGO", Country.UGANDA, KAMPALA)
    try:
        await coordinators.invite(
            actor=SYSTEM,
            organisation=ngo,
            name="X",
            language="en",
            countries=(Country.UGANDA,),
            valid_hours=1,
        )
    except Invalid:
        pass
    else:
        raise AssertionError("an ordinary organisation invited a coordinator")
    assert coordinators.parse_countries("ug, KZ,,TN") == (
        Country.KAZAKHSTAN,
        Country.TUNISIA,
        Country.UGANDA,
    )
    assert await Invitation.all().count() == 0


async def test_nobody_else_gets_programme_figures_from_the_services(orm: None) -> None:
    from datetime import UTC, datetime

    import pytest

    from server.audit.models import AuditEvent
    from server.errors import NotFound
    from server.programme import services
    from server.programme.period import Quarter

    ngo = await pw.organisation("Plain NGO", Country.UGANDA, KAMPALA)
    admin = await pw.staff(ngo, Role.ADMIN)
    with pytest.raises(NotFound):
        await services.compute(user=admin, quarter=Quarter(2026, 3), actor=SYSTEM)
    with pytest.raises(NotFound):
        await services.figures_for(
            user=admin, quarter=Quarter(2026, 3), actor=SYSTEM, now=datetime.now(UTC)
        )
    assert await AuditEvent.filter(action="access.denied", object_type="programme").count() == 2


async def test_the_nightly_command_counts_each_set_of_countries_once(
    app: Starlette, settings: object
) -> None:
    from server.programme.models import ProgrammeSnapshot

    office = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    await pw.coordinator(office, [Country.UGANDA])
    await pw.coordinator(office, [Country.UGANDA])
    await pw.coordinator(office, [Country.TUNISIA, Country.KAZAKHSTAN])
    idle = await pw.coordinator(office, [Country.TUNISIA])
    await User.filter(id=idle.id).update(is_active=False)
    done = cli(settings, "programme", "refresh")  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr
    assert "counted for 2 set(s) of countries" in done.stdout
    kept = await ProgrammeSnapshot.all().order_by("countries")
    assert [k.countries for k in kept] == ["KZ,TN", "UG"]
    assert len({k.quarter for k in kept}) == 1
