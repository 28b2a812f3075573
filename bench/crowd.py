"""A crowd of phones: 100 phones syncing at once, against one phone alone.

Twenty workers with five phones each. Every phone is set up as a real one
is, through the real endpoints: the worker enrols the first phone's passkey
from an invitation, adds a passkey for each of the other four from the
first (`/api/account/passkeys/…`), and each phone then signs in with its
own passkey (a software authenticator making real WebAuthn responses,
`tests/support/authenticator.py`) and so has a session of its own. Each
worker has their own source address on loopback (127.0.1.N), as phones
have: the sign-in limits per address are not what is measured. A phone
opens the app (`/`, the sealing key, a first pull from 0), and seals its
50 session logs before the clock starts, as the phone seals an entry when
it is saved, not when it is sent. None of this is timed.

Then all 100 phones start at once: each pushes its 50 logs in batches of
5 to 20 (random sizes, a fixed seed) with a pull after each batch, sending
back the cursor and the forms hash it was given, as the app does. A `429`
or `503` is honoured as the phone honours it: the phone waits `Retry-After`
seconds and sends the same batch again (counted, and reported). Every
record must come back `stored` (or `already_stored` after a retry); at the
end the database must hold exactly the logs acknowledged, and the audit
chain must verify.

The ceiling is one phone alone on the same server and database in the same
run: it pushes 4 batches of 100 back to back (what `bench/sync_ingest.py`
measures), three times (twice before the crowd, once after); its median is
the single-phone ingest rate. The crowd's figure is all records stored
divided by the time from the start until the last phone finished. One
phone alone with the crowd's own pattern (batches of 5 to 20, a pull after
each) is measured too: the cost of the small batches and pulls, without
the crowd.

On SQLite one app server; on PostgreSQL two app servers on one database,
sharing the data directory and a Redis database for the rate limits
(`HOMEWARD_BENCH_REDIS_URL`, default `redis://127.0.0.1:6379/15`, emptied
before and after), each phone talking to one of them (alternately, as a
load balancer would). Latency is from sending a request to reading its
whole answer. Server CPU is the app servers' own (`/proc/<pid>/stat`), and
on PostgreSQL also its backends serving this database; "of a core" means
seconds of CPU per second of the crowd. Records per second of app-server
CPU (crowd and phone alone) compare the cost of a record with and without
the crowd's small batches and pulls, and move much less with the machine's
load than rates do. The machine's load average is
written beside the figures: on a shared machine they move with it, the
ratio much less.

    .venv/bin/python -m bench.crowd [--sqlite-only | --postgres-only] [--profile DIR]

`--env NAME=VALUE` gives the app servers a setting (repeatable).
`--profile DIR` records each app server with py-spy while the crowd runs
(raw collapsed stacks, `DIR/<database>-server<N>.txt`, root needed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench import proc
from bench.context import Context
from bench.rows import Row, ratio
from server.settings import ROOT

WORKERS = 20
DEVICES = 5  # phones per worker
LOGS = 50  # per phone
CASELOAD = 8  # participants per worker; the logs are for the first
BATCH = (5, 20)
ALONE_BATCH = 100
ALONE_BATCHES = 4
SEED = 19
TIMEOUT = 120.0
THROUGHPUT_TARGET = 0.7
PUSH_P95_TARGET = 0.5  # seconds
PULL_P95_TARGET = 0.3
REDIS_URL = os.environ.get("HOMEWARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
PY_SPY = Path(sys.executable).parent / "py-spy"


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---------------------------------------------------------------- the phones


@dataclass
class Phone:
    """One signed-in phone: its client (own cookies, own address), its server."""

    worker: int
    device: int
    user_id: int
    client: httpx.AsyncClient
    origin: str
    csrf: str = ""
    key: dict[str, str] = field(default_factory=dict)
    cursor: int = 0
    forms_hash: str = ""


@dataclass
class Tally:
    push: list[float] = field(default_factory=list)
    pull: list[float] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # "push 503" → count
    refused_seconds: list[float] = field(default_factory=list)
    waited: float = 0.0  # seconds phones spent honouring Retry-After
    acknowledged: int = 0
    records: int = 0


def _client(base: str, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base,
        timeout=TIMEOUT,
        transport=httpx.AsyncHTTPTransport(local_address=address),
        headers={"Accept-Encoding": "gzip"},
        # Well below uvicorn's 5 s keep-alive: a phone that waited longer
        # would race the server closing its idle connection (on a loaded
        # machine the two clocks drift apart by more than a second).
        limits=httpx.Limits(keepalive_expiry=2.0),
    )


async def _csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/")
    match = CSRF.search(page.text)
    if page.status_code != 200 or match is None:
        raise RuntimeError(f"no CSRF token on /: {page.status_code}")
    return match.group(1)


async def _post(
    client: httpx.AsyncClient, origin: str, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    headers = {"origin": origin, "x-csrf-token": await _csrf(client), "accept": "application/json"}
    answer = await client.post(path, json=body, headers=headers)
    if answer.status_code != 200:
        raise RuntimeError(f"POST {path} answered {answer.status_code}: {answer.text[:300]}")
    data: dict[str, Any] = answer.json()
    return data


async def _sign_in(client: httpx.AsyncClient, origin: str, authenticator: Any) -> None:
    options = await _post(client, origin, "/api/auth/signin/options", {})
    assertion = authenticator.get(options, origin=origin)
    await _post(client, origin, "/api/auth/signin/verify", {"credential": assertion})


async def _enrol_worker(
    worker: int, token: str, servers: list[tuple[str, str]], gate: asyncio.Semaphore
) -> list[Phone]:
    """Enrol the worker's first phone, add a passkey for each other, sign each in."""
    from tests.support.authenticator import SoftAuthenticator

    address = f"127.0.1.{worker + 1}"
    phones: list[Phone] = []
    async with gate:
        for device in range(DEVICES):
            base, origin = servers[(worker * DEVICES + device) % len(servers)]
            client = _client(base, address)
            authenticator = SoftAuthenticator(origin=origin)
            if device == 0:
                first_origin = origin
                path = f"/api/auth/enrol/{token}"
                options = await _post(client, origin, f"{path}/options", {})
                credential = authenticator.create(options)
                body = {"credential": credential, "language": "en", "name": "phone 1"}
                await _post(client, origin, f"{path}/verify", body)
                first = client
            else:
                # The new phone's passkey, added from the first phone's session.
                options = await _post(first, first_origin, "/api/account/passkeys/options", {})
                credential = authenticator.create(options, origin=first_origin)
                body = {"credential": credential, "name": f"phone {device + 1}"}
                await _post(first, first_origin, "/api/account/passkeys/verify", body)
            await _sign_in(client, origin, authenticator)
            me = (await client.get("/api/me")).json()
            phones.append(Phone(worker, device, int(me["id"]), client, origin))
    return phones


