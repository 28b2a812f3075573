"""The ceilings Homeward's pages are read against, as a separate minimal app.

- ``/plain``: a plain-text Starlette response, no middleware (ceiling A): what
  uvicorn and Starlette alone can serve on this machine.
- ``/template/{language}``: the real home template rendered by
  ``server.templating``'s environment from a fixed context, with no database,
  session or middleware (ceiling B): what rendering alone costs.
- ``/form/{language}``: the same for the family session form page
  (``forms/session.html``), the form page's ceiling B: its context is made
  once per language at start by the app's own ``form_context``, for a
  signed-in worker (an unsaved ``User``) and one participant, as
  ``server.sessions.views`` makes it for each request.

It runs under uvicorn with the same settings as ``homeward serve``, so the
difference to the app is the app's own work.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from server import i18n
from server.accounts.models import User
from server.enums import Pillar, Role
from server.forms import form_context, latest_form
from server.settings import LANGUAGES, ROOT
from server.templating import templates

# What ``server.views.home`` adds for a visitor who is not signed in; if the
# view changes, the ceiling's own check fails loudly rather than measuring a 500.
VISITOR_CONTEXT = {"signed_out": False}

# The form page's fixed request: a participant and a worker that exist nowhere.
FORM_PILLAR = Pillar.FAMILY
FORM_PARTICIPANT = ("6f1d2c4e-8a3b-4c5d-9e7f-0a1b2c3d4e5f", "UG-7Q2K9D")
FORM_LOG_ID = "0c9b8a7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
FORM_WORKER = "Worker 4f2a"
# What the app's middleware puts in the request state, fixed here.
FORM_STATE = {"csp_nonce": "bench-nonce-0123456789", "csrf_token": "bench-csrf-" + "x" * 32}


def form_contexts(translators: dict[str, i18n.Translator]) -> dict[str, dict[str, Any]]:
    """Per language, what ``server.sessions.views`` renders the family form page from."""
    form = latest_form(FORM_PILLAR)
    participant_id = FORM_PARTICIPANT[0]
    contexts = {}
    for language, translator in translators.items():
        context = form_context(
            form,
            participants=[FORM_PARTICIPANT],
            user_name=FORM_WORKER,
            action=f"/log/{participant_id}/{FORM_PILLAR.value}?log={FORM_LOG_ID}",
            translator=translator,
        )
        if not context["values"].get("participant"):
            context["values"]["participant"] = participant_id
        contexts[language] = context
    return contexts


async def plain(request: Request) -> Response:
    return PlainTextResponse("Hello, world")


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_app() -> Starlette:
    catalogues = i18n.load_catalogues(ROOT / "locales")
    translators = {code: i18n.Translator(code, catalogues[code]) for code in LANGUAGES}

    forms = form_contexts(translators)
    workers = {
        code: User(name=FORM_WORKER, role=Role.WORKER, language=code, time_zone="Africa/Kampala")
        for code in LANGUAGES
    }

    async def template(request: Request) -> Response:
        i18n.activate(translators[request.path_params["language"]])
        # The app's own context processors fill the context, so the ceiling
        # keeps up as the templates grow; with no middleware there is no
        # user, nonce or CSRF token, so that context is the same every time.
        # A copy each time, as a view makes a new one: Starlette adds to it.
        return templates.TemplateResponse(request, "home.html", dict(VISITOR_CONTEXT))

    async def form(request: Request) -> Response:
        language = request.path_params["language"]
        i18n.activate(translators[language])
        # Read by the context processors, as the app's middleware would set them.
        request.scope.setdefault("state", {}).update(FORM_STATE, user=workers[language])
        return templates.TemplateResponse(request, "forms/session.html", dict(forms[language]))

    return Starlette(
        routes=[
            Route("/plain", plain),
            Route("/template/{language}", template),
            Route("/form/{language}", form),
            Route("/healthz", healthz),
        ]
    )


def main() -> None:
    top = argparse.ArgumentParser(description=__doc__)
    top.add_argument("--port", type=int, required=True)
    args = top.parse_args()
    # The same arguments as server.cli.cmd_serve, access log included.
    uvicorn.run(
        "bench.ceiling_app:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        proxy_headers=True,
        server_header=False,
        log_level="info",
    )


if __name__ == "__main__":
    main()
