"""Form definitions as JSON, in one language, for the offline client.

The phone renders and validates from this (``pwa/forms.js``): labels, help
and every error message arrive already translated and formatted, so the
JavaScript needs almost no strings of its own.
"""

from __future__ import annotations

import weakref
from gettext import NullTranslations
from typing import Any

from server.enums import Pillar
from server.forms.definitions import REGISTRY, Registry
from server.forms.fields import Field
from server.forms.form import Form
from server.forms.gender import GENDERED, GENDERS, say
from server.forms.messages import UNKNOWN_FIELD_MESSAGE, field_messages
from server.forms.validator import CLOCK_SKEW, EARLIEST_DAY
from server.i18n import Translator


def form_schema(
    pillar: Pillar | str, version: int, translator: Translator, registry: Registry = REGISTRY
) -> dict[str, Any]:
    """One form version as JSON, labels and messages in ``translator``'s language.

    Raises:
        UnknownForm: no such pillar or version.
    """
    return schema_of(registry.get(pillar, version), translator)


def all_forms_schema(translator: Translator, registry: Registry = REGISTRY) -> dict[str, Any]:
    """Every form version (old ones too: drafts may use them) and the latest of each."""
    forms = list(registry)
    return {
        "language": translator.language,
        "direction": translator.direction,
        "latest": {str(form.pillar): registry.latest(form.pillar).version for form in forms},
        "forms": [schema_of(form, translator) for form in forms],
    }


# Per catalogue (weakly: tests make many), then per form version, language
# and country (numbers in messages are written the country's way: "1.000"
# in Tunisia, "1,000" elsewhere).
_MADE: weakref.WeakKeyDictionary[
    NullTranslations, dict[tuple[str, str, str | None], dict[str, Any]]
] = weakref.WeakKeyDictionary()


def schema_of(form: Form, t: Translator) -> dict[str, Any]:
    """The JSON schema of one form definition, in ``t``'s language.

    Made once per form version, language, country and catalogue: every form page
    embeds it, and translating ninety strings each time was a tenth of the
    page's cost. The result is shared: read it, do not change it.
    """
    made = _MADE.setdefault(t.translations, {})
    key = (form.content_hash, t.language, t.territory)
    if key not in made:
        made[key] = _schema(form, t)
    return made[key]


def _schema(form: Form, t: Translator) -> dict[str, Any]:
    return {
        "pillar": str(form.pillar),
        "version": form.version,
        "hash": form.content_hash,
        "language": t.language,
        "title": t.gettext(form.title),
        "moment": list(form.moment) if form.moment else None,
        "clock_skew_minutes": int(CLOCK_SKEW.total_seconds() // 60),
        "earliest_day": EARLIEST_DAY.isoformat(),
        "messages": {UNKNOWN_FIELD_MESSAGE.code: UNKNOWN_FIELD_MESSAGE.text(t)},
        "sections": [
            {"title": t.gettext(section.title), "fields": [f.key for f in section.fields]}
            for section in form.sections
        ],
        "fields": [_field(field, t) for field in form.fields],
    }


def _gendered(field: Field, t: Translator) -> dict[str, dict[str, Any]] | None:
    """The field's label and answers worded for a woman and for a man, where
    they differ by gender (server/forms/gender.py); the phone picks one by
    the participant's gender, else keeps the plain ones."""
    found: dict[str, dict[str, Any]] = {}
    for gender in GENDERS:
        words: dict[str, Any] = {}
        if field.label in GENDERED:
            words["label"] = say(t, field.label, gender)
        choices = {c.key: say(t, c.label, gender) for c in field.choices if c.label in GENDERED}
        if choices:
            words["choices"] = choices
        if words:
            found[gender] = words
    return found or None


def _field(field: Field, t: Translator) -> dict[str, Any]:
    return {
        "key": field.key,
        "type": str(field.type),
        "label": t.gettext(field.label),
        "help": t.gettext(field.help) if field.help else "",
        "required": field.required,
        "show_when": field.show_when.as_json() if field.show_when else None,
        "required_when": field.required_when.as_json() if field.required_when else None,
        "choices": [
            {"key": str(c.key), "label": t.gettext(c.label), "exclusive": c.exclusive}
            for c in field.choices
        ],
        "min": field.min,
        "max": field.max,
        "max_length": field.max_length,
        "low_label": t.gettext(field.low_label) if field.low_label else "",
        "high_label": t.gettext(field.high_label) if field.high_label else "",
        "default_from": field.default_from,
        "messages": {code: message.text(t) for code, message in field_messages(field).items()},
        "gendered": _gendered(field, t),
    }
