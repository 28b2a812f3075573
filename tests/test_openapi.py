"""The API description a partner writes a client from (server/sync/openapi.py,
docs/client.md): valid OpenAPI 3.0, complete, and its worked example true."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import replace

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR
from starlette.routing import Mount, Route

from server.app import create_app
from server.settings import ROOT, Settings
from server.sync.keys import KeyRing, SealingKey, _kid
from server.sync.openapi import schema
from server.sync.sealing import unseal

CLIENT_DOC = ROOT / "docs" / "client.md"
INDEPENDENT_CLIENT = ROOT / "tests" / "independent_client"


def test_the_document_is_valid_openapi_3_0() -> None:
    # The OpenAPI Initiative's own JSON Schema for 3.0 documents, as
    # schemathesis ships it, run by jsonschema-rs.
    for origin in ("http://localhost:8000", "https://homeward.example.org"):
        errors = [error.message for error in OPENAPI_30_VALIDATOR.iter_errors(schema(origin))]
        assert errors == []


def test_every_reference_points_at_a_schema() -> None:
    document = schema()
    text = json.dumps(document)
    names = set(re.findall(r'"#/components/schemas/([A-Za-z]+)"', text))
    assert names <= set(document["components"]["schemas"])
    assert {"Sealed", "SessionLogContent", "AppointmentResponseContent"} <= set(
        document["components"]["schemas"]
    )


def test_every_api_route_is_described_and_nothing_else(settings: Settings) -> None:
    app = create_app(settings)
    routes = {
        (route.path, method)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert not [r for r in app.routes if isinstance(r, Mount) and r.path.startswith("/api")]
    described = {
        (path, method.upper())
        for path, operations in schema()["paths"].items()
        for method in operations
    }
    assert routes <= described, routes - described
    every_route = {
        (route.path, method)
        for route in app.routes
        if isinstance(route, Route)
        for method in (route.methods or set())
    }
    assert described <= every_route, described - every_route


async def test_the_served_document_names_this_servers_origin_and_cookies(
    settings: Settings,
) -> None:
    for origin, session, csrf in (
        ("https://homeward.example.org", "__Host-homeward", "__Host-homeward_csrf"),
        ("http://localhost:8123", "homeward_session", "homeward_csrf"),
    ):
        app = create_app(replace(settings, origin=origin))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=origin) as http:
            response = await http.get("/api/openapi.json")
        assert response.status_code == 200
        document = response.json()
        schemes = document["components"]["securitySchemes"]
        assert schemes["session"]["name"] == session
        assert schemes["csrfCookie"]["name"] == csrf
        assert document["servers"] == [{"url": origin}]
        assert document["components"]["parameters"]["Origin"]["schema"]["enum"] == [origin]


def _doc_value(name: str) -> str:
    found = re.search(rf"^ *{name} += (\S+)$", CLIENT_DOC.read_text(), re.MULTILINE)
    assert found, name
    return found.group(1)


def test_the_worked_sealing_example_opens_with_the_servers_code() -> None:
    text = CLIENT_DOC.read_text()
    scalar = int(re.search(r"^ +d = ([0-9a-f]{64})$", text, re.MULTILINE).group(1), 16)  # type: ignore[union-attr]
    private = ec.derive_private_key(scalar, ec.SECP256R1())
    key = SealingKey(_kid(private), private)
    assert key.kid == _doc_value("kid") == "110a445980e5a3ce"
    assert key.public_spki() == _doc_value("spki")
    sealed = json.loads(re.search(r'```json\n(\{"kid": "110a.*?\})\n```', text, re.DOTALL).group(1))  # type: ignore[union-attr]
    plaintext = re.search(r"^    (\{\"author\": 42.*\})$", text, re.MULTILINE).group(1)  # type: ignore[union-attr]
    ring = KeyRing({key.kid: key}, key)
    opened = unseal(sealed, record_id=_doc_value("AAD"), ring=ring)
    assert opened == json.loads(plaintext)
    assert len(plaintext.encode()) == 292


def test_the_independent_client_imports_nothing_of_the_app() -> None:
    for path in sorted(INDEPENDENT_CLIENT.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top != "server", f"{path.name} imports {name}"
                assert not name.startswith("tests.") or name.startswith(
                    "tests.independent_client"
                ), f"{path.name} imports {name}"
    assert len(list(INDEPENDENT_CLIENT.glob("*.py"))) == 4
