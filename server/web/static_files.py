"""Static files: cached for a year when asked for by their content hash."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, PathLike, StaticFiles
from starlette.types import Scope

from server.web.templating import file_hash

IMMUTABLE = "public, max-age=31536000, immutable"


class HashedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
        current = ""
        # A 304 too: the browser replaces its stored copy's headers with the
        # 304's, so a "no-cache" there would unmark a versioned file immutable.
        if response.status_code in (200, 304) and self.directory is not None:
            current = file_hash(Path(self.directory) / path)
        # Only the exact current version may be kept for a year; anything else
        # (no version, an old one) is revalidated.
        response.headers["Cache-Control"] = IMMUTABLE if asked and asked == current else "no-cache"
        # The same bytes whatever the language or cookie: saying so keeps the
        # locale middleware's "Vary: Accept-Language, Cookie" off, which would
        # make the browser's cache miss every file after signing in.
        response.headers["Vary"] = "Accept-Encoding"
        return response

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """Starlette's, with an ETag made from the file's bytes.

        Starlette's tag is its modification time and size: a release copied
        with its timestamps kept could change a file yet keep both, get a 304,
        and the service worker (which revalidates on install, pwa/sw.js) would
        store the old copy in the new version.
        """
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
        # Read on every request, no memo that an edit could outlive: these
        # files are a few kilobytes, and phones with the app installed get
        # them from the service worker.
        tag = hashlib.sha256(Path(full_path).read_bytes()).hexdigest()[:32]
        response.headers["etag"] = f'"{tag}"'
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response
