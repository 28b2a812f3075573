"""One JSON line per request on the ``homeward.access`` logger.

A line holds only what operations need: when, which route *template*, the
status, how long, which user id and a request id. Never the concrete path
(it carries ids and one-time tokens), the query string, names or note
contents: a log file is copied to places the database never goes.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

ACCESS_LOGGER = "homeward.access"
log = logging.getLogger(ACCESS_LOGGER)


class JsonLineFormatter(logging.Formatter):
    """The record's ``access`` fields as one JSON object; the message otherwise."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] | None = getattr(record, "access", None)
        if fields is None:
            return json.dumps({"time": _iso(record.created), "message": record.getMessage()})
        return json.dumps({"time": _iso(record.created), **fields}, separators=(",", ":"))


def _iso(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


# Libraries whose debug lines carry what people typed: tortoise logs each SQL
# statement with its parameters (names, notes) at DEBUG.
QUIET = ("tortoise", "tortoise.db_client", "aiosqlite", "asyncpg")


def quiet_libraries() -> None:
    """Keep those loggers at INFO or above, even when the root is at DEBUG."""
    for name in QUIET:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.INFO:
            logger.setLevel(logging.INFO)


def configure() -> None:
    """Send access lines to stdout, once per process (called at app start-up).

    Left alone when the logger already has a handler: whoever runs the app
    (a test, a ``logging.config`` file) decides where the lines go.
    """
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLineFormatter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    # uvicorn's own loggers are separate; not propagating keeps a root
    # handler, if someone adds one, from printing each line twice.
    log.propagate = False


def access(
    *,
    method: str,
    route: str,
    status: int,
    duration_ms: float,
    user_id: int | None,
    request_id: str,
) -> None:
    """Write one request's line."""
    if not log.isEnabledFor(logging.INFO):
        return
    fields = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(duration_ms, 2),
        "user": user_id,
        "request_id": request_id,
    }
    log.info("%s %s %s", method, route, status, extra={"access": fields})
