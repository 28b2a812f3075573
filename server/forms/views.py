"""The form definitions as JSON, in the reader's language (or ``?lang=``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.enums import Role
from server.forms.schema import all_forms_schema
from server.settings import LANGUAGES


@access.allow(Role.WORKER, Role.OFFICER)
async def forms_json(request: Request) -> Response:
    translator = i18n.current()
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES and asked != translator.language:
        catalogues = request.app.state.catalogues
        translator = i18n.Translator(asked, catalogues[asked], translator.time_zone)
    return JSONResponse(
        all_forms_schema(translator), headers={"Content-Language": translator.language}
    )


routes: list[BaseRoute] = [Route("/api/forms", forms_json, name="forms_json")]
