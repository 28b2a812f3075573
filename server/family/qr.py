"""The calendar link as a QR code, drawn on the server as inline SVG.

Inline ``<svg>`` needs nothing from the page's CSP (no ``data:`` image, no
style attribute: segno draws with ``stroke``/``fill`` attributes), and the
link never leaves the server for a third-party QR service.
"""

from __future__ import annotations

import segno
from markupsafe import Markup

# Medium error correction: still readable from a scratched or dim screen,
# and small enough for a phone camera at arm's length.
ERROR = "m"


def svg(url: str, *, title: str) -> Markup:
    """An SVG QR code of exactly ``url``; dark on white, so it scans in dark mode too."""
    code = segno.make_qr(url, error=ERROR, boost_error=False)
    drawn = code.svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=title, svgclass="qr"
    )
    # segno escapes the title and the rest is drawn from the code's modules.
    return Markup(drawn)  # noqa: S704
