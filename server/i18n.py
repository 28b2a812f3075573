"""Languages: catalogues, negotiation and formatting through Babel.

Catalogues are read from the ``.po`` files in ``locales/`` and compiled in
memory when the app starts (once per process while the files are unchanged),
so a stale ``.mo`` can never be served.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, lists, numbers
from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from server import formats
from server.settings import LANGUAGES

DOMAIN = "messages"
LANGUAGE_COOKIE = "homeward_lang"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def load_catalogues(locales_dir: Path) -> dict[str, NullTranslations]:
    """Each language's ``.po`` file compiled into gettext translations, in memory.

    Compiling all five takes about a quarter of a second, and every app the
    tests build asks again: the result is kept per process, keyed by the
    files' sizes and modification times, so an edited catalogue is still
    compiled afresh and a stale one is never served.
    """
    paths = {language: _po_path(locales_dir, language) for language in LANGUAGES}
    stamps = tuple(_stamp(path) for path in paths.values())
    kept = _compiled.get(str(locales_dir))
    if kept is None or kept[0] != stamps:
        compiled = {language: _compile(path, language) for language, path in paths.items()}
        # Only the newest state of each folder's files is worth keeping.
        kept = _compiled[str(locales_dir)] = (stamps, compiled)
    return dict(kept[1])


_Stamp = tuple[int, int] | None
_compiled: dict[str, tuple[tuple[_Stamp, ...], dict[str, NullTranslations]]] = {}


def _po_path(locales_dir: Path, language: str) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _stamp(path: Path) -> _Stamp:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return (status.st_mtime_ns, status.st_size)


def _compile(po_path: Path, language: str) -> NullTranslations:
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


@dataclass(frozen=True)
class Translator:
    """Everything needed to speak to one user: language, catalogue, time zone
    and the country whose way of writing dates and numbers they read."""

    language: str
    translations: NullTranslations = field(default_factory=NullTranslations)
    time_zone: str = "UTC"
    territory: str | None = None  # the organisation's country, e.g. "TN"

    @cached_property
    def locale(self) -> Locale:
        return formats.locale_for(self.language, self.territory)

    @property
    def direction(self) -> str:
        return str(self.locale.text_direction)

    @cached_property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def time_zone_name(self) -> str:
        """The user's time zone in words ("Алматы"), never its ID."""
        return formats.zone_name(self.time_zone, self.locale)

    def gettext(self, message: str, **params: Any) -> str:
        text = str(self.translations.gettext(message))
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        text = str(self.translations.ngettext(singular, plural, n))
        return text % {"num": n, **params}

    def pgettext(self, context: str, message: str, **params: Any) -> str:
        text = str(self.translations.pgettext(context, message))
        return text % params if params else text

    def date(self, value: date | None, format: str = "medium") -> str:
        """A date; a moment (datetime) counts on the day it is in the user's zone."""
        if value is None:
            return ""
        return formats.format_date(value, format, self.locale, self.tz)

    def datetime(self, value: dt.datetime | None, format: str = "medium") -> str:
        if value is None:
            return ""
        return formats.format_datetime(value, format, self.locale, self.tz)

    def time(self, value: dt.datetime | None, format: str = "short") -> str:
        if value is None:
            return ""
        return formats.format_time(value, format, self.locale, self.tz)

    def time_range(self, start: dt.datetime, end: dt.datetime) -> str:
        return formats.format_time_range(start, end, self.locale, self.tz)

    def when(self, start: dt.datetime, end: dt.datetime, format: str = "full") -> str:
        """The day and the start and end times of an appointment, joined the locale's way."""
        joined = str(self.locale.datetime_formats[format]).replace("'", "")
        return joined.replace("{1}", self.date(start, format)).replace(
            "{0}", self.time_range(start, end)
        )

    def number(self, value: float | int) -> str:
        return numbers.format_decimal(value, locale=self.locale)

    def join(self, items: Iterable[str], style: str = "standard") -> str:
        """Items as a list the language's own way (CLDR list patterns):
        "A, B и C", "A وB وC", "A және B"; ``style="or"`` for alternatives."""
        return lists.format_list(list(items), style=style, locale=self.locale)  # type: ignore[arg-type]


_current: ContextVar[Translator] = ContextVar("translator")
_FALLBACK = Translator("en")


def current() -> Translator:
    return _current.get(_FALLBACK)


def activate(translator: Translator) -> None:
    _current.set(translator)


def gettext(message: str, **params: Any) -> str:
    return current().gettext(message, **params)


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    return current().ngettext(singular, plural, n, **params)


def pgettext(context: str, message: str, **params: Any) -> str:
    return current().pgettext(context, message, **params)


def parse_accept_language(header: str) -> list[str]:
    """Language tags from an ``Accept-Language`` header, best first."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, index, tag.replace("-", "_")))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(
    *,
    user_language: str | None,
    cookie_language: str | None,
    accept_language: str,
    fallback: str,
    available: Iterable[str] = LANGUAGES,
) -> str:
    """Choose a language: the user's choice, the switcher's cookie, the
    browser's preferences (Babel's negotiation), then the fallback."""
    choices = list(available)
    for explicit in (user_language, cookie_language):
        if explicit in choices:
            return explicit
    preferred = parse_accept_language(accept_language)
    return (
        negotiate_locale(preferred, choices, sep="_")
        or negotiate_locale([tag.split("_")[0] for tag in preferred], choices, sep="_")
        or fallback
    )


@functools.cache
def language_names() -> list[tuple[str, str]]:
    """Each language named in its own script, for the language switcher."""
    return [
        (code, str(Locale.parse(code).get_display_name(code)).capitalize()) for code in LANGUAGES
    ]


# Unformatted lookups for Jinja2's newstyle gettext, which does its own
# %-formatting (and escaping) of the variables.
def raw_gettext(message: str) -> str:
    return current().translations.gettext(message)


def raw_ngettext(singular: str, plural: str, n: int) -> str:
    return current().translations.ngettext(singular, plural, n)


def raw_pgettext(context: str, message: str) -> str:
    return str(current().translations.pgettext(context, message))
