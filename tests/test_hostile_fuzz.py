"""The JSON API fuzzed from its own OpenAPI description (schemathesis).

Hypothesis drives plain synchronous tests, so the real app (lifespan, ORM,
a signed-in worker) lives on an event loop of its own in a background thread
and each generated request is handed to it. Whatever arrives, the answer is
never a 5xx and every error has the documented shape.
"""

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette

from server.accounts import sessions
from server.app import create_app
from server.enums import Role
from server.settings import Settings
from server.sync.openapi import schema as openapi_schema
from tests.conftest import _empty_tables
from tests.support import world
from tests.support.web import ORIGIN, csrf_token

T = TypeVar("T")
# Conformance to the description; authentication is tested route by route
# elsewhere (tests/test_routes_policy.py), so schemathesis' auth probes are not run.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SCHEMA = schemathesis.openapi.from_dict(openapi_schema())
# The JSON API; not the "pages" a client reads its CSRF token from or signs
# out with (HTML and redirects; signing out would end the fuzzing session),
# nor the document itself ("meta": no input at all, nothing to negate).
OPERATIONS = [
    (path, method.upper())
    for path, methods in openapi_schema()["paths"].items()
    for method, operation in methods.items()
    if not {"pages", "meta"} & set(operation.get("tags", []))
]


class AppThread:
    """The app and a signed-in worker's client, on a loop in another thread."""

    def __init__(self, app_settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.app: Starlette = create_app(app_settings)
        self.lifespan = self.app.router.lifespan_context(self.app)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, raise_app_exceptions=False),
            base_url=ORIGIN,
        )
        self.csrf = ""

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=60)

    async def start(self) -> None:
        await self.lifespan.__aenter__()
        await _empty_tables()
        org = await world.organisation()
        officer = await world.user(org, Role.OFFICER)
        worker = await world.user(org, Role.WORKER)
        participant = await world.participant(org, officer)
        await participant.workers.add(worker)
        started = await sessions.start(
            user=worker, now=datetime.now(UTC), ip="127.0.0.1", device="fuzz"
        )
        self.client.cookies.set("homeward_session", started.token)
        self.csrf = await csrf_token(self.client)

    async def stop(self) -> None:
        await self.client.aclose()
        await self.lifespan.__aexit__(None, None, None)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def app_thread(settings: Settings) -> Iterator[AppThread]:
    running = AppThread(settings)
    running.run(running.start())
    yield running
    running.run(running.stop())
    running.close()


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert isinstance(body["error"]["code"], str) and body["error"]["code"]
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_the_api_never_fails_and_always_answers_in_shape(
    app_thread: AppThread, path: str, method: str, mode: GenerationMode
) -> None:
    operation = SCHEMA[path][method]

    @settings(
        max_examples=50,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases on every run: a red build is reproducible
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url=ORIGIN)
        headers = {
            **(kwargs.get("headers") or {}),
            "origin": ORIGIN,
            "x-csrf-token": app_thread.csrf,
        }
        data = kwargs.get("data")
        raw = isinstance(data, bytes | str)  # a negative case's body that is not a form
        request = app_thread.client.build_request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params"),
            headers=headers,
            content=data if raw else kwargs.get("content"),
            json=kwargs.get("json"),
            data=None if raw else data,
        )
        response = app_thread.run(app_thread.client.send(request))
        check(response)
        case.validate_response(response, checks=CHECKS)

    fuzz()
