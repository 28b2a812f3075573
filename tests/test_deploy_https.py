"""The production set-up of deploy/, started as it is, behind real HTTPS.

Caddy (Debian's package) with ``deploy/Caddyfile`` in front of two app
servers started with the ``ExecStart`` of ``deploy/homeward@.service``, on
one PostgreSQL database and one Redis database, with the environment file
made from ``deploy/homeward.env.example``; the ``homeward`` commands go
through ``deploy/homeward-cli``, as docs/deploy.md has them typed. There is
no systemd here: the test reads the unit and runs its command itself.

How the addresses are told apart: everything is on loopback. The app
servers believe X-Forwarded-For from 127.0.0.1 only (Caddy's address as
they see it), Chromium reaches Caddy from 127.0.0.1, and a second client
binds its sockets to 127.0.0.2 (Linux routes all of 127.0.0.0/8 to
loopback): through Caddy the app must see 127.0.0.2 (read from the header
Caddy set, since the connection itself comes from Caddy at 127.0.0.1), and
straight to an app server it must see 127.0.0.2 too, whatever address the
client claims. A process on the machine that connects from 127.0.0.1 is
trusted like Caddy: docs/deploy.md says so.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shlex
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis as sync_redis
from playwright.async_api import Browser, async_playwright, expect
from tortoise import Tortoise

from server import db
from server.enums import Pillar, Role
from server.settings import ROOT
from tests.conftest import BACKEND
from tests.support import browser as browser_support
from tests.support import outbox as ob
from tests.support import pg, world
from tests.support.live import free_port
from tests.support.passkeys import virtual_authenticator

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="two app servers need PostgreSQL: the PostgreSQL pass of `make test` runs this",
    ),
]

DEPLOY = ROOT / "deploy"
CADDY = os.environ.get("HOMEWARD_CADDY") or shutil.which("caddy") or "/usr/bin/caddy"
HOMEWARD = str(ROOT / ".venv" / "bin" / "homeward")
# Not 13 (tests/test_multi_server.py) nor 11/12 (the browser tests): both
# passes of `make test` run at once and each empties its own database.
REDIS_URL = os.environ.get("HOMEWARD_TEST_DEPLOY_REDIS_URL", "redis://127.0.0.1:6379/14")
FORGED = "203.0.113.9"  # TEST-NET-3: never anybody's real address
OUTSIDER = "127.0.0.2"  # a loopback address that is not the proxy's


@dataclass
class Stack:
    folder: Path
    https_port: int
    app_ports: tuple[int, int]
    env_file: Path
    env: dict[str, str]
    root_cert: Path

    @property
    def origin(self) -> str:
        return f"https://localhost:{self.https_port}"

    def app_log(self, port: int) -> list[dict[str, object]]:
        lines = (self.folder / f"app-{port}.log").read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith('{"time"')]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A `homeward` command through deploy/homeward-cli, as docs/deploy.md runs it."""
        return subprocess.run(
            [str(DEPLOY / "homeward-cli"), *args],
            env={
                **os.environ,
                "HOMEWARD_ENV_FILE": str(self.env_file),
                "HOMEWARD_BIN": HOMEWARD,
                "HOMEWARD_USER": _whoami(),
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )


def _whoami() -> str:
    return subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()


def environment_file(text: str) -> dict[str, str]:
    """NAME=value lines as systemd's EnvironmentFile reads these (no quoting used)."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def unit_command(port: int) -> tuple[list[str], dict[str, str]]:
    """The unit's ExecStart for instance ``port`` and its Environment= lines,
    with the installed program's path replaced by this checkout's."""
    command: list[str] = []
    extra: dict[str, str] = {}
    for line in (DEPLOY / "homeward@.service").read_text().splitlines():
        if line.startswith("ExecStart="):
            command = shlex.split(line.removeprefix("ExecStart=").replace("%i", str(port)))
        elif line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            extra[name] = value
    assert command[0] == "/opt/homeward/.venv/bin/homeward", command
    return [HOMEWARD, *command[1:]], extra


def _wait(
    check: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()[-2000:]}")
        try:
            if check():
                return
        except (httpx.HTTPError, ssl.SSLError, OSError):
            pass
        time.sleep(0.1)  # polling a starting process: there is no event to await
    raise RuntimeError(f"{what} did not start: {log.read_text()[-2000:]}")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """All at once (each stops in its own time), then wait for each."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start(
    stack: ExitStack,
    running: list[subprocess.Popen[bytes]],
    command: list[str],
    env: dict[str, str],
    log: Path,
) -> subprocess.Popen[bytes]:
    handle = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    running.append(process)
    return process


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if not os.path.exists(CADDY):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Caddy is required in CI but missing ({CADDY}): run .ci/install-caddy")
        pytest.skip("Caddy is not installed here (.ci/install-caddy installs it)")
    with ExitStack() as cleanup:
        folder = Path(tempfile.mkdtemp(prefix="homeward-deploy-"))
        cleanup.callback(shutil.rmtree, folder, True)
        name = f"homeward_deploy_{secrets.token_hex(4)}"
        database_url = asyncio.run(pg.create_database(name))
        cleanup.callback(lambda: asyncio.run(pg.drop_database(name)))
        limits = sync_redis.Redis.from_url(REDIS_URL)
        limits.flushdb()
        cleanup.callback(limits.close)
        cleanup.callback(limits.flushdb)

        https_port, http_port = free_port(), free_port()
        app_ports = (free_port(), free_port())
        example = environment_file((DEPLOY / "homeward.env.example").read_text())
        ours = {
            "HOMEWARD_ORIGIN": f"https://localhost:{https_port}",
            "HOMEWARD_DATABASE_URL": database_url,
            "HOMEWARD_SECRET_KEY": secrets.token_hex(32),
            "HOMEWARD_DATA_DIR": str(folder / "data"),
            "HOMEWARD_REDIS_URL": REDIS_URL,
        }
        # The example names every setting the test has to give its own value.
        assert set(ours) <= set(example)
        assert example["HOMEWARD_FORWARDED_ALLOW_IPS"] == "127.0.0.1"
        assert example["HOMEWARD_APP_SERVERS"] == "2"
        env = {**example, **ours}
        env_file = folder / "homeward.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        result = Stack(folder, https_port, app_ports, env_file, env, Path())

        migrated = result.cli("migrate")
        assert migrated.returncode == 0, migrated.stderr

        # Only what the unit gives the service: its environment file and
        # Environment= lines (plus PATH and coverage's own variables).
        base = {k: v for k, v in os.environ.items() if k == "PATH" or k.startswith("COVERAGE")}
        running: list[subprocess.Popen[bytes]] = []
        cleanup.callback(_stop, running)
        starting = []
        for port in app_ports:
            command, extra = unit_command(port)
            log = folder / f"app-{port}.log"
            process = _start(cleanup, running, command, {**base, **env, **extra}, log)
            starting.append((f"http://127.0.0.1:{port}/healthz", process, log))
        for url, process, log in starting:  # both start at once
            _wait(lambda url=url: httpx.get(url).status_code == 200, "app server", process, log)

        caddy_env = {
            **base,
            "HOME": str(folder),
            "XDG_DATA_HOME": str(folder / "caddy-data"),
            "XDG_CONFIG_HOME": str(folder / "caddy-config"),
            "HOMEWARD_DOMAIN": f"localhost:{https_port}",
            "HOMEWARD_CADDY_ADMIN": "off",
            "HOMEWARD_CADDY_HTTP_PORT": str(http_port),
            "HOMEWARD_PORT_1": str(app_ports[0]),
            "HOMEWARD_PORT_2": str(app_ports[1]),
        }
        caddy_command = [CADDY, "run", "--config", str(DEPLOY / "Caddyfile")]
        log = folder / "caddy.log"
        caddy = _start(cleanup, running, [*caddy_command, "--adapter", "caddyfile"], caddy_env, log)
        result.root_cert = folder / "caddy-data/caddy/pki/authorities/local/root.crt"

        def answers() -> bool:
            if not result.root_cert.exists():
                return False
            # Trusting Caddy's own root, not switching verification off.
            client = httpx.get(f"{result.origin}/healthz", verify=_trust(result.root_cert))
            return client.status_code == 200

        _wait(answers, "caddy", caddy, log)
        yield result


