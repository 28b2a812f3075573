"""Draw the home-screen PNG icons from the shape in ``static/icons/icon.svg``.

Run ``python -m server.pwa.icons`` after changing the SVG. The drawing is done
here in plain Python (scanlines with 4x vertical supersampling and exact
horizontal coverage) so that making icons needs no image library and gives the
same bytes on every machine; a test checks the committed files are current.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

from server.web.templating import STATIC_DIR

# The house in icon.svg's 512-unit box: "M256 96 88 240h48v176h96V312h48v104h96V240h48z".
SVG_PATH = "M256 96 88 240h48v176h96V312h48v104h96V240h48z"
HOUSE = [
    (256, 96), (88, 240), (136, 240), (136, 416), (232, 416), (232, 312),
    (280, 312), (280, 416), (376, 416), (376, 240), (424, 240),
]  # fmt: skip
BOX = 512
CORNER = 96
BRAND = (0x0B, 0x5D, 0x4B)
# A maskable icon may be cut to any shape inside the central 80 %; shrinking
# the house to 80 % keeps its farthest corner at 186 of the 205 units allowed.
MASKABLE_SCALE = 0.8
SUBROWS = 4
ICONS = {
    "icons/icon-192.png": (192, False),
    "icons/icon-512.png": (512, False),
    "icons/maskable-192.png": (192, True),
    "icons/maskable-512.png": (512, True),
}

Interval = tuple[float, float]


def _rounded_rect(y: float) -> list[Interval]:
    edge = min(y, BOX - y)
    if edge >= CORNER:
        return [(0.0, float(BOX))]
    inset = CORNER - math.sqrt(CORNER**2 - (CORNER - edge) ** 2)
    return [(inset, BOX - inset)]


def _polygon(points: list[tuple[float, float]], y: float) -> list[Interval]:
    crossings = []
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        if (y0 <= y < y1) or (y1 <= y < y0):
            crossings.append(x0 + (y - y0) * (x1 - x0) / (y1 - y0))
    crossings.sort()
    return list(zip(crossings[::2], crossings[1::2], strict=True))


def _cover(row: list[float], start: float, end: float, weight: float) -> None:
    for px in range(max(0, math.floor(start)), min(len(row), math.ceil(end))):
        row[px] += (min(end, px + 1) - max(start, px)) * weight


def render(size: int, maskable: bool) -> bytes:
    """The icon as a square PNG file, ``size`` pixels wide."""
    scale = size / BOX
    shrink = MASKABLE_SCALE if maskable else 1.0
    house = [(BOX / 2 + (x - BOX / 2) * shrink, BOX / 2 + (y - BOX / 2) * shrink) for x, y in HOUSE]
    raw = bytearray()
    for py in range(size):
        back = [0.0] * size
        front = [0.0] * size
        for sub in range(SUBROWS):
            y = (py + (sub + 0.5) / SUBROWS) / scale
            backs = [(0.0, float(BOX))] if maskable else _rounded_rect(y)
            for start, end in backs:
                _cover(back, start * scale, end * scale, 1 / SUBROWS)
            for start, end in _polygon(house, y):
                _cover(front, start * scale, end * scale, 1 / SUBROWS)
        raw.append(0)  # filter type "none": simple, and the test can read it back
        for alpha, white in zip(back, front, strict=True):
            alpha, white = min(alpha, 1.0), min(white, alpha)
            mix = white / alpha if alpha else 0.0
            raw.extend(round(c + (255 - c) * mix) for c in BRAND)
            raw.append(round(alpha * 255))
    return _png(size, bytes(raw))


def _png(size: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main(static_dir: Path = STATIC_DIR) -> None:
    for name, (size, maskable) in ICONS.items():
        (static_dir / name).write_bytes(render(size, maskable))
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
