"""Static files: cached for a year when asked for by their content hash."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from server.templating import file_hash

IMMUTABLE = "public, max-age=31536000, immutable"


class HashedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
        current = ""
        if response.status_code == 200 and self.directory is not None:
            current = file_hash(Path(self.directory) / path)
        # Only the exact current version may be kept for a year; anything else
        # (no version, an old one) is revalidated.
        response.headers["Cache-Control"] = IMMUTABLE if asked and asked == current else "no-cache"
        return response
