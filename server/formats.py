"""Dates, times and numbers as people in the programme's countries write them.

The locale is the user's language with their organisation's country
(``ar_TN``: Tunisian month names such as جوان and جويلية; ``en_UG``: the day
before the month), so the same language reads right in each country. Every
moment is turned into the user's time zone before anything about it is
written, including which day it falls on: 02:00 in Almaty is still the
previous day in UTC.

All three countries read the 24-hour clock, and so do Homeward's screens,
even where CLDR gives a country's locale a 12-hour one (``ar_TN`` and
``fr_TN`` say "2:30 م" and "2:30 PM").
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, date, tzinfo
from zoneinfo import ZoneInfo

from babel import Locale, dates, localedata

# A language the country's locale data does not cover falls back here, not
# to the language's default country: English in Kazakhstan or Tunisia reads
# dates as the rest of the world does (28 Nov 2026), not as in the US.
_WITHOUT_COUNTRY = {"en": "en_001"}

# What each of Babel's named lengths means on a 24-hour clock.
_CLOCK = {"short": "Hm", "medium": "Hms", "long": "Hms", "full": "Hms"}


def locale_for(language: str, territory: str | None) -> Locale:
    """The Babel locale of ``language`` as written in ``territory`` (a country code)."""
    for tag in (f"{language}_{territory}" if territory else "", _WITHOUT_COUNTRY.get(language)):
        if tag and localedata.exists(tag):
            return Locale.parse(tag)
    return Locale.parse(language)


def local(value: dt.datetime, tz: tzinfo) -> dt.datetime:
    """``value`` in the time zone ``tz``; a naive value is taken as UTC (as stored)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz)


def format_date(value: date, format: str, locale: Locale, tz: tzinfo) -> str:
    """A calendar date; a moment is first placed on the user's own day."""
    if isinstance(value, dt.datetime):
        value = local(value, tz).date()
    return str(dates.format_date(value, format=format, locale=locale))


def format_time(value: dt.datetime, format: str, locale: Locale, tz: tzinfo) -> str:
    skeleton = _CLOCK.get(format)
    moment = local(value, tz)
    if skeleton is None:  # an explicit pattern such as "HH:mm" is taken as given
        return str(dates.format_time(moment, format=format, tzinfo=tz, locale=locale))
    return str(dates.format_skeleton(skeleton, moment, tzinfo=tz, locale=locale))


def format_datetime(value: dt.datetime, format: str, locale: Locale, tz: tzinfo) -> str:
    if format not in _CLOCK:
        return str(dates.format_datetime(value, format=format, tzinfo=tz, locale=locale))
    # The locale's own way of joining the two ("{1}، {0}" in Arabic).
    joined = str(locale.datetime_formats[format]).replace("'", "")
    return joined.replace("{1}", format_date(value, format, locale, tz)).replace(
        "{0}", format_time(value, format, locale, tz)
    )


def format_time_range(start: dt.datetime, end: dt.datetime, locale: Locale, tz: tzinfo) -> str:
    """The start and end times of one appointment, as CLDR joins them."""
    first, last = local(start, tz), local(end, tz)
    if last.date() != first.date():
        # Past midnight: the day is already written before the times, and the
        # interval patterns would repeat both dates. Only hours and minutes
        # are shown, so the end is put on the start's day to be written the
        # same way as any other appointment ("23:30–00:30").
        last = last.replace(year=first.year, month=first.month, day=first.day)
    return str(dates.format_interval(first, last, "Hm", tzinfo=tz, locale=locale))


def zone_name(zone: str, locale: Locale) -> str:
    """A time zone as people name it: its city, in their language ("Алматы", "تونس").

    The IDs (``Asia/Almaty``) mean nothing to a reader, and CLDR's longer
    "Kazakhstan (Almaty) Time" forms come out wrong in Russian ("…, летнее
    время" for zones without summer time).
    """
    try:
        return str(dates.get_timezone_location(ZoneInfo(zone), locale=locale, return_city=True))
    except (LookupError, ValueError):
        return zone
