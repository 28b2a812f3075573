"""Fixtures: a real database (SQLite file or PostgreSQL), the real app with its
lifespan, and a real server with Chromium for browser tests.

``HOMEWARD_TEST_DB`` picks the database: ``sqlite`` (default) or ``postgres``
(at ``HOMEWARD_TEST_POSTGRES_URL``); each run creates and drops its own.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as redis
from playwright.async_api import Browser, Page, async_playwright
from starlette.applications import Starlette
from tortoise import Tortoise, connections

from server import db
from server.app import create_app
from server.audit import keys as audit_keys
from server.settings import Settings
from tests.support import browser as browser_support
from tests.support import live, parts, pg

BACKEND = os.environ.get("HOMEWARD_TEST_DB", "sqlite")
TABLES_KEPT = {"tortoise_migrations"}

# The browser tests' live server keeps its rate limits in Redis, so each test
# can start with none spent: in memory, the enrolments of earlier tests in the
# same minute would make a later one meet "Too many attempts". One database
# per backend, since `make test` runs both side by side.
LIVE_REDIS_URL = os.environ.get(
    "HOMEWARD_TEST_LIVE_REDIS_URL",
    f"redis://127.0.0.1:6379/{11 if BACKEND == 'sqlite' else 12}",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Only this run's part of the suite when `make test` splits it
    (tests/support/parts.py); every test otherwise."""
    parts.select(config, items)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("homeward-data")


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> Iterator[str]:
    if BACKEND == "postgres":
        name = f"homeward_test_{secrets.token_hex(4)}"
        url = asyncio.run(pg.create_database(name))
        asyncio.run(db.migrate(url))
        yield url
        asyncio.run(pg.drop_database(name))
    else:
        url = f"sqlite://{data_dir / 'test.sqlite3'}"
        # `make mutate` migrates one database and each mutant's session
        # copies it: migrating took most of a mutant's time.
        template = os.environ.get("HOMEWARD_TEST_SQLITE_TEMPLATE")
        if template:
            shutil.copy(template, data_dir / "test.sqlite3")
        else:
            asyncio.run(db.migrate(url))
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, data_dir: Path) -> Settings:
    return Settings.from_env(
        {
            "HOMEWARD_DATA_DIR": str(data_dir),
            "HOMEWARD_DATABASE_URL": database_url,
            "HOMEWARD_SECRET_KEY": "test-secret-key-not-for-production",
            "HOMEWARD_ORIGIN": "http://localhost:8000",
        }
    )


async def _empty_tables() -> None:
    conn = connections.get("default")
    if BACKEND == "postgres":
        await pg.empty_tables(conn, TABLES_KEPT)
    else:
        _, rows = await conn.execute_query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        script = "".join(
            f'DELETE FROM "{r["name"]}";' for r in rows if r["name"] not in TABLES_KEPT
        )
        # One transaction: one commit instead of one per table.
        await conn.execute_script(f"BEGIN;{script}DELETE FROM sqlite_sequence;COMMIT;")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """The real app, lifespan running, on an empty database."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await _empty_tables()
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://localhost:8000", follow_redirects=False
    ) as http:
        yield http


@pytest.fixture
async def orm(settings: Settings) -> AsyncIterator[None]:
    """The ORM alone, for service tests that need no HTTP."""
    audit_keys.install(audit_keys.load(settings))
    await Tortoise.init(config=db.tortoise_config(settings.database_url))
    await _empty_tables()
    yield
    await Tortoise.close_connections()


@pytest.fixture(scope="session")
def live_server(settings: Settings, data_dir: Path) -> Iterator[live.LiveServer]:
    """The app under uvicorn, on the same database as the other fixtures."""
    server = live.start(
        {
            "HOMEWARD_DATA_DIR": str(data_dir),
            "HOMEWARD_DATABASE_URL": settings.database_url,
            "HOMEWARD_SECRET_KEY": "test-secret-key-not-for-production",
            "HOMEWARD_REDIS_URL": LIVE_REDIS_URL,
        }
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not browser_support.available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required in CI but missing at {browser_support.CHROMIUM}")
        pytest.skip("Chromium is not installed here")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=browser_support.CHROMIUM, args=browser_support.ARGS, headless=True
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(
    browser: Browser, live_server: live.LiveServer, app: Starlette
) -> AsyncIterator[Page]:
    """A fresh browser context on the live server; the ``app`` fixture empties the
    database, and the server's rate limits start with nothing spent."""
    limits = redis.Redis.from_url(LIVE_REDIS_URL)
    await limits.flushdb()
    await limits.aclose()
    context = await browser.new_context(base_url=live_server.url)
    new_page = await context.new_page()
    yield new_page
    await context.close()
