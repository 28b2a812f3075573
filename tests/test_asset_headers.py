"""Which headers each kind of response carries (server/web/security.py).

Phones pay for every byte of a first visit, and headers were half of it: a
page's whole policy went on each of some forty files. Each test writes the
full header set it expects by hand, so a header added or lost anywhere shows.
"""

from __future__ import annotations

import re

import httpx

from server.pwa import shell
from server.web.templating import pwa_url, static_url

# Present on every response, whatever it is.
ALWAYS = {"x-content-type-options": "nosniff", "cross-origin-resource-policy": "same-origin"}
# A policy under which a file opened in a tab loads and runs nothing.
NOTHING = "default-src 'none'; frame-ancestors 'none'"
# Headers that vary per response or are the transport's, compared apart.
VOLATILE = {"date", "etag", "content-length", "set-cookie", "x-request-id"}
ANONYMOUS_CSRF = "homeward_csrf=" + "c" * 43  # as the first page would have set


def _fixed(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in VOLATILE}


async def test_a_module_carries_only_what_acts_on_a_script(client: httpx.AsyncClient) -> None:
    answer = await client.get(
        "/pwa/i18n.js",
        headers={"accept-encoding": "gzip", "accept-language": "ar", "cookie": ANONYMOUS_CSRF},
    )
    assert answer.status_code == 200
    assert _fixed(answer) == {
        **ALWAYS,
        "content-type": "text/javascript; charset=utf-8",
        "content-encoding": "gzip",
        "cache-control": "no-cache",  # not versioned: revalidated
        "vary": "Accept-Encoding",  # once, and never the language or cookie
    }
    assert "set-cookie" not in answer.headers and "x-request-id" not in answer.headers
    assert re.fullmatch(r'"[0-9a-f]{32}"', answer.headers["etag"])


async def test_a_versioned_stylesheet_is_immutable_with_the_same_short_set(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get(
        static_url("app.css"), headers={"accept-encoding": "gzip", "cookie": ANONYMOUS_CSRF}
    )
    assert _fixed(answer) == {
        **ALWAYS,
        "content-type": "text/css; charset=utf-8",
        "content-encoding": "gzip",
        "cache-control": "public, max-age=31536000, immutable",
        "vary": "Accept-Encoding",
    }


async def test_an_icon_that_could_be_opened_as_a_document_runs_nothing(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get(static_url("icons/calendar.svg"), headers={"cookie": ANONYMOUS_CSRF})
    assert _fixed(answer) == {
        **ALWAYS,
        "content-type": "image/svg+xml",
        "cache-control": "public, max-age=31536000, immutable",
        "vary": "Accept-Encoding",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "x-frame-options": "DENY",
    }


async def test_an_assets_304_carries_no_policy(client: httpx.AsyncClient) -> None:
    first = await client.get("/static/icons/calendar.svg", headers={"cookie": ANONYMOUS_CSRF})
    again = await client.get(
        "/static/icons/calendar.svg",
        headers={"if-none-match": first.headers["etag"], "cookie": ANONYMOUS_CSRF},
    )
    assert again.status_code == 304
    assert _fixed(again) == {**ALWAYS, "cache-control": "no-cache", "vary": "Accept-Encoding"}


async def test_data_gets_the_policy_that_loads_nothing(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/i18n/fr.json", "/manifest.webmanifest?lang=fr"):
        answer = await client.get(path, headers={"cookie": ANONYMOUS_CSRF})
        assert answer.status_code == 200, path
        assert answer.headers["content-security-policy"] == NOTHING, path
        assert answer.headers["x-frame-options"] == "DENY", path
        for page_only in ("referrer-policy", "cross-origin-opener-policy", "permissions-policy"):
            assert page_only not in answer.headers, (path, page_only)
        # The request id stays on everything but static files: support quotes it.
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"]), path


async def test_pages_and_the_service_worker_keep_the_whole_policy(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/", "/sw.js", shell.language_urls("en")[0], "/static/no-such-file.css"):
        answer = await client.get(path, headers={"cookie": ANONYMOUS_CSRF})
        policy = answer.headers["content-security-policy"]
        assert policy.startswith("default-src 'self'; script-src 'self' 'nonce-"), path
        assert policy.endswith("object-src 'none'; base-uri 'none'; frame-ancestors 'none'"), path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert answer.headers["referrer-policy"] == "same-origin", path
        assert answer.headers["cross-origin-opener-policy"] == "same-origin", path
        assert answer.headers["permissions-policy"] == (
            "camera=(), microphone=(), geolocation=(), payment=()"
        ), path
        assert answer.headers["x-content-type-options"] == "nosniff", path


async def test_a_stored_pages_304_keeps_its_nonce(client: httpx.AsyncClient) -> None:
    # A new nonce on a page the browser holds would block that page's scripts.
    url = shell.language_urls("en")[0]
    first = await client.get(url, headers={"cookie": ANONYMOUS_CSRF})
    again = await client.get(
        url, headers={"if-none-match": first.headers["etag"], "cookie": ANONYMOUS_CSRF}
    )
    assert again.status_code == 304
    assert "content-security-policy" not in again.headers
    assert again.headers["x-content-type-options"] == "nosniff"
    assert again.headers["cache-control"] == "no-cache"


async def test_a_versioned_module_url_gets_the_short_set_too(client: httpx.AsyncClient) -> None:
    answer = await client.get(pwa_url("app.js"), headers={"cookie": ANONYMOUS_CSRF})
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-security-policy" not in answer.headers
    assert "referrer-policy" not in answer.headers
    assert "content-language" not in answer.headers
