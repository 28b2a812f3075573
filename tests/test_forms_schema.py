"""The JSON schema, and pwa/forms.js agreeing with the Python validator."""

import json
import os
import random
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.forms import (
    Field,
    FieldType,
    all_forms_schema,
    form_schema,
    latest_form,
    validate,
)
from server.forms.messages import field_messages
from server.i18n import Translator, load_catalogues
from server.settings import LANGUAGES, ROOT
from tests.test_forms_cases import NOW, PARTICIPANT, PILLARS, valid


@cache
def translator(language: str) -> Translator:
    return Translator(language, load_catalogues(ROOT / "locales")[language])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_schema_describes_every_field_in_one_language(language: str) -> None:
    t = translator(language)
    for pillar in PILLARS:
        form = latest_form(pillar)
        schema = form_schema(pillar, form.version, t)
        json.dumps(schema)  # plain JSON, nothing Python-only
        assert (schema["pillar"], schema["version"], schema["language"]) == (
            pillar,
            form.version,
            language,
        )
        assert schema["hash"] == form.content_hash
        assert [f["key"] for f in schema["fields"]] == [f.key for f in form.fields]
        assert sum(len(s["fields"]) for s in schema["sections"]) == len(form.fields)
        for field, described in zip(form.fields, schema["fields"], strict=True):
            assert described["label"] == t.gettext(field.label)
            assert [c["key"] for c in described["choices"]] == list(field.choice_keys)
            assert (described["min"], described["max"]) == (field.min, field.max)
            assert described["max_length"] == field.max_length
            expected = {code: msg.text(t) for code, msg in field_messages(field).items()}
            assert described["messages"] == expected


def test_all_forms_lists_every_version_and_the_latest() -> None:
    schema = all_forms_schema(translator("ar"))
    assert schema["direction"] == "rtl"
    assert schema["latest"] == {pillar: 1 for pillar in PILLARS}
    assert sorted((f["pillar"], f["version"]) for f in schema["forms"]) == sorted(
        (pillar, 1) for pillar in PILLARS
    )


# --- Python and JavaScript give the same verdicts ------------------------------------

NODE_RUNNER = """
import { validate } from %s;
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { schemas, cases } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = cases.map((c) => {
  const schema = schemas[c.language][c.pillar];
  const options = { timeZone: c.tz, participants: c.participants };
  const result = validate(schema, c.values, new Date(c.now), options);
  return { ok: result.ok, clean: result.clean, errors: result.errors };
});
process.stdout.write(JSON.stringify(results));
"""

TIME_ZONES = ("UTC", "Asia/Almaty", "Africa/Tunis", "Africa/Kampala")
OTHER_ID = "00000000-0000-4000-8000-000000000001"


