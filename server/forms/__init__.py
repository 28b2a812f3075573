"""Declarative, versioned session forms: definitions, one validator, a JSON
schema for the phone, and Jinja2 macros (``templates/forms/``).

See ``docs/forms.md``.
"""

from server.forms.common import COMMON_KEYS
from server.forms.definitions import REGISTRY, Registry, UnknownForm, get_form, latest_form
from server.forms.fields import Choice, Condition, Field, FieldType
from server.forms.form import Form, Questions, Section
from server.forms.messages import Message
from server.forms.rendering import form_context
from server.forms.schema import all_forms_schema, form_schema, schema_of
from server.forms.validator import Result, validate

__all__ = [
    "COMMON_KEYS",
    "REGISTRY",
    "Choice",
    "Condition",
    "Field",
    "FieldType",
    "Form",
    "Message",
    "Questions",
    "Registry",
    "Result",
    "Section",
    "UnknownForm",
    "all_forms_schema",
    "form_context",
    "form_schema",
    "get_form",
    "latest_form",
    "schema_of",
    "validate",
]
