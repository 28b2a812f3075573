"""What a page needs to render a session form (``forms/session.html``)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from server import i18n
from server.forms.form import Form
from server.forms.gender import say
from server.forms.schema import schema_of
from server.forms.validator import Raw, Result


def form_context(
    form: Form,
    *,
    result: Result | None = None,
    participants: Sequence[tuple[str, str]] = (),
    user_name: str = "",
    action: str = "",
    translator: i18n.Translator | None = None,
    gender: str | None = None,
) -> dict[str, Any]:
    """Template context for ``forms/session.html`` or the ``session_form`` macro.

    Args:
        form: the definition to show (the latest, or the one being corrected).
        result: the failed validation to show again, with what was typed.
        participants: ``(id, label)`` of the worker's caseload, label being
            the pseudonymous code unless the worker may see names.
        user_name: fills fields declared ``default_from="user"`` when empty.
        action: where the form posts.
        translator: the reader's language (default: the current request's).
        gender: the participant's, so that the questions and answers about
            them agree with it (server/forms/gender.py).

    Returns:
        ``form``, ``values``, ``errors``, ``participants``, ``action``, the
        JSON ``schema`` the page embeds for ``pwa/forms.js`` and ``say``, which
        translates a definition's message for this participant.
    """
    translator = translator or i18n.current()
    values: dict[str, Raw] = dict(result.raw) if result else {}
    for field in form.fields:
        if field.default_from == "user" and not values.get(field.key):
            values[field.key] = user_name
    errors: Mapping[str, Any] = result.errors if result else {}
    return {
        "form": form,
        "values": values,
        "errors": errors,
        "participants": list(participants),
        "action": action,
        "schema": schema_of(form, translator),
        "say": functools.partial(say, translator, gender=gender),
    }
