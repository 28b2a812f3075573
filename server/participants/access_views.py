"""Subject access exports: a readable document and a JSON file."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.access import actor_of, current_user
from server.enums import Role
from server.participants import subject_access
from server.web.templating import render


async def _gather(request: Request) -> dict[str, object]:
    return await subject_access.gather(
        officer=current_user(request),
        participant_id=request.path_params["id"],
        actor=actor_of(request),
    )


@access.allow(Role.OFFICER)
async def export_json(request: Request) -> Response:
    data = await _gather(request)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="subject-access.json"',
        },
    )


@access.allow(Role.OFFICER)
async def export_document(request: Request) -> Response:
    data = await _gather(request)
    # In the participant's language, since the document is for them.
    participant = data["participant"]
    assert isinstance(participant, dict)
    catalogues = request.app.state.catalogues
    language = str(participant["language"])
    reader = i18n.current()
    i18n.activate(
        i18n.Translator(language, catalogues[language], reader.time_zone, reader.territory)
    )
    return render(request, "participants/subject_access.html", {"data": data})


routes: list[BaseRoute] = [
    Route("/participants/{id}/subject-access.json", export_json, name="subject_access_json"),
    Route("/participants/{id}/subject-access", export_document, name="subject_access"),
]
