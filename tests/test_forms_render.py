import contextvars
import json
from functools import cache
from html.parser import HTMLParser
from typing import Any

import pytest
from starlette.requests import Request

from server import i18n
from server.forms import FieldType, Form, form_context, get_form, latest_form, validate
from server.i18n import Translator, load_catalogues
from server.settings import LANGUAGES, ROOT
from server.web.templating import templates
from tests.test_forms_cases import NOW, PARTICIPANT, PILLARS, valid

MACRO_PAGE = (
    '{% import "forms/macros.html" as forms with context %}'
    "{{ forms.session_form(form, values, errors, participants, action) }}"
)
CASELOAD = [(PARTICIPANT, "KZ-0042"), ("00000000-0000-4000-8000-000000000001", "KZ-0043")]


@cache
def translator(language: str) -> Translator:
    return Translator(language, load_catalogues(ROOT / "locales")[language], "Asia/Almaty")


def render(form: Form, language: str, result: Any = None, source: str = MACRO_PAGE) -> str:
    """Render in ``language`` inside a copied context, so no test leaks its language."""
    t = translator(language)

    def run() -> str:
        i18n.activate(t)
        context = form_context(
            form,
            result=result,
            participants=CASELOAD,
            user_name="Aigerim",
            action="/sessions/new",
            translator=t,
        )
        return templates.env.from_string(source).render(t=t, csrf_token="csrf-123", **context)

    return contextvars.copy_context().run(run)


