"""Enrolment, sign-in, sign-out and the user's own account page."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from server import access
from server.access import actor_of, current_user
from server.accounts import passkeys, services, sessions
from server.accounts.cookies import (
    CEREMONY_COOKIE,
    clear_cookie,
    request_cookies,
    session_cookie,
    set_cookie,
)
from server.accounts.models import Passkey, User
from server.errors import Invalid
from server.i18n import N_
from server.ratelimit import ENROL_PER_IP, SIGNIN_PER_ACCOUNT, SIGNIN_PER_IP
from server.settings import LANGUAGES
from server.web import client_ip, json_body, limiter, now, relying_party, settings_of
from server.web.locale_middleware import country_of, remember_language, speak
from server.web.templating import render


def _ceremony_response(ceremony: passkeys.Ceremony, request: Request) -> Response:
    response = Response(ceremony.options_json, media_type="application/json")
    set_cookie(response, settings_of(request), CEREMONY_COOKIE, ceremony.ceremony_token, 300)
    return response


async def _signed_in(
    request: Request, user: User, credential: dict[str, Any], redirect: str = "/"
) -> Response:
    """Start a fresh session (new token every time) and answer the script.

    The session remembers the (verified) passkey that opened it.
    """
    settings = settings_of(request)
    old = request.state.session_token
    if old:
        await sessions.end(token=old)
    started = await sessions.start(
        user=user,
        now=now(request),
        ip=client_ip(request),
        device=request.headers.get("user-agent", ""),
        passkey_id=await passkeys.passkey_id(user=user, credential=credential),
    )
    response = JSONResponse({"ok": True, "redirect": redirect})
    set_cookie(response, settings, session_cookie(settings), started.token, None)
    clear_cookie(response, settings, CEREMONY_COOKIE)
    remember_language(response, settings, user.language)
    return response


@access.public
async def signin_page(request: Request) -> Response:
    if request.state.user is not None:
        return RedirectResponse("/", status_code=303)
    return render(request, "accounts/signin.html")


@access.public
async def signin_options(request: Request) -> Response:
    await limiter(request).hit(SIGNIN_PER_IP, "signin-ip", client_ip(request))
    ceremony = await passkeys.begin_signin(rp=relying_party(request), now=now(request))
    return _ceremony_response(ceremony, request)


@access.public
async def signin_verify(request: Request) -> Response:
    # Counted before the body is read: parsing is the costly part of a flood.
    await limiter(request).hit(SIGNIN_PER_IP, "signin-ip", client_ip(request))
    data = await json_body(request)
    credential = _credential(data)
    await limiter(request).hit(
        SIGNIN_PER_ACCOUNT, "signin-account", passkeys.credential_key(credential) or "-"
    )
    user = await passkeys.finish_signin(
        rp=relying_party(request),
        ceremony_token=request_cookies(request.scope).get(CEREMONY_COOKIE, ""),
        credential=credential,
        now=now(request),
        actor=actor_of(request),
    )
    return await _signed_in(request, user, credential)


@access.public
async def enrol_page(request: Request) -> Response:
    invitation = await passkeys.usable_invitation(
        token=request.path_params["token"], now=now(request)
    )
    # The invitation names its person's language: a Kazakh invitation opened
    # on a Russian phone is in Kazakh. A language picked on this page wins.
    chosen = request.query_params.get("lang", "")
    speak(
        request,
        chosen if chosen in LANGUAGES else invitation.language,
        str(invitation.organisation.country.value),
    )
    return render(request, "accounts/enrol.html", {"invitation": invitation})


@access.public
async def enrol_options(request: Request) -> Response:
    await limiter(request).hit(ENROL_PER_IP, "enrol-ip", client_ip(request))
    # Counted above before anything is looked up: a refusal below is audited,
    # and this limit is what keeps one address from filling the trail.
    ceremony = await passkeys.begin_enrolment(
        rp=relying_party(request),
        token=request.path_params["token"],
        now=now(request),
        actor=actor_of(request),
    )
    return _ceremony_response(ceremony, request)


@access.public
async def enrol_verify(request: Request) -> Response:
    await limiter(request).hit(ENROL_PER_IP, "enrol-ip", client_ip(request))
    data = await json_body(request)
    language = str(data.get("language", ""))
    if language not in LANGUAGES:
        raise Invalid(N_("Please choose one of the languages offered."))
    credential = _credential(data)
    user = await passkeys.finish_enrolment(
        rp=relying_party(request),
        token=request.path_params["token"],
        ceremony_token=request_cookies(request.scope).get(CEREMONY_COOKIE, ""),
        credential=credential,
        language=language,
        passkey_name=str(data.get("name", ""))[:100],
        now=now(request),
        actor=actor_of(request),
    )
    return await _signed_in(request, user, credential)


@access.signed_in
async def signout(request: Request) -> Response:
    settings = settings_of(request)
    token = request.state.session_token
    if token:
        await sessions.end(token=token)
    await services.record_signout(actor=actor_of(request))
    response = RedirectResponse("/?signed_out=1", status_code=303)
    clear_cookie(response, settings, session_cookie(settings))
    # Tells the page's scripts (and the service worker) to wipe this user's
    # cached data from the phone.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@access.signed_in
async def account_page(request: Request) -> Response:
    user = current_user(request)
    keys = await Passkey.filter(user=user, revoked_at=None).order_by("created_at")
    return render(request, "accounts/account.html", {"passkeys": keys})


@access.signed_in
async def add_passkey_options(request: Request) -> Response:
    ceremony = await passkeys.begin_adding(
        rp=relying_party(request), user=current_user(request), now=now(request)
    )
    return _ceremony_response(ceremony, request)


@access.signed_in
async def add_passkey_verify(request: Request) -> Response:
    data = await json_body(request)
    await passkeys.finish_adding(
        rp=relying_party(request),
        user=current_user(request),
        ceremony_token=request_cookies(request.scope).get(CEREMONY_COOKIE, ""),
        credential=_credential(data),
        passkey_name=str(data.get("name", ""))[:100],
        now=now(request),
        actor=actor_of(request),
    )
    response = JSONResponse({"ok": True, "redirect": "/account"})
    clear_cookie(response, settings_of(request), CEREMONY_COOKIE)
    return response


@access.signed_in
async def rename_passkey(request: Request) -> Response:
    form = await request.form()
    await services.rename_passkey(
        user=current_user(request),
        passkey_id=_int(request.path_params["passkey_id"]),
        name=str(form.get("name", "")),
        actor=actor_of(request),
    )
    return RedirectResponse("/account", status_code=303)


@access.signed_in
async def remove_passkey(request: Request) -> Response:
    await services.remove_passkey(
        user=current_user(request),
        passkey_id=_int(request.path_params["passkey_id"]),
        now=now(request),
        actor=actor_of(request),
    )
    return RedirectResponse("/account", status_code=303)


@access.signed_in
async def account_language(request: Request) -> Response:
    form = await request.form()
    await services.set_language(
        user=current_user(request),
        language=str(form.get("language", "")),
        actor=actor_of(request),
    )
    target = str(form.get("next", "/account"))
    if not target.startswith("/") or target.startswith("//"):
        target = "/account"
    response = RedirectResponse(target, status_code=303)
    remember_language(response, settings_of(request), current_user(request).language)
    return response


def _credential(data: dict[str, Any]) -> dict[str, Any]:
    credential = data.get("credential")
    if not isinstance(credential, dict):
        raise Invalid(N_("The request could not be understood. Please try again."))
    return credential


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise Invalid() from error


@access.signed_in
async def me(request: Request) -> Response:
    """Who is signed in, for the offline client (it seals entries in their name)."""
    user = current_user(request)
    return JSONResponse(
        {
            "id": user.id,
            "name": user.name,
            "role": user.role.value,
            "language": user.language,
            "time_zone": user.time_zone,
            # How dates are written offline (pwa/dates.js): "TN" gives ar_TN.
            "country": country_of(user),
        }
    )
