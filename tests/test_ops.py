"""Structured access logs and the /metrics endpoint."""

import dataclasses
import io
import json
import logging
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from server.app import create_app
from server.enums import Role
from server.ops import logs
from server.ops.access import may_read_metrics
from server.settings import Settings
from tests.support import world
from tests.support.web import ORIGIN, signed_in
from tests.test_sync import Phone, setting, values

CANARY_NOTE = "canary-note-3f9d1c"
CANARY_NAME = "Zhanar Canarybekova"
LINE_KEYS = {"time", "method", "route", "status", "duration_ms", "user", "request_id"}
SAMPLE = re.compile(r"^([a-z_]+)(\{.*\})? ([0-9.e+-]+)$")
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


@pytest.fixture
def access_lines() -> Iterator[io.StringIO]:
    """What the access logger writes, as the formatter of production writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonLineFormatter())
    logger = logging.getLogger(logs.ACCESS_LOGGER)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_one_json_line_per_request_without_personal_data(
    app: Starlette, access_lines: io.StringIO
) -> None:
    _, officer, worker, participant = await setting(app)
    participant.full_name = CANARY_NAME
    await participant.save()
    log_id = str(uuid.uuid4())
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        pushed = await phone.push(
            [phone.entry(log_id, values(str(participant.id), notes=CANARY_NOTE))]
        )
        assert pushed.json()["results"][0]["status"] == "stored"
        page = await client.get(f"/sessions/{log_id}?q={CANARY_NOTE}")
        assert CANARY_NOTE in page.text  # the page shows it; the log must not
    async with await signed_in(app, officer) as client:
        record = await client.get(f"/participants/{participant.id}")
        assert CANARY_NAME in record.text
        invitation = await client.get(
            "/enrol/secret-token-value", headers={"x-request-id": "proxy-42"}
        )
    text = access_lines.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 6  # csrf page, key, push, log page, record page, enrol
    assert all(set(line) == LINE_KEYS for line in lines)
    for forbidden in (CANARY_NOTE, CANARY_NAME, log_id, str(participant.id), "secret-token"):
        assert forbidden not in text
    routes = [(line["method"], line["route"], line["status"], line["user"]) for line in lines]
    assert ("POST", "/api/sync/push", 200, worker.id) in routes
    assert ("GET", "/sessions/{id}", 200, worker.id) in routes
    assert ("GET", "/participants/{id}", 200, officer.id) in routes
    assert lines[-1]["route"] == "/enrol/{token}"
    assert lines[-1]["request_id"] == "proxy-42"
    assert invitation.headers["x-request-id"] == "proxy-42"
    assert all(line["time"].endswith("+00:00") and line["duration_ms"] >= 0 for line in lines)
    assert len({line["request_id"] for line in lines[:-1]}) == 5


async def test_unmatched_paths_and_odd_request_ids_stay_out_of_the_log(
    client: httpx.AsyncClient, access_lines: io.StringIO
) -> None:
    response = await client.get(
        "/no/such/place-with-a-token", headers={"x-request-id": "a b\n{injected}"}
    )
    assert response.status_code == 404
    line = json.loads(access_lines.getvalue())
    assert line["route"] == "<unmatched>"
    assert line["user"] is None
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])


def test_logging_is_configured_once_at_start() -> None:
    logger = logging.getLogger(logs.ACCESS_LOGGER)
    saved = logger.handlers[:], logger.propagate, logger.level
    logger.handlers.clear()
    try:
        logs.configure()
        logs.configure()
        assert len(logger.handlers) == 1
        assert isinstance(logger.handlers[0].formatter, logs.JsonLineFormatter)
    finally:
        logger.handlers[:] = saved[0]
        logger.propagate, logger.level = saved[1], saved[2]


def samples(text: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert line.startswith(("# HELP ", "# TYPE ")), line
            continue
        match = SAMPLE.match(line)
        assert match, f"not Prometheus text format: {line!r}"
        # Keyed with the labels in alphabetical order: their order means nothing.
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(LABEL.findall(match[2] or "")))
        found[match[1] + (f"{{{labels}}}" if labels else "")] = float(match[3])
    return found


async def test_metrics_are_for_admins_only(app: Starlette, client: httpx.AsyncClient) -> None:
    org = await world.organisation()
    assert (await client.get("/metrics")).status_code == 404
    for role in (Role.WORKER, Role.OFFICER, Role.FAMILY):
        async with await signed_in(app, await world.user(org, role)) as other:
            assert (await other.get("/metrics")).status_code == 404
    async with await signed_in(app, await world.user(org, Role.ADMIN)) as admin:
        before = samples((await admin.get("/metrics")).text)
        for _ in range(3):
            await admin.get("/api/me")
        response = await admin.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = samples(response.text)
    key = '{method="GET",route="/api/me",status="200"}'
    assert (
        after[f"homeward_http_requests_total{key}"]
        - before.get(f"homeward_http_requests_total{key}", 0)
        == 3
    )
    series = "homeward_http_request_duration_seconds"
    latency = f'{series}_bucket{{le="+Inf",method="GET",route="/api/me"}}'
    count = f'{series}_count{{method="GET",route="/api/me"}}'
    assert after[latency] == after[count] >= 3


async def test_metrics_for_a_listed_network_without_signing_in(settings: Settings) -> None:
    listed = create_app(dataclasses.replace(settings, metrics_networks=("127.0.0.0/8",)))
    elsewhere = create_app(dataclasses.replace(settings, metrics_networks=("10.0.0.0/8",)))
    for application, expected in ((listed, 200), (elsewhere, 404)):
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 5000))
            async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as anonymous:
                assert (await anonymous.get("/metrics")).status_code == expected


async def test_metrics_parse_as_prometheus_and_count_this_app_only(
    app: Starlette, settings: Settings
) -> None:
    # A second app in the same process (as several tests, or a reload): its
    # requests must not show up in this app's counts.
    neighbour = create_app(settings)
    transport = httpx.ASGITransport(app=neighbour)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as other:
        for _ in range(2):
            assert (await other.get("/manifest.webmanifest")).status_code == 200
    admin = await world.user(await world.organisation(), Role.ADMIN)
    async with await signed_in(app, admin) as client:
        for _ in range(3):
            assert (await client.get("/api/me")).status_code == 200
        response = await client.get("/metrics")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    requests = {
        (s.labels["route"], s.labels["method"], s.labels["status"]): s.value
        for s in families["homeward_http_requests"].samples
        if s.name == "homeward_http_requests_total"
    }
    assert requests == {("/api/me", "GET", "200"): 3.0}
    assert families["homeward_http_requests"].type == "counter"
    assert families["homeward_http_request_duration_seconds"].type == "histogram"
    outcomes = {
        s.labels["outcome"]: s.value
        for s in families["homeward_sync_records"].samples
        if s.name == "homeward_sync_records_total"
    }
    assert outcomes == {"stored": 0.0, "already_stored": 0.0, "conflict": 0.0, "rejected": 0.0}


def test_metrics_access_rule() -> None:
    assert may_read_metrics(user=None, client_ip="192.0.2.7", networks=["192.0.2.0/24"])
    assert not may_read_metrics(user=None, client_ip="192.0.3.7", networks=["192.0.2.0/24"])
    assert not may_read_metrics(user=None, client_ip="", networks=["0.0.0.0/0"])
    assert not may_read_metrics(user=None, client_ip="::1", networks=[])


async def test_sync_outcomes_are_counted(app: Starlette) -> None:
    org, _, worker, participant = await setting(app)
    admin = await world.user(org, Role.ADMIN)
    async with await signed_in(app, admin) as reader:
        before = samples((await reader.get("/metrics")).text)
        async with await signed_in(app, worker) as client:
            phone = Phone(client, worker.id)
            await phone.start()
            entry = phone.entry(str(uuid.uuid4()), values(str(participant.id)))
            bad = phone.entry(str(uuid.uuid4()), values(str(participant.id), duration_minutes=-1))
            await phone.push([entry, bad])
            await phone.push([entry])
        after = samples((await reader.get("/metrics")).text)

    def delta(outcome: str) -> float:
        name = f'homeward_sync_records_total{{outcome="{outcome}"}}'
        return after[name] - before[name]

    assert [delta(o) for o in ("stored", "already_stored", "conflict", "rejected")] == [1, 1, 0, 1]
