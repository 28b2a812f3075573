"""Routes of the caseload import: the upload page, the preview, the confirmation."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import uuid
from datetime import date

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.access import actor_of, current_user
from server.enums import Role
from server.i18n import N_
from server.imports import checks, columns, reading, services
from server.participants.forms import Problem
from server.participants.labels import GENDERS
from server.web import now
from server.web.templating import render

POST = ["POST"]
STAFF = (Role.OFFICER, Role.ADMIN)


def _today(request: Request) -> date:
    return now(request).astimezone(i18n.current().tz).date()


@access.allow(*STAFF)
async def import_page(request: Request) -> Response:
    raw = request.query_params.get("imported", "")
    imported = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else 0
    return render(
        request,
        "imports/upload.html",
        {
            "columns": columns.COLUMNS,
            "imported": imported,
            "again": "again" in request.query_params,
            "limits": _limits(),
        },
    )


def _limits() -> dict[str, int]:
    return {"rows": reading.MAX_ROWS, "kilobytes": reading.MAX_BYTES // 1024}


async def _check(
    request: Request, filename: str, content: bytes, *, batch: uuid.UUID | None = None
) -> Response:
    try:
        sheet = reading.read(filename, content)
    except reading.Unreadable as error:
        plan = checks.whole_file(error.problem)
    else:
        plan = await checks.check(
            user=current_user(request),
            sheet=sheet,
            catalogues=request.app.state.catalogues,
            today=_today(request),
            actor=actor_of(request),
        )
    if plan.ok and batch is not None:
        try:
            made = await services.commit(
                user=current_user(request),
                plan=plan,
                batch=batch,
                today=_today(request),
                actor=actor_of(request),
            )
        except services.AlreadyImported:
            return RedirectResponse("/import?again=1", status_code=303)
        return RedirectResponse(f"/import?imported={len(made)}", status_code=303)
    return render(
        request,
        "imports/preview.html",
        {
            "plan": plan,
            "labels": columns.LABELS,
            "genders": GENDERS,
            "filename": filename,
            "content": base64.b64encode(content).decode() if plan.ok else "",
            # Makes the participants' ids: a second confirmation adds nothing.
            "batch": uuid.uuid4().hex,
            "limits": _limits(),
        },
        status=200 if plan.ok else 422,
    )


@access.allow(*STAFF)
async def import_preview(request: Request) -> Response:
    # Closed on leaving: the upload may sit in a temporary file.
    async with request.form() as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await _refuse(request, Problem(N_("Please choose the file to import.")))
        filename = upload.filename[-200:]  # only its ending is read (the kind)
        content = await upload.read(reading.MAX_BYTES + 1)
    return await _check(request, filename, content)


@access.allow(*STAFF)
async def import_confirm(request: Request) -> Response:
    form = await request.form()
    filename = str(form.get("filename", ""))[-200:]
    try:
        content = base64.b64decode(str(form.get("content", "")), validate=True)
        batch = uuid.UUID(str(form.get("batch", "")))
    except (binascii.Error, ValueError):
        content = b""
    if not content or not filename:
        return await _refuse(request, Problem(N_("Please choose the file to import.")))
    return await _check(request, filename, content, batch=batch)


async def _refuse(request: Request, problem: Problem) -> Response:
    return render(
        request,
        "imports/preview.html",
        {
            "plan": checks.whole_file(problem),
            "labels": columns.LABELS,
            "genders": GENDERS,
            "filename": "",
            "content": "",
            "batch": "",
            "limits": _limits(),
        },
        status=422,
    )


@access.allow(*STAFF)
async def import_template(request: Request) -> Response:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([i18n.gettext(column.label) for column in columns.COLUMNS])
    # The byte-order mark makes Excel read the file as UTF-8 (Cyrillic, Arabic).
    body = "\ufeff" + buffer.getvalue()
    return Response(
        body.encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="homeward-caseload.csv"'},
    )


routes: list[BaseRoute] = [
    Route("/import", import_page, name="import"),
    Route("/import/template.csv", import_template, name="import_template"),
    Route("/import/preview", import_preview, methods=POST, name="import_preview"),
    Route("/import/confirm", import_confirm, methods=POST, name="import_confirm"),
]
