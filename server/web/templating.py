"""Jinja2 rendering with the request's language, nonce and static URLs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from server import i18n
from server.settings import ROOT

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = ROOT / "static"
PWA_DIR = ROOT / "pwa"


@cache
def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """A URL that changes whenever the file does, so it can be cached for a year."""
    return f"/static/{name}?v={file_hash(STATIC_DIR / name)}"


def pwa_url(name: str) -> str:
    return f"/pwa/{name}?v={file_hash(PWA_DIR / name)}"


def participant_code(code: str) -> Markup:
    """A participant's code, isolated left to right and never broken over two
    lines (static/app.css ``.code``): in Arabic "TN-5V5FEA" stays one word."""
    return Markup('<bdi dir="ltr" class="code" translate="no">%s</bdi>') % code


def bidi(text: str) -> Markup:
    """Free text (a name, a place) isolated, so that Latin and Arabic around
    it keep their order."""
    return Markup("<bdi>%s</bdi>") % text


def bidi_list(items: Iterable[str], style: str = "standard") -> Markup:
    """Names as one list in the reader's language ("A, B и C", "A وB وC"),
    each isolated in a <bdi>."""
    marked = [bidi(item) for item in items]
    slots = [f"\x00{index}\x00" for index in range(len(marked))]
    joined = str(escape(i18n.current().join(slots, style)))
    for slot, item in zip(slots, marked, strict=True):
        joined = joined.replace(slot, item)
    # Safe: every part was escaped above (the items by bidi(), the CLDR
    # pattern around them by escape()).
    return Markup(joined)  # noqa: S704


def _context(request: Request) -> dict[str, Any]:
    translator = i18n.current()
    state = request.scope.get("state", {})
    return {
        "t": translator,
        "lang": translator.language,
        "dir": translator.direction,
        "languages": i18n.language_names(),
        "nonce": state.get("csp_nonce", ""),
        "user": state.get("user"),
        "csrf_token": state.get("csrf_token", ""),
    }


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Translation callables read the current request's language from a
    # context variable, so one shared environment serves every language.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.raw_gettext,
        ngettext=i18n.raw_ngettext,
        pgettext=i18n.raw_pgettext,
        newstyle=True,
    )
    env.globals.update(
        static_url=static_url,
        pwa_url=pwa_url,
        participant_code=participant_code,
        bidi=bidi,
        bidi_list=bidi_list,
    )
    return env


templates = Jinja2Templates(env=_environment(), context_processors=[_context])


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context or {}, status_code=status)
    response.headers["Content-Language"] = i18n.current().language
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response
