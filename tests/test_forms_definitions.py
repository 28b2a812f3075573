import dataclasses
import re

import pytest

from server import catalogues
from server.enums import Pillar
from server.forms import (
    REGISTRY,
    Field,
    FieldType,
    Form,
    Registry,
    Section,
    UnknownForm,
    form_schema,
    get_form,
    latest_form,
    validate,
)
from server.forms.common import CLOSING
from server.forms.fields import choices, number, single, text, when, yes_no
from server.i18n import N_, Translator
from tests.test_forms_cases import NOW, valid


@pytest.fixture
def family_v2() -> Form:
    """A later family form: one question gone, one changed, one new."""
    v1 = get_form("family", 1)
    about, own, closing = v1.sections
    kept = tuple(f for f in own.fields if f.key not in ("setting", "next_steps"))
    added = (
        single(
            "setting",
            N_("How did you meet?"),
            choices(
                ("home_visit", N_("Home visit")), ("phone_video", N_("By phone or video call"))
            ),
            required=True,
        ),
        yes_no("housing_secured", N_("Does the participant have a place to live?"), required=True),
    )
    return dataclasses.replace(
        v1, version=2, sections=(about, dataclasses.replace(own, fields=kept + added), closing)
    )


def test_every_pillar_has_a_form() -> None:
    assert {form.pillar for form in REGISTRY} == set(Pillar)
    for pillar in Pillar:
        assert latest_form(pillar).version == 1
        assert get_form(str(pillar), 1) is latest_form(pillar)


def test_old_versions_stay_readable_after_a_new_one(family_v2: Form) -> None:
    registry = REGISTRY.with_form(family_v2)
    assert registry.versions("family") == (1, 2)
    assert latest_form("family", registry) is family_v2
    v1 = get_form("family", 1, registry)
    assert v1 is get_form("family", 1)
    # An answer set made with version 1 still validates against version 1 …
    answers = valid("family")
    assert validate(v1, answers, now=NOW).ok
    # … but not against version 2, which no longer asks for next steps.
    result = validate(family_v2, answers, now=NOW)
    assert result.errors["next_steps"].code == "unknown_field"
    assert result.errors["housing_secured"].code == "required"
    # Both versions have their own schema and hash.
    english = Translator("en")
    old, new = (form_schema("family", v, english, registry) for v in (1, 2))
    assert old["version"] == 1 and new["version"] == 2
    assert old["hash"] != new["hash"]
    assert "next_steps" in {f["key"] for f in old["fields"]}
    # The registry in use by the app is unchanged.
    assert REGISTRY.versions("family") == (1,)


def test_unknown_forms_are_a_422() -> None:
    for pillar, version in (("family", 9), ("cooking", 1)):
        with pytest.raises(UnknownForm) as raised:
            get_form(pillar, version)
        assert raised.value.status == 422
    with pytest.raises(UnknownForm):
        Registry([]).latest("family")


def test_a_version_is_registered_once() -> None:
    with pytest.raises(ValueError, match="twice"):
        REGISTRY.with_form(get_form("family", 1))


def test_the_hash_follows_the_definition_not_the_language() -> None:
    form = get_form("education", 1)
    assert re.fullmatch(r"[0-9a-f]{64}", form.content_hash)
    assert form.content_hash == dataclasses.replace(form).content_hash
    reworded = dataclasses.replace(form, title=N_("Studies"))
    assert reworded.content_hash != form.content_hash
    hashes = {form_schema("education", 1, Translator(lang))["hash"] for lang in ("en", "ar")}
    assert hashes == {form.content_hash}


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ((text("a", "A"), text("a", "A again")), "declared twice"),
        ((text("a", "A", show_when=when("b", "yes")), yes_no("b", "B")), "later field"),
        ((yes_no("b", "B"), text("a", "A", show_when=when("b", "perhaps"))), "not choices"),
    ],
)
def test_declaration_mistakes_fail_at_import(fields: tuple[Field, ...], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Form(Pillar.FAMILY, 9, "T", (Section("S", fields),), moment=None)


def test_field_declaration_mistakes_fail_at_import() -> None:
    with pytest.raises(ValueError, match="needs choices"):
        single("a", "A", ())
    with pytest.raises(ValueError, match="both bounds"):
        number("a", "A", min=1, max=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="repeat"):
        single("a", "A", choices(("x", "X"), ("x", "Y")))
    with pytest.raises(ValueError, match="moment"):
        Form(Pillar.FAMILY, 9, "T", (CLOSING,))


def _strings(form: Form) -> set[str]:
    found = {form.title, *(section.title for section in form.sections)}
    for field in form.fields:
        found |= {field.label, field.help, field.low_label, field.high_label}
        found |= {choice.label for choice in field.choices}
    return found - {""}


def test_every_definition_string_is_extracted_for_translation() -> None:
    extracted = {message.id for message in catalogues.build_template() if message.id}
    for form in REGISTRY:
        assert _strings(form) <= extracted


def test_wording_is_respectful() -> None:
    for form in REGISTRY:
        for string in _strings(form):
            assert not re.search(r"offender|extremis|convict|inmate|criminal", string, re.I)


def test_every_choice_field_has_real_choices_and_every_number_bounds() -> None:
    for form in REGISTRY:
        for field in form.fields:
            if field.type in (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE):
                assert len(field.choices) >= 2
            if field.type in (FieldType.NUMBER, FieldType.SCALE):
                assert field.min is not None and field.max is not None
                assert field.min < field.max


def test_the_page_starts_with_the_fields_the_validator_reads() -> None:
    # Form.shown marks what the page hides before pwa/forms.js runs: it must
    # agree with the validator, for answers that meet a condition and not.
    checked = 0
    for form in REGISTRY:
        for field in form.fields:
            if field.show_when is None:
                continue
            for answer in (field.show_when.values[0], ""):
                values = {**valid(form.pillar), field.show_when.field: answer}
                result = validate(form, values, now=NOW)
                read = set(result.clean) | (set(result.errors) & set(form.by_key))
                assert form.shown(values) == read, (form.pillar, field.key, answer)
                assert (field.key in read) is bool(answer)
                checked += 1
    assert checked >= 4