class Page(HTMLParser):
    """Elements with their attributes, and the text inside each textarea."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.textareas: dict[str, str] = {}
        self._in_textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "textarea":
            self._in_textarea = dict(attrs)["name"]
            self.textareas[self._in_textarea or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._in_textarea = None

    def handle_data(self, data: str) -> None:
        if self._in_textarea:
            self.textareas[self._in_textarea] += data

    def find(self, **wanted: str) -> list[dict[str, str | None]]:
        return [
            attrs
            for _, attrs in self.elements
            if all(attrs.get(k.replace("_", "-")) == v for k, v in wanted.items())
        ]

    def by_id(self, id_: str) -> tuple[str, dict[str, str | None]]:
        found = [(tag, attrs) for tag, attrs in self.elements if attrs.get("id") == id_]
        assert len(found) == 1, id_
        return found[0]

    def controls(self, name: str) -> list[tuple[str, dict[str, str | None]]]:
        return [(tag, attrs) for tag, attrs in self.elements if attrs.get("name") == name]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("pillar", PILLARS)
def test_every_form_renders_every_field_in_every_language(pillar: str, language: str) -> None:
    form = latest_form(pillar)
    page = Page(render(form, language))
    (form_tag,) = page.find(data_form=pillar)
    assert form_tag["method"] == "post" and form_tag["data-version"] == str(form.version)
    assert page.find(name="csrf_token", value="csrf-123", type="hidden")
    assert page.find(name="form_version", value=str(form.version))
    for field in form.fields:
        tag, wrapper = page.by_id(f"f-{field.key}-field")
        assert wrapper["data-field"] == field.key and wrapper["data-type"] == field.type
        controls = page.controls(field.key)
        for _, attrs in controls:
            assert attrs["autocomplete"] == "off"
        always = field.required and not field.conditional
        if field.type in (FieldType.SINGLE_CHOICE, FieldType.YES_NO, FieldType.MULTIPLE_CHOICE):
            assert tag == "fieldset"
            assert [a["value"] for _, a in controls] == list(field.choice_keys)
            for _, attrs in controls:
                assert page.find(**{"for": attrs["id"] or ""})
        elif field.type is FieldType.SCALE:
            assert tag == "fieldset"
            assert [a["value"] for _, a in controls] == [str(p) for p in field.scale_points]
        else:
            assert tag == "div"
            ((control_tag, control),) = controls
            assert control["id"] == f"f-{field.key}"
            assert page.find(**{"for": f"f-{field.key}"})
            if field.type is FieldType.NUMBER:
                assert (control["type"], control["min"], control["max"]) == (
                    "number",
                    str(field.min),
                    str(field.max),
                )
            if field.type in (FieldType.TEXT, FieldType.LONG_TEXT):
                assert control["maxlength"] == str(field.max_length)
            if field.type is FieldType.PARTICIPANT:
                assert control_tag == "select"
                assert {a["value"] for a in page.find(value=PARTICIPANT)}
        if field.type is not FieldType.MULTIPLE_CHOICE:
            assert all(("required" in a) == always for _, a in controls), field.key
        if field.show_when:
            assert json.loads(wrapper["data-show-when"] or "") == field.show_when.as_json()
        if field.required_when:
            assert json.loads(wrapper["data-required-when"] or "") == field.required_when.as_json()


def _required_mark_shown(html: str, key: str) -> bool:
    start = html.index(f'id="f-{key}-field"')
    mark = html.index("data-required-mark", start)
    return not html[mark:].startswith("data-required-mark hidden")


@pytest.mark.parametrize("pillar", PILLARS)
def test_required_markers_follow_the_definition(pillar: str) -> None:
    form = latest_form(pillar)
    html = render(form, "en")
    for field in form.fields:
        assert _required_mark_shown(html, field.key) == field.required, field.key
    assert html.count('<span class="visually-hidden">required</span>') == len(form.fields)


@pytest.mark.parametrize("pillar", PILLARS)
def test_the_structure_is_the_same_in_every_language(pillar: str) -> None:
    form = latest_form(pillar)
    structures = {lang: Page(render(form, lang)).elements for lang in LANGUAGES}
    for language in LANGUAGES:
        assert structures[language] == structures["en"], language


def test_errors_are_shown_next_to_fields_and_summarised_with_links() -> None:
    form = latest_form("vocational")
    data = valid("vocational") | {"training_hours": "many", "trade": "other", "occurred_on": ""}
    result = validate(form, data, now=NOW)
    html = render(form, "en", result)
    page = Page(html)
    assert set(result.errors) == {"training_hours", "trade_other", "occurred_on"}
    links = [a["href"] for tag, a in page.elements if tag == "a"]
    assert len(links) == 3
    for href in links:
        page.by_id((href or "").removeprefix("#"))  # every link lands on a control
    for key in result.errors:
        _, control = page.by_id(f"f-{key}")
        assert control["aria-invalid"] == "true"
        assert f"f-{key}-error" in (control["aria-describedby"] or "").split()
    # What was typed comes back, even where the browser's number field would
    # have dropped it.
    (hours,) = page.find(name="training_hours")
    assert (hours["type"], hours["value"]) == ("text", "many")
    ((_, other),) = [(t, a) for t, a in page.controls("trade") if a["value"] == "other"]
    assert "checked" in other
    assert "Please check 3 answers." in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reference_points_to_one_element(language: str) -> None:
    form = latest_form("counselling")
    result = validate(form, {"attendance": "attended", "concerns_observed": "yes"}, now=NOW)
    page = Page(render(form, language, result))
    ids = [a["id"] for _, a in page.elements if a.get("id")]
    assert len(ids) == len(set(ids))
    for _, attrs in page.elements:
        for ref in [*(attrs.get("aria-describedby") or "").split(), attrs.get("for") or ""]:
            if ref:
                assert ref in ids


def test_a_hostile_note_is_rendered_inert() -> None:
    note = (
        "</textarea><script>alert('x')</script><img src=x onerror=alert(1)> "
        "Қатысушы келді. حضر المشارك. \u202eevil.exe\u202c"
    )
    form = latest_form("family")
    result = validate(
        form, valid("family") | {"notes": note, "place": '"><script>alert(2)</script>'}, now=NOW
    )
    html = render(form, "ar", result)
    assert "<script" not in html and "<img" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;" in html
    page = Page(html)
    assert page.textareas["notes"] == "\n" + note  # the parser drops the first newline
    (place,) = page.find(name="place")
    assert place["value"] == '"><script>alert(2)</script>'
    # The override character stays inside the text box it was typed in.
    start, end = html.index('name="notes"'), html.index("</textarea>", html.index('name="notes"'))
    assert html.count("\u202e") == 1 and start < html.index("\u202e") < end


def test_facilitator_defaults_to_the_signed_in_worker() -> None:
    page = Page(render(latest_form("education"), "fr"))
    (facilitator,) = page.find(name="facilitator")
    assert facilitator["value"] == "Aigerim"


def _request() -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/sessions/new",
            "headers": [],
            "query_string": b"",
            "scheme": "http",
            "server": ("localhost", 8000),
        }
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_embeds_the_schema_and_the_script(language: str) -> None:
    form = get_form("family", 1)
    t = translator(language)

    def run() -> str:
        i18n.activate(t)
        template = templates.env.get_template("forms/session.html")
        return template.render(
            request=_request(),
            t=t,
            lang=language,
            dir=t.direction,
            languages=i18n.language_names(),
            nonce="n0nce",
            user=None,
            csrf_token="csrf-123",
            **form_context(form, participants=CASELOAD, action="/x", translator=t),
        )

    html = contextvars.copy_context().run(run)
    assert f'dir="{t.direction}"' in html
    start = html.index('<script type="application/json" id="form-schema">') + 49
    schema = json.loads(html[start : html.index("</script>", start)])
    assert schema["hash"] == form.content_hash and schema["language"] == language
    assert 'src="/pwa/forms.js?v=' in html and 'nonce="n0nce"' in html