async def _open_app(phone: Phone, gate: asyncio.Semaphore) -> None:
    """What the app does when it opens: the page (CSRF), the key, a first pull."""
    async with gate:
        try:
            await _open_app_now(phone)
        except httpx.TransportError:
            # Set-up only, before the clock starts: a connection the server
            # closed as idle just as it was reused. A phone opens the app
            # again; so does the benchmark, once.
            await _open_app_now(phone)


async def _open_app_now(phone: Phone) -> None:
    phone.csrf = await _csrf(phone.client)
    phone.key = (await phone.client.get("/api/sync/key")).json()
    first = await phone.client.get("/api/sync/pull", params={"since": 0, "forms": ""})
    if first.status_code != 200:
        raise RuntimeError(f"first pull answered {first.status_code}")
    phone.cursor, phone.forms_hash = first.json()["cursor"], first.json()["forms_hash"]


def _seal(phone: Phone, participant: str, count: int) -> list[dict[str, Any]]:
    from tests.support.sealing import family_values, session_log_entry

    values = family_values(participant, occurred_time="10:00", notes="Crowd.")
    return [
        session_log_entry(author=phone.user_id, values=values, key=phone.key) for _ in range(count)
    ]


def _batches(entries: list[dict[str, Any]], rng: random.Random) -> list[list[dict[str, Any]]]:
    out, start = [], 0
    while start < len(entries):
        size = rng.randint(*BATCH)
        out.append(entries[start : start + size])
        start += size
    return out


