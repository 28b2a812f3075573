"""The ceilings Homeward's pages are read against, as a separate minimal app.

- ``/plain``: a plain-text Starlette response, no middleware (ceiling A): what
  uvicorn and Starlette alone can serve on this machine.
- ``/template/{language}``: the real home template rendered by
  ``server.templating``'s environment from a fixed context, with no database,
  session or middleware (ceiling B): what rendering alone costs.

It runs under uvicorn with the same settings as ``homeward serve``, so the
difference to the app is the app's own work.
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from server import i18n
from server.settings import LANGUAGES, ROOT
from server.templating import templates

# What ``server.views.home`` adds for a visitor who is not signed in; if the
# view changes, the ceiling's own check fails loudly rather than measuring a 500.
VISITOR_CONTEXT = {"signed_out": False}


async def plain(request: Request) -> Response:
    return PlainTextResponse("Hello, world")


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_app() -> Starlette:
    catalogues = i18n.load_catalogues(ROOT / "locales")
    translators = {code: i18n.Translator(code, catalogues[code]) for code in LANGUAGES}

    async def template(request: Request) -> Response:
        i18n.activate(translators[request.path_params["language"]])
        # The app's own context processors fill the context, so the ceiling
        # keeps up as the templates grow; with no middleware there is no
        # user, nonce or CSRF token, so that context is the same every time.
        return templates.TemplateResponse(request, "home.html", VISITOR_CONTEXT)

    return Starlette(
        routes=[
            Route("/plain", plain),
            Route("/template/{language}", template),
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