def run_node(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is required in CI")
        pytest.skip("node is not installed here")
    schemas = {
        lang: {p: form_schema(p, 1, translator(lang)) for p in PILLARS} for lang in LANGUAGES
    }
    module = json.dumps((ROOT / "pwa" / "forms.js").as_uri())
    completed = subprocess.run(
        [node, "--input-type=module", "-e", NODE_RUNNER % module],
        input=json.dumps({"schemas": schemas, "cases": cases}),
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
        timeout=60,
    )
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results


def python_verdict(case: dict[str, Any]) -> dict[str, Any]:
    form = latest_form(case["pillar"])
    result = validate(
        form,
        case["values"],
        now=datetime.fromisoformat(case["now"]),
        tz=ZoneInfo(case["tz"]),
        participant_ids=case["participants"],
    )
    t = translator(case["language"])
    return {
        "ok": result.ok,
        "clean": result.as_json(),
        "errors": {key: {"code": e.code, "message": e.text(t)} for key, e in result.errors.items()},
    }


def case(pillar: str, values: dict[str, Any], **options: Any) -> dict[str, Any]:
    return {
        "pillar": pillar,
        "values": values,
        "now": options.get("now", NOW).isoformat(),
        "tz": options.get("tz", "UTC"),
        "participants": options.get("participants"),
        "language": options.get("language", "en"),
    }


def written_cases() -> list[dict[str, Any]]:
    """The cases a person would think of, one rule each."""
    f, e, v, c = (valid(p) for p in PILLARS)
    almaty = {"tz": "Asia/Almaty"}
    return [
        case("family", f),
        case("education", e, language="ru"),
        case("vocational", v, language="ar"),
        case("counselling", c, language="kk"),
        case("family", {}),
        case("family", f | {"attendance": "missed"}),
        case("family", f | {"attendance": "cancelled", "attendance_reason": "Rain"}),
        case("family", f | {"follow_up": "yes"}),
        case("family", f | {"follow_up": True, "follow_up_details": "Call"}),
        case("family", f | {"family_concerns": ["none", "money"]}, language="fr"),
        case("family", f | {"family_concerns": ["money", "money", "housing"]}),
        case("family", f | {"family_concerns": "money"}),
        case("family", f | {"family_present": ["cousin"]}),
        case("family", f | {"family_readiness": "6", "engagement": 0}),
        case("family", f | {"unknown": "x", "csrf_token": "y"}),
        case("family", f | {"notes": "a\x00b\r\nc\td \u202eabc\u202c"}),
        case("family", f | {"notes": "bell\x07"}),
        case("family", f | {"notes": "lone \ud800"}),
        case("family", f | {"notes": "🙂" * 10_000}),
        case("family", f | {"notes": "🙂" * 10_001}),
        case("family", f | {"notes": " \ufeff\u3000 "}),
        case("family", f | {"place": "x" * 201}),
        case("education", e | {"occurred_on": "2024-02-30"}),
        case("education", e | {"occurred_on": "2024-02-29"}),
        case("education", e | {"occurred_on": "0000-01-01"}),
        case("education", e | {"occurred_on": "0099-05-05"}),
        case("education", e | {"occurred_on": "2025-3-1"}),
        case("education", e | {"occurred_on": "2025-03-11"}),
        case("education", e | {"occurred_on": "2025-03-11"}, **almaty),
        case("education", e | {"occurred_time": "17:09"}, **almaty),
        case("education", e | {"occurred_time": "17:11"}, **almaty),
        case(
            "education",
            e | {"occurred_on": "2025-03-11", "occurred_time": "00:05"},
            now=NOW.replace(hour=18, minute=58),
            tz="Asia/Almaty",
        ),
        case("education", e | {"occurred_time": "9:05:59"}),
        case("education", e | {"occurred_time": "24:00"}),
        case("education", e | {"programme": "other"}),
        case("education", e | {"certificate_gained": "yes", "certificate_details": "Grade 5"}),
        case("vocational", v | {"training_hours": "٤٥"}),
        case("vocational", v | {"training_hours": 45.0}),
        case("vocational", v | {"training_hours": 45.5}),
        case("vocational", v | {"training_hours": "1e2"}),
        case("vocational", v | {"training_hours": "9" * 40}),
        case("vocational", v | {"training_hours": "-0"}),
        case("vocational", v | {"training_hours": True}),
        case("vocational", v | {"training_hours": 1e30}),
        case("vocational", v | {"placement": "yes"}),
        case("vocational", v | {"trade": ["welding"]}),
        case("counselling", c | {"topics": ["other"]}),
        case("counselling", c | {"concerns_observed": "yes", "concerns_details": "Sad"}),
        case("counselling", c | {"participant": PARTICIPANT.upper()}),
        case("counselling", c | {"participant": OTHER_ID}, participants=[PARTICIPANT]),
        case("counselling", c | {"participant": "{" + PARTICIPANT + "}"}),
    ]


# Answers a fuzzer draws from, per field type: valid ones, edge ones and
# plain wrong ones, in both transports' shapes.
# fmt: off
POOLS: dict[FieldType, list[Any]] = {
    FieldType.TEXT: ["", "  ", "ok", "a\x00b", "bell\x07", "\x1c", "\x85", "\ud800", "line\r\nx",
                     "\u202eabc", " \ufeff x \u3000", "🙂" * 200, "🙂" * 201, 5, True, ["a"], None],
    FieldType.NUMBER: ["", "5", "600", "601", "4", "٤٥", "۴۵", "+7", "-0", "0", "007", "1e2",
                       "4.5", 45, 45.0, 45.5, True, None, "9" * 12, " 12 ", "\u00a012", 1e30, [5]],
    FieldType.DATE: ["", "2025-03-10", "2025-03-11", "2024-02-29", "2023-02-29", "0000-01-01",
                     "0099-05-05", "2025-3-1", "9999-12-31", 20250310, None, "2025-03-09",
                     "1999-12-31", "2000-01-01"],
    FieldType.TIME: ["", "10:30", "9:30", "24:00", "23:59", "17:05", "17:15", "10:30:61", "aa",
                     None, "00:00", "11:59:59", "12:09", "12:11"],
    FieldType.YES_NO: ["yes", "no", True, False, "maybe", "", None, 1, " yes "],
    FieldType.PARTICIPANT: [PARTICIPANT, PARTICIPANT.upper(), OTHER_ID, "not", "", None, 7],
}
# fmt: on


def draw(rng: random.Random, field: Field) -> Any:
    keys = list(field.choice_keys)
    if field.type is FieldType.LONG_TEXT:
        return rng.choice(
            [
                *POOLS[FieldType.TEXT],
                "x" * (field.max_length or 0),
                "x" * ((field.max_length or 0) + 1),
            ]
        )
    if field.type is FieldType.SCALE:
        return rng.choice(["1", "5", "0", "6", 3, 3.0, 3.5, "", None, "٣"])
    if field.type is FieldType.SINGLE_CHOICE:
        return rng.choice([*keys, *keys, "", "nope", 1, None, [keys[0]]])
    if field.type is FieldType.MULTIPLE_CHOICE:
        some = rng.sample(keys, rng.randint(1, min(3, len(keys))))
        return rng.choice([some, some, [], [keys[0], keys[0]], keys[0], [1], ["nope"], None, [""]])
    return rng.choice(POOLS[field.type])


def fuzzed_cases(count: int) -> list[dict[str, Any]]:
    rng = random.Random(20250310)  # fixed: a failure can be replayed
    cases = []
    for _ in range(count):
        pillar = rng.choice(PILLARS)
        values = valid(pillar)
        for field in latest_form(pillar).fields:
            roll = rng.random()
            if roll < 0.03:
                values.pop(field.key, None)
            elif roll < 0.10:
                values[field.key] = draw(rng, field)
        if rng.random() < 0.05:
            values["surprise"] = "x"
        now = NOW + timedelta(minutes=rng.choice([0, -725, 700, 5]))
        cases.append(
            case(
                pillar,
                values,
                now=now.astimezone(UTC),
                tz=rng.choice(TIME_ZONES),
                participants=rng.choice([None, [PARTICIPANT]]),
                language=rng.choice(LANGUAGES),
            )
        )
    return cases


def test_python_and_javascript_agree_on_written_cases() -> None:
    cases = written_cases()
    for written, from_js in zip(cases, run_node(cases), strict=True):
        assert from_js == python_verdict(written), written["values"]


def test_python_and_javascript_agree_on_many_drawn_cases() -> None:
    cases = fuzzed_cases(1500)
    verdicts = [python_verdict(c) for c in cases]
    assert 100 < sum(v["ok"] for v in verdicts) < 1400  # the draw exercises both outcomes
    for drawn, expected, from_js in zip(cases, verdicts, run_node(cases), strict=True):
        assert from_js == expected, drawn
