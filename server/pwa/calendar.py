"""Month and day names and date patterns for the offline screens.

A phone's browser may carry no date data for the user's language (this
Chromium writes Kazakh dates as "2026 M11 28, Sat"), so the offline screens
format dates themselves from what Babel (CLDR) says here, per country of the
programme: the locale is the language with the organisation's country, as on
the server's pages (server/formats.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from babel import Locale

from server import formats
from server.enums import Country

# Babel counts weekdays from Monday; JavaScript's getUTCDay() from Sunday.
_JS_WEEK = (6, 0, 1, 2, 3, 4, 5)


def _names(table: Any, count: int, order: tuple[int, ...] | None = None) -> list[str]:
    keys = order if order is not None else tuple(range(1, count + 1))
    return [str(table[key]) for key in keys]


def _calendar(locale: Locale) -> dict[str, Any]:
    months, days = locale.months, locale.days
    return {
        "locale": str(locale),
        "months": {
            "wide": _names(months["format"]["wide"], 12),
            "abbreviated": _names(months["format"]["abbreviated"], 12),
            "standalone": _names(months["stand-alone"]["wide"], 12),
            "standaloneAbbreviated": _names(months["stand-alone"]["abbreviated"], 12),
        },
        "days": {
            "wide": _names(days["format"]["wide"], 7, _JS_WEEK),
            "abbreviated": _names(days["format"]["abbreviated"], 7, _JS_WEEK),
            "standalone": _names(days["stand-alone"]["wide"], 7, _JS_WEEK),
        },
        "date": {
            "medium": locale.date_formats["medium"].pattern,
            "full": locale.date_formats["full"].pattern,
        },
        # The 24-hour clock all three countries read (server/formats.py).
        "time": str(locale.datetime_skeletons["Hm"].pattern),
        "joined": {
            "medium": str(locale.datetime_formats["medium"]),
            "full": str(locale.datetime_formats["full"]),
        },
    }


@cache
def calendars(language: str) -> dict[str, dict[str, Any]]:
    """The calendar of ``language`` in each country ("" when none is known)."""
    territories = ["", *(country.value for country in Country)]
    return {
        territory: _calendar(formats.locale_for(language, territory or None))
        for territory in territories
    }
