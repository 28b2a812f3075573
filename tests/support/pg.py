"""Create and drop throwaway PostgreSQL databases for a test run."""

from __future__ import annotations

import graphlib
import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from tortoise.exceptions import BaseORMException

ADMIN_URL = os.environ.get(
    "HOMEWARD_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)


def url_for(name: str) -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def create_database(name: str) -> str:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        # A throwaway database need not survive a crash: a commit then returns
        # without waiting for its WAL to reach the disk, while other
        # connections see it at once as before. Tests commit thousands of
        # times, one after another, each waiting a flush otherwise.
        await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await conn.close()
    return url_for(name)


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


FOREIGN_KEYS = """
SELECT child.relname AS child, parent.relname AS parent
FROM pg_constraint c
JOIN pg_class child ON child.oid = c.conrelid
JOIN pg_class parent ON parent.oid = c.confrelid
JOIN pg_namespace n ON n.oid = child.relnamespace
WHERE c.contype = 'f' AND n.nspname = 'public'
"""
# Every sequence of the schema with the table that owns it (serial or identity).
SEQUENCES = """
SELECT q.oid::regclass::text AS sequence, t.relname AS owner
FROM pg_class q
JOIN pg_depend d ON d.objid = q.oid AND d.refclassid = 'pg_class'::regclass
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_namespace n ON n.oid = q.relnamespace
WHERE q.relkind = 'S' AND n.nspname = 'public'
"""


async def empty_tables(conn: Any, kept: set[str]) -> None:
    """Leave every table but ``kept`` as TRUNCATE ... RESTART IDENTITY would:
    no rows, every sequence back at its start.

    With DELETE, children before parents, and setval: TRUNCATE creates new
    files for each table and its indexes (and, through CASCADE, for every
    table referencing one), which took 0.3 to 1.5 s per test on this
    machine; deleting the few rows a test wrote takes milliseconds. One
    script is one transaction: if it fails (a cycle of foreign keys added
    later), nothing is deleted and TRUNCATE does the work instead.
    """
    _, rows = await conn.execute_query(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    )
    names = {r["tablename"] for r in rows} - kept
    if not names:
        return
    _, edges = await conn.execute_query(FOREIGN_KEYS)
    parents_after: dict[str, set[str]] = {name: set() for name in names}
    for edge in edges:
        child, parent = edge["child"], edge["parent"]
        if child in names and parent in names and child != parent:
            parents_after[parent].add(child)
    _, sequences = await conn.execute_query(SEQUENCES)
    resets = ", ".join(
        f"setval('{s['sequence']}', 1, false)" for s in sequences if s["owner"] in names
    )
    try:
        order = list(graphlib.TopologicalSorter(parents_after).static_order())
        deletes = "".join(f'DELETE FROM "{name}";' for name in order)
        await conn.execute_script(deletes + (f"SELECT {resets};" if resets else ""))
    except (graphlib.CycleError, BaseORMException):  # tortoise wraps the driver's errors
        quoted = ", ".join(f'"{name}"' for name in sorted(names))
        await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