def _trust(root: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(root))


async def _audit_ips(database_url: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT action, ip FROM audit_event ORDER BY id")
    finally:
        await conn.close()
    return [(row["action"], row["ip"]) for row in rows]


def _limited_addresses() -> set[str]:
    """The addresses the rate limiter has counted, read from its Redis keys."""
    client = sync_redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        keys = list(client.scan_iter("*-ip/*"))
    finally:
        client.close()
    return {key.split("-ip/", 1)[1].split("/", 1)[0] for key in keys}


@pytest.fixture(scope="module")
async def deploy_orm(stack: Stack) -> AsyncIterator[None]:
    """The ORM on the deployment's database, for making a caseload and reading it back."""
    await Tortoise.init(config=db.tortoise_config(stack.env["HOMEWARD_DATABASE_URL"]))
    yield
    await Tortoise.close_connections()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Chromium as the other browser tests run it, but reaching localhost over
    IPv4 only: it would try ::1 first, and the address it is seen with must be
    the one this test writes down (127.0.0.1)."""
    if not browser_support.available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required in CI but missing at {browser_support.CHROMIUM}")
        pytest.skip("Chromium is not installed here")
    args = [*browser_support.ARGS, "--host-resolver-rules=MAP localhost 127.0.0.1"]
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=browser_support.CHROMIUM, args=args, headless=True
        )
        yield chromium
        await chromium.close()


def _served_by(stack: Stack, request_id: str) -> int:
    found = [
        port
        for port in stack.app_ports
        if any(line.get("request_id") == request_id for line in stack.app_log(port))
    ]
    assert len(found) == 1, (request_id, found)
    return found[0]


async def test_passkey_https_cookies_addresses_and_a_session_through_caddy(
    stack: Stack, deploy_orm: None, browser: Browser
) -> None:
    from server.accounts.models import User
    from server.orgs.models import Organisation
    from server.sessions.models import SessionLog

    created = stack.cli(
        "org",
        "create",
        "--name",
        "Deploy NGO",
        "--country",
        "KZ",
        "--language",
        "en",
        "--time-zone",
        "Asia/Almaty",
    )
    assert created.returncode == 0, created.stderr
    org = await Organisation.get(name="Deploy NGO")
    invited = stack.cli(
        "invite", "--organisation", str(org.id), "--role", "worker", "--name", "Dana Worker"
    )
    assert invited.returncode == 0, invited.stderr
    link = invited.stdout.strip()
    assert link.startswith(f"{stack.origin}/enrol/"), link

    # Every request the browser sends claims another address; Caddy must drop it.
    context = await browser.new_context(
        ignore_https_errors=True, extra_http_headers={"X-Forwarded-For": FORGED}
    )
    try:
        page = await context.new_page()
        await virtual_authenticator(page)
        first = await page.goto(link)
        assert first is not None and first.status == 200
        assert first.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
        await page.fill("#passkey-name", "office phone")
        await page.locator("[data-passkey=enrol] button[type=submit]").click()
        await expect(page.locator("h1")).to_contain_text("Dana Worker")
        await page.locator("form[action='/signout'] button").click()
        await expect(page.locator("a.button.primary[href='/signin']")).to_be_visible()
        await page.goto(f"{stack.origin}/signin")
        await page.locator("button[data-passkey=signin]").click()
        await expect(page.locator("h1")).to_contain_text("Dana Worker")

        cookies = {c["name"]: c for c in await context.cookies()}
        assert {"__Host-homeward", "__Host-homeward_csrf"} <= set(cookies), sorted(cookies)
        assert not {"homeward_session", "homeward_csrf"} & set(cookies)
        for name, same_site in (("__Host-homeward", "Lax"), ("__Host-homeward_csrf", "Strict")):
            cookie = cookies[name]
            assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (
                True,
                True,
                same_site,
            )
            assert (cookie["path"], cookie["domain"]) == ("/", "localhost")

        # A caseload for the worker, then one session logged through the proxy.
        worker = await User.get(name="Dana Worker")
        officer = await world.user(org, Role.OFFICER)
        participant = await world.participant(org, officer)
        await participant.workers.add(worker)
        await page.goto(f"{stack.origin}/log/{participant.id}/{Pillar.FAMILY.value}")
        await ob.ready(page)
        await ob.fill(page, ob.order(ob.answers(0, "family", notes="logged behind Caddy")))
        async with page.expect_response(lambda r: "/api/sync/push" in r.url) as pushed:
            await page.locator("form[data-form] button[type=submit]").click()
        push = await pushed.value
        assert push.status == 200
        stored = await SessionLog.get(participant=participant)
        assert stored.notes == "logged behind Caddy"
        logged_on = _served_by(stack, push.headers["x-request-id"])

        # Read back through Caddy until the other server has answered.
        other = None
        for _ in range(4):
            seen = await page.request.get(f"{stack.origin}/sessions/{stored.id}")
            assert seen.status == 200 and "logged behind Caddy" in await seen.text()
            if _served_by(stack, seen.headers["x-request-id"]) != logged_on:
                other = seen
                break
        assert other is not None, "round robin never reached the second server"
    finally:
        await context.close()

    # Both servers answered requests, each in its own log.
    assert all(len(stack.app_log(port)) > 0 for port in stack.app_ports)

    # The address is the browser's, never the one it claimed.
    events = await _audit_ips(stack.env["HOMEWARD_DATABASE_URL"])
    by_action = dict(events)
    assert by_action["account.enrolled"] == "127.0.0.1"
    assert by_action["signin"] == "127.0.0.1"
    assert all(ip != FORGED for _, ip in events), events
    assert _limited_addresses() == {"127.0.0.1"}

    checked = stack.cli("check")
    print(checked.stdout)  # shown with -s: what an operator would read
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[-1] == "Everything checked is right."


async def test_only_the_proxy_is_believed_about_the_client_address(stack: Stack) -> None:
    forged = {"X-Forwarded-For": FORGED}
    # Through Caddy from 127.0.0.2: the connection to the app comes from
    # Caddy (127.0.0.1), so 127.0.0.2 can only come from Caddy's header.
    through = httpx.AsyncHTTPTransport(local_address=OUTSIDER, verify=_trust(stack.root_cert))
    async with httpx.AsyncClient(transport=through, base_url=stack.origin) as client:
        page = await client.get("/signin", headers=forged)
        assert page.status_code == 200
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
        assert token is not None
        answer = await client.post(
            "/api/auth/signin/options",
            json={},
            headers={**forged, "origin": stack.origin, "x-csrf-token": token.group(1)},
        )
        assert answer.status_code == 200, answer.text
    assert OUTSIDER in _limited_addresses()

    # Straight to an app server from 127.0.0.2, claiming to be Caddy's client.
    port = stack.app_ports[1]
    direct = httpx.AsyncHTTPTransport(local_address=OUTSIDER)
    async with httpx.AsyncClient(transport=direct, base_url=f"http://127.0.0.1:{port}") as client:
        page = await client.get("/signin", headers={"X-Forwarded-For": "198.51.100.4"})
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
        assert token is not None
        # The cookie is Secure (__Host-): this plain-http client must send it by hand.
        csrf = page.cookies["__Host-homeward_csrf"]
        answer = await client.post(
            "/api/auth/signin/options",
            json={},
            headers={
                "X-Forwarded-For": "198.51.100.4",
                "X-Forwarded-Proto": "https",
                "origin": stack.origin,
                "x-csrf-token": token.group(1),
                "cookie": f"__Host-homeward_csrf={csrf}",
            },
        )
        assert answer.status_code == 200, answer.text
    addresses = _limited_addresses()
    assert "198.51.100.4" not in addresses and FORGED not in addresses
    assert addresses >= {OUTSIDER}
