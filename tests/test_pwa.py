import json
import os
import re
import struct
import zlib
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from server import i18n
from server.app import create_app
from server.pwa import shell, views
from server.settings import LANGUAGES, ROOT, Settings


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def png_pixels(data: bytes) -> list[list[tuple[int, int, int, int]]]:
    """RGBA rows of the committed PNG icons (8-bit RGBA, filter 0 only)."""
    width, height = png_size(data)
    raw = zlib.decompress(data[data.index(b"IDAT") + 4 : data.index(b"IEND") - 8])
    stride = 1 + width * 4
    rows = []
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0
        rows.append([tuple(line[1 + x * 4 : 5 + x * 4]) for x in range(width)])
    return rows


@pytest.mark.parametrize("language", LANGUAGES)
async def test_manifest_per_language(client: httpx.AsyncClient, language: str) -> None:
    response = await client.get(f"/manifest.webmanifest?lang={language}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/manifest+json"
    assert response.headers["content-language"] == language
    manifest = json.loads(response.text)
    assert manifest["lang"] == language
    assert manifest["dir"] == ("rtl" if language == "ar" else "ltr")
    assert manifest["name"] == manifest["short_name"] == "Homeward"
    catalogue = i18n.load_catalogues(ROOT / "locales")[language]
    assert manifest["description"] == catalogue.gettext(views.DESCRIPTION)
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    assert manifest["theme_color"] == "#0b5d4b"
    assert manifest["background_color"] == "#ffffff"
    declared = {(i["sizes"], i.get("purpose", "any"), i["type"]) for i in manifest["icons"]}
    assert declared == {
        ("192x192", "any", "image/png"),
        ("512x512", "any", "image/png"),
        ("192x192", "maskable", "image/png"),
        ("512x512", "maskable", "image/png"),
        ("any", "any", "image/svg+xml"),
    }


async def test_manifest_language_follows_the_browser_without_lang(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/manifest.webmanifest", headers={"accept-language": "ar"})
    assert response.json()["dir"] == "rtl"
    assert "Accept-Language" in response.headers["vary"]


async def test_every_declared_icon_exists_at_its_size(client: httpx.AsyncClient) -> None:
    manifest = (await client.get("/manifest.webmanifest")).json()
    for icon in manifest["icons"]:
        response = await client.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        if icon["type"] == "image/png":
            width, height = png_size(response.content)
            assert f"{width}x{height}" == icon["sizes"]
        else:
            assert response.content.startswith(b"<svg")


async def test_png_icons_are_static_files_the_server_does_not_draw(
    client: httpx.AsyncClient,
) -> None:
    # Made once from icon.svg and kept as files: no server code draws them.
    assert not (ROOT / "server/pwa/icons.py").exists()
    assert shell.PNG_ICONS == {
        "icons/icon-192.png": (192, "any"),
        "icons/icon-512.png": (512, "any"),
        "icons/maskable-192.png": (192, "maskable"),
        "icons/maskable-512.png": (512, "maskable"),
    }
    manifest = (await client.get("/manifest.webmanifest")).json()
    pngs = [icon for icon in manifest["icons"] if icon["type"] == "image/png"]
    assert len(pngs) == 4
    for icon in pngs:
        path, _, query = icon["src"].partition("?")
        assert path.startswith("/static/icons/") and query.startswith("v=")
        served = await client.get(icon["src"])
        assert served.content == (ROOT / path.removeprefix("/")).read_bytes()
        assert "immutable" in served.headers["cache-control"]


@pytest.mark.parametrize("size", [192, 512])
def test_maskable_icon_keeps_the_house_inside_the_safe_zone(size: int) -> None:
    rows = png_pixels((ROOT / f"static/icons/maskable-{size}.png").read_bytes())
    centre, safe = size / 2, size * 0.4
    white = [(x, y) for y, row in enumerate(rows) for x, p in enumerate(row) if p[0] > 128]
    assert white, "the house is drawn"
    # Every pixel of the house lies inside the circle a launcher may keep.
    assert max(((x + 0.5 - centre) ** 2 + (y + 0.5 - centre) ** 2) ** 0.5 for x, y in white) < safe
    # And the background is full bleed: no transparent corner for the mask to show.
    assert all(p[3] == 255 for row in rows for p in row)


async def test_service_worker_is_served_from_the_root_uncached(client: httpx.AsyncClient) -> None:
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["content-type"].startswith("text/javascript")
    first_line = response.text.splitlines()[0]
    config = json.loads(first_line.removeprefix("const SHELL = ").removesuffix(";"))
    assert re.fullmatch(r"[0-9a-f]{12}", config["version"])
    assert config["assets"] == list(shell.current().assets)
    assert config["languages"] == list(LANGUAGES)
    # The worker fills in each language the way the server lists it.
    for language in LANGUAGES:
        expanded = [url.replace("{lang}", language) for url in config["languageUrls"]]
        assert tuple(expanded) == shell.current().per_language[language]
    assert "addEventListener('install'" in response.text


def test_an_install_stores_one_language() -> None:
    current = shell.current()
    arabic = current.install("ar")
    assert arabic == (*current.assets, "/app/shell?lang=ar", "/i18n/ar.json",
                      "/i18n/ar/calendar.json", "/manifest.webmanifest?lang=ar")  # fmt: skip
    assert not any("lang=en" in url or "/en.json" in url for url in arabic)
    # The worker's offline fallback names the shell the same way (pwa/sw.js).
    assert "`/app/shell?lang=${lang}`" in (ROOT / "pwa/sw.js").read_text()
    # Every URL the worker may store, each language's included, and nothing else.
    assert set(current.urls) == {
        *current.assets,
        *(url for language in LANGUAGES for url in current.install(language)),
    }


def test_png_icons_are_not_precached_but_shape_the_version() -> None:
    # Only the browser uses them, to install the app, which needs the network.
    assert not [url for url in shell.current().urls if ".png" in url]
    names = {p.relative_to(ROOT).as_posix() for p in shell.shell_files()}
    assert {f"static/{name}" for name in shell.PNG_ICONS} <= names  # named in the manifests


@pytest.mark.parametrize(
    "url", ["/sw.js", "/app/shell?lang=ar", "/i18n/kk.json", "/manifest.webmanifest?lang=ru"]
)
async def test_worker_files_answer_304_while_unchanged(client: httpx.AsyncClient, url: str) -> None:
    # The worker's install revalidates what the page fetched (cache: 'no-cache'):
    # these must carry a validator and honour it, compressed or not.
    gzip = {"accept-encoding": "gzip"}
    first = await client.get(url, headers=gzip)
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert re.fullmatch(r'W/"[0-9a-f]{16}"', tag)
    assert (await client.get(url)).headers["etag"] == tag  # the same bytes, the same tag
    again = await client.get(url, headers={**gzip, "if-none-match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"] == "no-cache"
    assert "content-encoding" not in again.headers
    listed = await client.get(url, headers={"if-none-match": f'"other", {tag.removeprefix("W/")}'})
    assert listed.status_code == 304
    other = await client.get(url, headers={**gzip, "if-none-match": 'W/"0000000000000000"'})
    assert other.status_code == 200
    assert other.content == first.content


async def test_etag_follows_the_language(client: httpx.AsyncClient) -> None:
    tags = {(await client.get(f"/app/shell?lang={lang}")).headers["etag"] for lang in LANGUAGES}
    assert len(tags) == len(LANGUAGES)


@pytest.mark.parametrize("plain", [True, False])
async def test_static_files_answer_304_through_gzip(client: httpx.AsyncClient, plain: bool) -> None:
    url = "/pwa/outbox/sync.js" if plain else shell.current().assets[0]
    gzip = {"accept-encoding": "gzip"}
    first = await client.get(url, headers=gzip)
    assert first.status_code == 200
    assert first.headers["content-encoding"] == "gzip"
    again = await client.get(url, headers={**gzip, "if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["cache-control"] == first.headers["cache-control"]


async def test_every_precached_url_answers_and_none_is_personal(
    client: httpx.AsyncClient,
) -> None:
    # One failing URL fails the whole install, so each must answer 200.
    for url in shell.current().urls:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] != "no-store", url
    assert "/" not in shell.current().urls


def test_version_changes_with_any_shell_file(tmp_path: Path) -> None:
    for name in ("static/app.css", "pwa/app.js", "locales/kk/LC_MESSAGES/messages.po"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"/* {name} */")
    files = shell.shell_files(tmp_path)
    before = shell.version(files, tmp_path)
    assert re.fullmatch(r"[0-9a-f]{12}", before)
    assert shell.version(files, tmp_path) == before
    (tmp_path / "pwa/app.js").write_text("/* changed */")
    assert shell.version(files, tmp_path) != before
    (tmp_path / "pwa/app.js").write_text("/* pwa/app.js */")
    assert shell.version(files, tmp_path) == before
    (tmp_path / "locales/kk/LC_MESSAGES/messages.po").write_text("translated anew")
    assert shell.version(files, tmp_path) != before


def test_version_sees_bytes_moving_between_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("xy")
    b.write_text("")
    before = shell.version([a, b], tmp_path)
    a.write_text("x")
    b.write_text("y")
    assert shell.version([a, b], tmp_path) != before


def test_shell_files_cover_what_the_shell_precaches() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in shell.shell_files()}
    assert {"static/app.css", "pwa/app.js", "pwa/sw.js", "server/templates/base.html"} <= names
    assert all(p.exists() for p in shell.shell_files() if "locales" not in p.parts)


@pytest.mark.parametrize(("language", "direction"), [("ar", "rtl"), ("kk", "ltr"), ("en", "ltr")])
async def test_shell_page_per_language(
    client: httpx.AsyncClient, language: str, direction: str
) -> None:
    response = await client.get(f"/app/shell?lang={language}", headers={"accept-language": "fr"})
    assert response.status_code == 200
    assert response.headers["content-language"] == language
    assert "Accept-Language" in response.headers["vary"]
    assert response.headers["cache-control"] == "no-cache"
    assert f'<html lang="{language}" dir="{direction}">' in response.text
    assert 'id="app"' in response.text
    catalogue = i18n.load_catalogues(ROOT / "locales")[language]
    notice = (
        "You are offline. What you save stays on this phone and is sent when the network returns."
    )
    assert catalogue.gettext(notice) in response.text


async def test_shell_page_is_rendered_for_nobody(app) -> None:
    # Even when a signed-in person's request precaches it, the shell carries
    # neither their identity nor their session's CSRF token.
    class Someone:
        language = "en"
        time_zone = "UTC"
        name = "Canary Person"

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/app/shell",
        "query_string": b"lang=en",
        "headers": [],
        "app": app,
        "state": {"user": Someone(), "csrf_token": "canary-csrf-token"},
    }
    response = await views.app_shell(Request(scope))
    body = bytes(response.body).decode()
    assert "canary-csrf-token" not in body
    assert "/signout" not in body
    assert 'id="app"' in body


async def test_client_messages_hold_only_pwa_strings(settings: Settings, tmp_path: Path) -> None:
    po = tmp_path / "kk" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        '#: pwa/app.js\nmsgid "Update now"\nmsgstr "Қазір жаңарту"\n\n'
        '#: server/views.py\nmsgid "Server only"\nmsgstr "Тек сервер"\n\n'
        '#: pwa/app.js\n#, fuzzy\nmsgid "Unsure"\nmsgstr "Күмәнді"\n\n'
        '#: pwa/app.js\nmsgid "Not yet"\nmsgstr ""\n',
        encoding="utf-8",
    )
    app = create_app(replace(settings, locales_dir=tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as http:
        response = await http.get("/i18n/kk.json")
        assert response.status_code == 200
        assert response.json() == {"Update now": "Қазір жаңарту"}
        assert response.headers["content-language"] == "kk"
        assert response.headers["cache-control"] == "no-cache"
        assert (await http.get("/i18n/xx.json")).status_code == 404


async def test_client_messages_cover_every_marked_js_string(client: httpx.AsyncClient) -> None:
    # Once the catalogues are updated, every language has the client's strings.
    from server import catalogues

    marked = {
        str(m.id)
        for m in catalogues.build_template()
        if m.id and any(f.startswith("pwa/") for f, _ in m.locations)
    }
    assert "Update now" in marked
    for language in LANGUAGES:
        found = (await client.get(f"/i18n/{language}.json")).json()
        assert marked - set(found) == set(), language


async def test_static_etag_names_the_bytes_not_the_timestamp(tmp_path: Path) -> None:
    # A release copied with its timestamps kept: same size, same mtime, new bytes.
    # The worker's install revalidates, so a 304 here would store the old copy.
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from server.web.static_files import HashedStaticFiles

    module = tmp_path / "notices.js"
    module.write_text("export const a = 1;")
    stat = module.stat()
    app = Starlette(routes=[Mount("/pwa", HashedStaticFiles(directory=tmp_path))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        first = await http.get("/pwa/notices.js")
        tag = first.headers["etag"]
        same = await http.get("/pwa/notices.js", headers={"if-none-match": tag})
        assert same.status_code == 304
        module.write_text("export const b = 2;")
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert module.stat().st_size == stat.st_size
        again = await http.get("/pwa/notices.js", headers={"if-none-match": tag})
        assert again.status_code == 200
        assert again.text == "export const b = 2;"
        assert again.headers["etag"] != tag
