"""One family of errors, one way to show them.

Services raise ``AppError`` subclasses with a translatable message; the
handlers below turn them into a translated page (``errors/{status}.html``)
or a JSON body when JSON was asked for. Unexpected exceptions are logged and
shown as a plain 500 page, never echoed.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from server import i18n
from server.i18n import N_

log = logging.getLogger("homeward.errors")

ERROR_STATUSES = (400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429, 500, 503)

# What a person reads when a bare HTTP error reaches them.
DEFAULT_MESSAGES = {
    400: N_("The request could not be understood. Please try again."),
    403: N_("This action is not allowed."),
    404: N_("This page does not exist or you do not have access to it."),
    405: N_("This action is not possible on this page."),
    409: N_("This record was changed by someone else."),
    413: N_("What you sent is too large."),
    415: N_("This kind of content is not accepted here."),
    422: N_("Some information is missing or not valid."),
    429: N_("Too many attempts. Please wait a moment and try again."),
    500: N_("Something went wrong on our side. What you saved is safe."),
    503: N_("The service is not available right now. Please try again later."),
}


class AppError(Exception):
    """A domain error with an HTTP status and a translatable message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str | None = None, *, code: str | None = None, **params: Any):
        self.message = message or DEFAULT_MESSAGES.get(self.status, DEFAULT_MESSAGES[400])
        self.params = params
        if code:
            self.code = code
        super().__init__(self.message)

    def translated(self) -> str:
        return i18n.gettext(self.message, **self.params)


class NotFound(AppError):
    status = 404
    code = "not_found"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Invalid(AppError):
    status = 422
    code = "invalid"


class TooLarge(AppError):
    status = 413
    code = "too_large"


class TooManyRequests(AppError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int, message: str | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Unauthenticated(AppError):
    status = 401
    code = "sign_in_required"

    def __init__(self, message: str | None = None):
        super().__init__(message or N_("Please sign in with your passkey."))


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


async def render_error(
    request: Request, status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> Response:
    from server.web.templating import render  # late: templating imports settings of the app

    if wants_json(request):
        response: Response = JSONResponse(
            {"error": {"code": code, "message": message}}, status_code=status, headers=headers
        )
    else:
        template = f"errors/{status if status in ERROR_STATUSES else 400}.html"
        response = render(request, template, {"message": message, "status": status}, status=status)
        for key, value in (headers or {}).items():
            response.headers[key] = value
    return response


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if isinstance(exc, Unauthenticated) and not wants_json(request):
        from starlette.responses import RedirectResponse

        return RedirectResponse("/signin", status_code=303)
    headers = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    return await render_error(request, exc.status, exc.translated(), exc.code, headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = i18n.gettext(DEFAULT_MESSAGES.get(exc.status_code, DEFAULT_MESSAGES[400]))
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return await render_error(request, exc.status_code, message, code, dict(exc.headers or {}))


MAX_FRAMES = 25  # a bounded stack: where it failed, not a 200 KB dump


def log_unhandled(scope: Scope, exc: BaseException, request_id: str = "") -> None:
    """One bounded line for an unexpected error, with nothing anyone sent.

    Not the concrete path (it carries invitation, recovery and calendar
    tokens) but the route's template; not the exception's message (it may
    repeat a name, a note or a token the request held, and a database error
    quotes the values it refused) but its kind and the frames it passed
    through, as file:line, innermost first, with the kinds of its causes.
    """
    from server.ops.middleware import route_template  # late: it imports this module

    frames = traceback.extract_tb(exc.__traceback__)[-MAX_FRAMES:]
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames))
    kinds, cause = [type(exc).__name__], exc.__cause__ or exc.__context__
    while cause is not None and len(kinds) < 5:
        kinds.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    log.error(
        "unhandled %s on %s %s (request %s) at %s",
        " from ".join(kinds),
        scope.get("method", ""),
        route_template(scope),
        request_id or "-",
        where,
    )


async def server_error(request: Request, exc: Exception) -> Response:
    # Runs outside the security middleware (Starlette's ServerErrorMiddleware
    # is outermost), so the headers are applied here as well. Errors inside
    # the app are answered earlier, by the observability middleware, so that
    # Starlette never re-raises them to the server's own (unbounded) log.
    from server.web.security import apply_security_headers

    log_unhandled(request.scope, exc)
    return await server_error_response(request, apply_headers=apply_security_headers)


async def server_error_response(request: Request, apply_headers: Any = None) -> Response:
    """The translated 500 page (or JSON): it never shows the error itself."""
    response = await render_error(request, 500, i18n.gettext(DEFAULT_MESSAGES[500]), "server_error")
    if apply_headers is not None:
        apply_headers(request.scope, response.headers)
    return response


EXCEPTION_HANDLERS = {
    AppError: app_error,
    HTTPException: http_error,
    Exception: server_error,
}