def _retry_after(answer: httpx.Response) -> float:
    try:
        return max(0.0, float(answer.headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


async def _send(
    kind: str, tally: Tally, call: Callable[[], Awaitable[httpx.Response]]
) -> httpx.Response:
    """One request as the outbox sends it: 429 and 503 wait Retry-After, then again."""
    while True:
        started = time.perf_counter()
        answer = await call()
        took = time.perf_counter() - started
        if answer.status_code not in (429, 503):
            if answer.status_code != 200:
                raise RuntimeError(f"{kind} answered {answer.status_code}: {answer.text[:300]}")
            getattr(tally, kind).append(took)
            return answer
        label = f"{kind} {answer.status_code}"
        tally.refused[label] = tally.refused.get(label, 0) + 1
        tally.refused_seconds.append(took)
        wait = _retry_after(answer)
        tally.waited += wait
        await asyncio.sleep(wait)


async def _drain(phone: Phone, batches: list[list[dict[str, Any]]], tally: Tally) -> None:
    headers = {"origin": phone.origin, "x-csrf-token": phone.csrf}
    for batch in batches:
        answer = await _send(
            "push",
            tally,
            partial(phone.client.post, "/api/sync/push", json={"records": batch}, headers=headers),
        )
        statuses = [r["status"] for r in answer.json()["results"]]
        bad = [s for s in statuses if s not in ("stored", "already_stored")]
        if bad:
            raise RuntimeError(f"push did not store every record: {answer.text[:300]}")
        tally.acknowledged += statuses.count("stored")
        tally.records += len(batch)
        params: dict[str, str | int] = {"since": phone.cursor, "forms": phone.forms_hash}
        pull = partial(phone.client.get, "/api/sync/pull", params=params)
        pulled = await _send("pull", tally, pull)
        phone.cursor = pulled.json()["cursor"]


async def _alone(phone: Phone, participant: str) -> float:
    """One phone, 4 batches of 100 back to back: records per second."""
    sealed = _seal(phone, participant, ALONE_BATCH * ALONE_BATCHES)
    batches = [sealed[i : i + ALONE_BATCH] for i in range(0, len(sealed), ALONE_BATCH)]
    tally = Tally()
    headers = {"origin": phone.origin, "x-csrf-token": phone.csrf}
    started = time.perf_counter()
    for batch in batches:
        answer = await _send(
            "push",
            tally,
            partial(phone.client.post, "/api/sync/push", json={"records": batch}, headers=headers),
        )
        if {r["status"] for r in answer.json()["results"]} != {"stored"}:
            raise RuntimeError(f"alone: not stored: {answer.text[:300]}")
    return len(sealed) / (time.perf_counter() - started)


# ------------------------------------------------------------- the world


async def _world(workers: int) -> tuple[list[str], list[list[str]]]:
    """An organisation, an officer, a caseload per worker and their invitations."""
    from server.enums import Role
    from tests.support import world

    org = await world.organisation("Crowd NGO")
    officer = await world.user(org, Role.OFFICER)
    tokens, caseloads = [], []
    for n in range(workers + 1):  # the last one is the phone alone
        tokens.append(await world.invitation_token(org, Role.WORKER, name=f"Crowd worker {n}"))
        people = [await world.participant(org, officer) for _ in range(CASELOAD)]
        caseloads.append([str(p.id) for p in people])
    return tokens, caseloads


async def _assign(user_ids: dict[int, int], caseloads: list[list[str]]) -> None:
    """Put each worker's participants on their caseload (made once they enrolled)."""
    from server.accounts.models import User
    from server.participants.models import Participant

    for worker, user_id in user_ids.items():
        user = await User.get(id=user_id)
        for participant_id in caseloads[worker]:
            participant = await Participant.get(id=participant_id)
            await participant.workers.add(user)


def _cpu(pids: list[int]) -> dict[int, float]:
    seconds = {}
    for pid in pids:
        with suppress(FileNotFoundError, ProcessLookupError):
            seconds[pid] = proc.cpu_seconds(pid)
    return seconds


async def _backends() -> list[int]:
    """PostgreSQL backends serving this database (their CPU is the server's too)."""
    from tortoise import connections

    rows = await connections.get("default").execute_query_dict(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    )
    return [int(r["pid"]) for r in rows]


@contextmanager
def _profiling(pids: list[int], folder: Path | None, label: str) -> Iterator[None]:
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    spies = [
        subprocess.Popen(
            [
                *(str(PY_SPY), "record", "--pid", str(pid), "--format", "raw", "--rate", "200"),
                *("--duration", "600", "--output", str(folder / f"{label}-server{n}.txt")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n, pid in enumerate(pids)
    ]
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        for spy in spies:
            spy.wait(timeout=60)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


@dataclass
class Result:
    database: str
    servers: int
    crowd: float  # records per second
    alone: list[float]
    pattern_alone: float
    pattern_push_p50: float
    pattern_pull_p50: float
    push: list[float]  # p50, p95, p99, seconds
    pull: list[float]
    refused: dict[str, int]
    refused_p95: float
    waited: float
    records: int
    acknowledged: int
    stored: int
    seconds: float
    alone_per_cpu: float  # records per second of the app server's CPU, the phone alone
    crowd_per_cpu: float  # the same, the crowd (all app servers)
    server_cpu: float  # cores, app servers
    database_cpu: float  # cores, PostgreSQL backends (0 on SQLite)
    client_cpu: float
    chain: str
    load_before: str
    load_after: str
    setup_seconds: float


async def _measure(
    ports: list[int], pids: list[int], database_url: str, data_dir: str, profile: Path | None
) -> Result:
    from tortoise import Tortoise

    from server import db
    from server.audit import keys as audit_keys
    from server.audit.services import verify
    from server.sessions.models import SessionLog
    from server.settings import Settings

    postgres = database_url.startswith("postgres")
    settings = Settings.from_env(
        {"HOMEWARD_DATA_DIR": data_dir, "HOMEWARD_DATABASE_URL": database_url}
    )
    audit_keys.install(audit_keys.load(settings))
    await Tortoise.init(config=db.tortoise_config(database_url))
    rng = random.Random(SEED)
    try:
        setup = time.perf_counter()
        tokens, caseloads = await _world(WORKERS)
        participants = [caseload[0] for caseload in caseloads]
        servers = [(f"http://127.0.0.1:{p}", f"http://localhost:{p}") for p in ports]
        gate = asyncio.Semaphore(5)
        enrolled = await asyncio.gather(
            *(_enrol_worker(w, tokens[w], servers, gate) for w in range(WORKERS + 1))
        )
        await _assign({w: phones[0].user_id for w, phones in enumerate(enrolled)}, caseloads)
        every = [phone for phones in enrolled for phone in phones]
        await asyncio.gather(*(_open_app(p, gate) for p in every))
        alone, crowd = enrolled[WORKERS][0], [p for ps in enrolled[:WORKERS] for p in ps]
        sealed = {id(p): _batches(_seal(p, participants[p.worker], LOGS), rng) for p in crowd}
        setup_seconds = time.perf_counter() - setup

        # The ceiling, and one phone alone with the crowd's own pattern.
        alone_rates: list[float] = []
        alone_cpu: list[float] = []

        async def alone_run() -> None:
            cpu = sum(_cpu(pids).values())
            alone_rates.append(await _alone(alone, participants[WORKERS]))
            alone_cpu.append(sum(_cpu(pids).values()) - cpu)

        for _ in range(2):
            await alone_run()
        pattern = Tally()
        pattern_batches = _batches(_seal(alone, participants[WORKERS], LOGS), rng)
        started = time.perf_counter()
        await _drain(alone, pattern_batches, pattern)
        pattern_rate = pattern.records / (time.perf_counter() - started)
        crowd_before = await SessionLog.all().count()

        tally = Tally()
        load_before = _load()
        backends = await _backends() if postgres else []
        cpu_before = _cpu(pids + backends), time.process_time()
        with _profiling(pids, profile, "postgres" if postgres else "sqlite"):
            started = time.perf_counter()
            await asyncio.gather(*(_drain(p, sealed[id(p)], tally) for p in crowd))
            elapsed = time.perf_counter() - started
        client_cpu = (time.process_time() - cpu_before[1]) / elapsed
        backends = await _backends() if postgres else []
        cpu_after = _cpu(pids + backends)
        load_after = _load()

        def used(group: list[int]) -> float:
            return sum(cpu_after.get(p, 0) - cpu_before[0].get(p, 0) for p in group) / elapsed

        stored = await SessionLog.all().count() - crowd_before
        await alone_run()
        broken = await verify()
    finally:
        await Tortoise.close_connections()
    pct = (0.5, 0.95, 0.99)
    return Result(
        database="PostgreSQL" if postgres else "SQLite",
        servers=len(ports),
        crowd=tally.records / elapsed,
        alone=alone_rates,
        alone_per_cpu=ALONE_BATCH * ALONE_BATCHES * len(alone_cpu) / max(sum(alone_cpu), 1e-9),
        crowd_per_cpu=tally.records / max(used(pids) * elapsed, 1e-9),
        pattern_alone=pattern_rate,
        pattern_push_p50=statistics.median(pattern.push),
        pattern_pull_p50=statistics.median(pattern.pull),
        push=[_percentile(tally.push, s) for s in pct],
        pull=[_percentile(tally.pull, s) for s in pct],
        refused=tally.refused,
        refused_p95=_percentile(tally.refused_seconds, 0.95),
        waited=tally.waited,
        records=tally.records,
        acknowledged=tally.acknowledged,
        stored=stored,
        seconds=elapsed,
        server_cpu=used(pids),
        database_cpu=used([p for p in cpu_after if p not in pids]),
        client_cpu=client_cpu,
        chain="intact" if broken is None else f"broken at {broken.position}: {broken.reason}",
        load_before=load_before,
        load_after=load_after,
        setup_seconds=setup_seconds,
    )


# ------------------------------------------------------------ the servers


def _in_child(
    ports: list[int], pids: list[int], database_url: str, data_dir: Path, profile: Path | None
) -> Result:
    """Measure in a fresh process: Tortoise keeps one backend's SQL per process."""
    command = [sys.executable, "-m", "bench.crowd", "--measure", database_url]
    command += ["--ports", ",".join(map(str, ports)), "--pids", ",".join(map(str, pids))]
    command += ["--data-dir", str(data_dir)]
    if profile is not None:
        command += ["--profile", str(profile)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"crowd failed on {database_url}:\n{done.stderr[-4000:]}")
    return Result(**json.loads(done.stdout.strip().splitlines()[-1]))


def _start(env: dict[str, str], log: Path) -> Any:
    from bench.servers import _output_to
    from tests.support import live

    with _output_to(log):
        return live.start(env)


# Extra settings for the app servers (``--env``), e.g. to measure without
# admission control: HOMEWARD_QUEUE_SECONDS=600 HOMEWARD_SYNC_QUEUE=1000.
SERVER_ENV: dict[str, str] = {}


def _sqlite(profile: Path | None) -> Result:
    from server import db
    from server.sync.keys import KeyRing

    with tempfile.TemporaryDirectory(prefix="homeward-crowd-") as tmp:
        data_dir = Path(tmp)
        url = f"sqlite://{data_dir / 'crowd.sqlite3'}"
        asyncio.run(db.migrate(url))
        KeyRing.load(data_dir / "sync-keys")
        env = {
            "HOMEWARD_DATA_DIR": tmp,
            "HOMEWARD_DATABASE_URL": url,
            "HOMEWARD_SECRET_KEY": "bench-secret-key-not-for-production",
            **SERVER_ENV,
        }
        app = _start(env, data_dir / "server.log")
        try:
            return _in_child([app.port], [app.process.pid], url, data_dir, profile)
        except RuntimeError:
            sys.stderr.write((data_dir / "server.log").read_text(errors="replace")[-3000:])
            raise
        finally:
            app.stop()


async def _flush_redis() -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


def _postgres(profile: Path | None) -> Result:
    from server import db
    from server.sync.keys import KeyRing
    from tests.support import pg

    name = f"homeward_crowd_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(pg.create_database(name))
    asyncio.run(_flush_redis())
    try:
        asyncio.run(db.migrate(url))
        with tempfile.TemporaryDirectory(prefix="homeward-crowd-pg-") as tmp:
            data_dir = Path(tmp)
            KeyRing.load(data_dir / "sync-keys")  # what `homeward migrate` does, once
            env = {
                "HOMEWARD_DATA_DIR": tmp,
                "HOMEWARD_DATABASE_URL": url,
                "HOMEWARD_SECRET_KEY": "bench-secret-key-not-for-production",
                "HOMEWARD_REDIS_URL": REDIS_URL,
                **SERVER_ENV,
            }
            first = _start(env, data_dir / "server.log")
            try:
                second = _start(env, data_dir / "server.log")
            except RuntimeError:
                first.stop()
                raise
            try:
                ports, pids = [first.port, second.port], [first.process.pid, second.process.pid]
                return _in_child(ports, pids, url, data_dir, profile)
            except RuntimeError:
                sys.stderr.write((data_dir / "server.log").read_text(errors="replace")[-3000:])
                raise
            finally:
                second.stop()
                first.stop()
    finally:
        asyncio.run(pg.drop_database(name))
        asyncio.run(_flush_redis())


# --------------------------------------------------------------- the rows


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _rows(result: Result) -> list[Row]:
    where = (
        f"{result.database}, one app server"
        if result.servers == 1
        else f"{result.database}, {result.servers} app servers"
    )
    ceiling = statistics.median(result.alone)
    share = result.crowd / ceiling
    met = "met" if share >= THROUGHPUT_TARGET else "not met"
    refused = ", ".join(f"{n} × {what}" for what, n in sorted(result.refused.items())) or "none"
    cpu = f"server {result.server_cpu:.2f} of a core"
    if result.database_cpu:
        cpu += f", PostgreSQL {result.database_cpu:.2f}"
    cpu += f", phones (this process) {result.client_cpu:.2f}"
    lost = result.acknowledged - result.stored
    common = f"load average {result.load_before} at the start, {result.load_after} at the end"
    push, pull = result.push, result.pull
    latency_met = push[1] <= PUSH_P95_TARGET and pull[1] <= PULL_P95_TARGET
    return [
        Row(
            "Crowd",
            f"{WORKERS * DEVICES} phones ({WORKERS} workers × {DEVICES}) at once, {LOGS} logs "
            f"each in batches of {BATCH[0]}–{BATCH[1]} with a pull after each, {where}",
            f"{result.crowd:,.0f} records/s",
            f"one phone alone, batches of {ALONE_BATCH}: {ceiling:,.0f} records/s "
            f"({min(result.alone):,.0f}–{max(result.alone):,.0f})",
            ratio(share),
            f"≥ {THROUGHPUT_TARGET} ({met})",
            f"{result.records:,} records in {result.seconds:.1f} s; CPU: {cpu}; "
            f"records per second of app-server CPU: crowd {result.crowd_per_cpu:,.0f}, "
            f"the phone alone {result.alone_per_cpu:,.0f} "
            f"({ratio(result.crowd_per_cpu / result.alone_per_cpu)} of it); "
            f"one phone alone with the crowd's pattern: {result.pattern_alone:,.0f} records/s "
            f"(push p50 {_ms(result.pattern_push_p50)}, pull p50 {_ms(result.pattern_pull_p50)}); "
            f"refused and retried after Retry-After: {refused}; "
            f"lost or doubled: {lost} (acknowledged {result.acknowledged:,}, "
            f"stored {result.stored:,}); audit chain {result.chain}; {common}",
        ),
        Row(
            "Crowd",
            f"Push / pull latency p50 · p95 · p99, the same {WORKERS * DEVICES} phones, {where}",
            f"push {_ms(push[0])} · {_ms(push[1])} · {_ms(push[2])}; "
            f"pull {_ms(pull[0])} · {_ms(pull[1])} · {_ms(pull[2])}",
            target=f"push p95 ≤ {_ms(PUSH_P95_TARGET)}, pull p95 ≤ {_ms(PULL_P95_TARGET)} "
            f"({'met' if latency_met else 'not met'})",
            notes=f"answered requests only; {sum(result.refused.values())} refused "
            f"(p95 {_ms(result.refused_p95)} to the refusal), phones waited "
            f"{result.waited:,.0f} s in all on Retry-After; {common}",
        ),
    ]


def run(
    context: Context | None = None,
    *,
    sqlite: bool = True,
    postgres: bool = True,
    profile: Path | None = None,
) -> list[Row]:
    rows: list[Row] = []
    if sqlite:
        rows += _rows(_sqlite(profile))
    if postgres:
        try:
            result = _postgres(profile)
        except OSError as error:  # no PostgreSQL here: say so instead of a figure
            rows.append(
                Row("Crowd", "The crowd on PostgreSQL", f"not measured ({type(error).__name__})")
            )
        else:
            rows += _rows(result)
    return rows


def main() -> None:
    """Run only this benchmark and print its rows (``python -m bench.crowd``)."""
    top = argparse.ArgumentParser(prog="python -m bench.crowd")
    only = top.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    top.add_argument("--profile", type=Path, help="record the servers with py-spy into DIR")
    top.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="app server setting"
    )
    top.add_argument("--measure", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    top.add_argument("--ports", help=argparse.SUPPRESS)
    top.add_argument("--pids", help=argparse.SUPPRESS)
    top.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = top.parse_args()
    if args.measure:
        ports = [int(p) for p in args.ports.split(",")]
        pids = [int(p) for p in args.pids.split(",")]
        result = asyncio.run(_measure(ports, pids, args.measure, args.data_dir, args.profile))
        print(json.dumps(asdict(result)))
        return
    SERVER_ENV.update(item.split("=", 1) for item in args.env)
    rows = run(sqlite=not args.postgres_only, postgres=not args.sqlite_only, profile=args.profile)
    for row in rows:
        print(f"| {row.measure} | {row.result} | {row.reference} | {row.ratio} | {row.notes} |")


if __name__ == "__main__":
    main()
