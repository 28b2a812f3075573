"""Reading a request's query string, and building links with one.

Each key is read at most once: a key sent twice (``?log=a&log=b``) is how a
crafted link slips a value past the one the page made, so such a request is
refused whole, before anything reads it. Links are built with ``urlencode``,
never by pasting values, so a value can never turn into another key.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request

from server.errors import AppError
from server.i18n import N_


class RepeatedParameter(AppError):
    status = 400
    code = "repeated_parameter"

    def __init__(self) -> None:
        super().__init__(
            N_("This link gives the same detail more than once. Please open it again from the app.")
        )


def params(request: Request) -> dict[str, str]:
    """The query string as a plain mapping; a repeated key is refused (400)."""
    found: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in found:
            raise RepeatedParameter()
        found[key] = value
    return found


def link(path: str, **values: str) -> str:
    """``path`` with ``values`` as its query string, each properly encoded."""
    given = {key: value for key, value in values.items() if value}
    return f"{path}?{urlencode(given)}" if given else path
