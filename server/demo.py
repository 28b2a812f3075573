"""A believable, deterministic demo world (``homeward demo``).

Three organisations, one per programme country, each with an admin, an
officer, two workers, ten participants with family members, a few months of
session logs under every pillar and the coming weeks' appointments. Names
are invented.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server import demo_answers
from server.accounts.models import User
from server.appointments.models import Appointment
from server.audit.services import SYSTEM, record
from server.enums import (
    AppointmentStatus,
    Attendance,
    Country,
    Gender,
    GoalStatus,
    Pillar,
    Role,
)
from server.orgs.models import Organisation
from server.participants.codes import new_code
from server.participants.models import ConsentRecord, Participant, PlanGoal
from server.programme.models import CoordinatorCountry
from server.sessions.models import SessionLog
from server.sessions.services import columns, content_hash
from server.sync.models import ChangeCounter

SEED = 2026


@dataclass(frozen=True)
class CountryWorld:
    country: Country
    org_name: str
    language: str
    time_zone: str
    staff: dict[Role, list[str]]
    women: list[str]
    men: list[str]
    surnames: list[str]
    places: list[str]


WORLDS = [
    CountryWorld(
        Country.KAZAKHSTAN,
        "Jol Reintegration Centre, Almaty",
        "kk",
        "Asia/Almaty",
        {
            Role.ADMIN: ["Aigerim Sarsenova"],
            Role.OFFICER: ["Nurlan Bekov"],
            Role.WORKER: ["Dana Omarova", "Yerlan Tokayev"],
        },
        ["Aliya", "Madina", "Zhanar", "Gulnara", "Saule"],
        ["Arman", "Daulet", "Bauyrzhan", "Timur", "Ruslan"],
        ["Akhmetov", "Iskakov", "Zhunusov", "Karimov", "Serikbayev"],
        [
            "Centre office, Abai Ave",
            "Family home",
            "Almaty College of Trades",
            "Mosque community hall",
        ],
    ),
    CountryWorld(
        Country.TUNISIA,
        "Association Nouveau Départ, Tunis",
        "ar",
        "Africa/Tunis",
        {
            Role.ADMIN: ["Leila Ben Salah"],
            Role.OFFICER: ["Karim Trabelsi"],
            Role.WORKER: ["Amira Jaziri", "Sami Gharbi"],
        },
        ["Ines", "Mariem", "Sonia", "Rim", "Nour"],
        ["Youssef", "Mehdi", "Anis", "Walid", "Hamza"],
        ["Ben Ali", "Mansouri", "Haddad", "Chaabane", "Ayari"],
        [
            "Bureau de l'association",
            "Domicile familial",
            "Centre de formation, Ben Arous",
            "Maison des jeunes",
        ],
    ),
    CountryWorld(
        Country.UGANDA,
        "Kampala Community Reintegration Network",
        "en",
        "Africa/Kampala",
        {
            Role.ADMIN: ["Grace Namuli"],
            Role.OFFICER: ["Joseph Okello"],
            Role.WORKER: ["Brenda Achieng", "Moses Ssemakula"],
        },
        ["Agnes", "Sarah", "Florence", "Harriet", "Juliet"],
        ["David", "Isaac", "Ronald", "Patrick", "Emmanuel"],
        ["Mugisha", "Nakato", "Opio", "Kato", "Auma"],
        ["Network office, Nsambya", "Family home", "Katwe vocational workshop", "Parish hall"],
    ),
]

GOALS = {
    Pillar.FAMILY: "Rebuild regular contact with the family",
    Pillar.EDUCATION: "Complete the literacy course",
    Pillar.VOCATIONAL: "Finish tailoring training and find paid work",
    Pillar.COUNSELLING: "Attend counselling every two weeks",
}


async def load(*, participants_per_org: int = 10, months: int = 4) -> bool:
    """Load the demo world unless organisations exist already.

    Returns:
        True when the world was loaded, False when data was already there.
    """
    if await Organisation.exists():
        return False
    rng = random.Random(SEED)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    seq = 0
    async with in_transaction():
        for world in WORLDS:
            seq = await _load_country(world, rng, now, months, participants_per_org, seq)
        await _load_programme()
        await ChangeCounter.create(id=1, value=seq)
    await record(actor=SYSTEM, action="demo.load", detail={"organisations": len(WORLDS)})
    return True


# The programme's own organisation: its admin invites coordinators, who see
# the figures of their countries and never a person (docs/programme.md).
PROGRAMME_ORG = "Reintegration Programme Coordination"
COORDINATORS = (
    ("Aliya Nurpeisova", "ru", "Asia/Almaty", (Country.KAZAKHSTAN,)),
    ("Hela Mabrouk", "fr", "Africa/Tunis", (Country.TUNISIA,)),
    ("Peter Ouma", "en", "Africa/Kampala", tuple(Country)),
)


async def _load_programme() -> None:
    org = await Organisation.create(
        name=PROGRAMME_ORG,
        country=Country.UGANDA,
        default_language="en",
        time_zone="Africa/Kampala",
        is_programme=True,
    )
    await User.create(
        organisation=org,
        name="Sofia Marin",
        role=Role.ADMIN,
        language="en",
        time_zone="Africa/Kampala",
        webauthn_handle=secrets.token_bytes(32),
    )
    for name, language, time_zone, countries in COORDINATORS:
        user = await User.create(
            organisation=org,
            name=name,
            role=Role.COORDINATOR,
            language=language,
            time_zone=time_zone,
            webauthn_handle=secrets.token_bytes(32),
        )
        for country in countries:
            await CoordinatorCountry.create(user=user, country=country)


async def _load_country(
    world: CountryWorld, rng: random.Random, now: datetime, months: int, count: int, seq: int
) -> int:
    tz = ZoneInfo(world.time_zone)
    org = await Organisation.create(
        name=world.org_name,
        country=world.country,
        default_language=world.language,
        time_zone=world.time_zone,
    )
    staff: dict[Role, list[User]] = {}
    for role, names in world.staff.items():
        staff[role] = [
            await User.create(
                organisation=org,
                name=name,
                role=role,
                language=world.language,
                time_zone=world.time_zone,
                webauthn_handle=secrets.token_bytes(32),
            )
            for name in names
        ]
    officer = staff[Role.OFFICER][0]
    workers = staff[Role.WORKER]
    today = now.astimezone(tz).date()
    for index in range(count):
        gender = Gender.FEMALE if index % 2 == 0 else Gender.MALE
        if index == count - 1:
            gender = Gender.UNDISCLOSED
        first = rng.choice(world.women if gender is Gender.FEMALE else world.men)
        surname = rng.choice(world.surnames)
        seq += 1
        participant = await Participant.create(
            id=uuid.UUID(int=rng.getrandbits(128)),
            organisation=org,
            code=new_code(world.country.value, rng),
            full_name=f"{first} {surname}",
            gender=gender,
            date_of_birth=date(rng.randint(1975, 2004), rng.randint(1, 12), rng.randint(1, 28)),
            release_date=today - timedelta(days=rng.randint(20, 400)),
            language=world.language,
            officer=officer,
            consent_given=True,
            consent_date=today - timedelta(days=rng.randint(30, 300)),
            seq=seq,
        )
        worker = workers[index % len(workers)]
        await participant.workers.add(worker)
        await ConsentRecord.create(
            participant=participant,
            given=True,
            on_date=participant.consent_date,
            recorded_by=officer,
        )
        relative = await User.create(
            organisation=org,
            name=f"{rng.choice(world.women)} {surname}",
            role=Role.FAMILY,
            language=world.language,
            time_zone=world.time_zone,
            webauthn_handle=secrets.token_bytes(32),
        )
        await participant.family.add(relative)
        staff.setdefault(Role.FAMILY, []).append(relative)
        for pillar, text in GOALS.items():
            seq += 1
            await PlanGoal.create(
                id=uuid.UUID(int=rng.getrandbits(128)),
                participant=participant,
                pillar=pillar,
                text=text,
                status=rng.choice([GoalStatus.OPEN, GoalStatus.IN_PROGRESS]),
                seq=seq,
            )
        seq = await _sessions(participant, worker, world, rng, now, tz, months, seq)
        seq = await _appointments(participant, worker, world, rng, now, tz, seq)
    return seq


async def _sessions(
    participant: Participant,
    worker: User,
    world: CountryWorld,
    rng: random.Random,
    now: datetime,
    tz: ZoneInfo,
    months: int,
    seq: int,
) -> int:
    logs = []
    day = now.astimezone(tz).date() - timedelta(days=30 * months)
    while day < now.astimezone(tz).date() - timedelta(days=1):
        day += timedelta(days=rng.randint(4, 12))
        pillar = rng.choice(list(Pillar))
        attendance = rng.choices(list(Attendance), weights=[8, 1, 1])[0]
        occurred = datetime.combine(day, time(rng.randint(9, 16)), tz).astimezone(UTC)
        result = demo_answers.answers(
            pillar=pillar,
            participant_id=str(participant.id),
            occurred=occurred,
            tz=tz,
            attendance=attendance,
            place=rng.choice(world.places),
            facilitator=worker.name,
            rng=rng,
        )
        if not result.ok:  # the demo stores only what the forms accept
            raise RuntimeError(f"demo answers invalid: {dict(result.errors)}")
        seq += 1
        log_id = uuid.UUID(int=rng.getrandbits(128))
        reviewed = rng.random() < 0.7
        logs.append(
            SessionLog(
                id=log_id,
                pillar=pillar,
                form_version=result.form.version,
                author=worker,
                content_hash=content_hash(
                    pillar=pillar.value,
                    form_version=result.form.version,
                    values=result.as_json(),
                    appointment_id=None,
                ),
                seq=seq,
                reviewed_at=occurred + timedelta(days=3) if reviewed else None,
                reviewed_by=participant.officer if reviewed else None,
                **columns(result),
            )
        )
    await SessionLog.bulk_create(logs)
    return seq


async def _appointments(
    participant: Participant,
    worker: User,
    world: CountryWorld,
    rng: random.Random,
    now: datetime,
    tz: ZoneInfo,
    seq: int,
) -> int:
    for offset in (-10, 1, 6, 13):
        day = now.astimezone(tz).date() + timedelta(days=offset + rng.randint(0, 2))
        starts = datetime.combine(day, time(rng.choice([10, 11, 14, 15])), tz).astimezone(UTC)
        pillar = rng.choice(list(Pillar))
        seq += 1
        await Appointment.create(
            id=uuid.UUID(int=rng.getrandbits(128)),
            participant=participant,
            pillar=pillar,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            place=rng.choice(world.places),
            with_user=worker,
            what_to_bring="ID card" if pillar is Pillar.VOCATIONAL else "",
            status=AppointmentStatus.DONE if offset < 0 else AppointmentStatus.SCHEDULED,
            family_visible=pillar is Pillar.FAMILY or rng.random() < 0.5,
            created_by=participant.officer if participant.officer else worker,
            seq=seq,
        )
    return seq
