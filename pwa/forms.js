// Session forms on the phone: the rules of server/forms/validator.py,
// applied to the JSON schema of server/forms/schema.py. Labels and error
// messages arrive in the schema already translated, so this file has no
// strings of its own. Keep the two validators in step:
// tests/test_forms_js.py runs both on the same table of cases.

const TEXT_TYPES = new Set(["text", "long_text"]);
const GROUP_TYPES = new Set(["single_choice", "multiple_choice", "yes_no", "scale"]);

// The same set of characters Python strips (see _SPACE in validator.py).
const SPACE = "[\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]";
const TRIM = new RegExp(`^${SPACE}+|${SPACE}+$`, "g");
// Control characters except tab and newline, and lone surrogates. Format
// characters such as U+202E are kept: mixed-script text needs them.
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const BAD_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|\p{Cs}/u;
const INTEGER = /^[+-]?[0-9]+$/;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const TIME = /^([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_DIGITS = 9;
const DAY_MS = 86_400_000;

class Problem {
  constructor(code) {
    this.code = code;
  }
}

const strip = (text) => text.replace(TRIM, "");

// Arabic keyboards type Arabic-Indic digits; the server accepts them too.
const westernDigits = (text) =>
  text.replace(/[\u0660-\u0669\u06f0-\u06f9]/g, (digit) => {
    const code = digit.codePointAt(0);
    return String(code >= 0x6f0 ? code - 0x6f0 : code - 0x660);
  });

function tokensOf(value) {
  const items = Array.isArray(value) ? value : [value];
  const found = [];
  for (const item of items) {
    if (typeof item === "boolean") found.push(item ? "yes" : "no");
    else if (typeof item === "string") found.push(strip(item));
    else if (typeof item === "number") found.push(String(item));
  }
  return found;
}

function conditionHolds(condition, shown, tokens) {
  if (!condition) return false;
  return Object.entries(condition).every(
    ([key, wanted]) => shown.has(key) && (tokens[key] || []).some((t) => wanted.includes(t)),
  );
}

function text(field, value) {
  if (typeof value !== "string") throw new Problem("bad_value");
  if (BAD_CHARACTERS.test(value)) throw new Problem("bad_characters");
  // Counted in code points, as Python does, not in UTF-16 units.
  if (field.max_length != null && [...value].length > field.max_length) {
    throw new Problem("too_long");
  }
  return value;
}

function integer(field, value) {
  let number;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Problem("not_integer");
    number = value;
  } else if (typeof value === "string") {
    const digits = westernDigits(value);
    if (!INTEGER.test(digits)) throw new Problem("not_integer");
    if (digits.replace(/^[+-]/, "").length > MAX_DIGITS) throw new Problem("out_of_range");
    number = Number.parseInt(digits, 10);
  } else {
    throw new Problem("bad_value");
  }
  if (number < field.min || number > field.max) throw new Problem("out_of_range");
  return number === 0 ? 0 : number; // no "-0"
}

const pad = (number, width) => String(number).padStart(width, "0");

function isLeap(year) {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function date(field, value) {
  if (typeof value !== "string") throw new Problem("bad_value");
  const match = DATE.exec(value);
  if (!match) throw new Problem("bad_date");
  const [year, month, day] = match.slice(1).map(Number);
  const days = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days[month - 1]) {
    throw new Problem("no_such_date");
  }
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

function time(field, value) {
  if (typeof value !== "string") throw new Problem("bad_value");
  const match = TIME.exec(value);
  if (!match) throw new Problem("bad_time");
  const [hour, minute, second] = match.slice(1).map((part) => Number(part || 0));
  if (hour > 23 || minute > 59 || second > 59) throw new Problem("bad_time");
  return `${pad(hour, 2)}:${pad(minute, 2)}`;
}

function single(field, value) {
  if (typeof value !== "string") throw new Problem("bad_value");
  if (!field.choices.some((choice) => choice.key === value)) throw new Problem("bad_choice");
  return value;
}

function yesNo(field, value) {
  if (typeof value === "boolean") return value;
  return single(field, value) === "yes";
}

function multiple(field, value) {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new Problem("bad_value");
  }
  const keys = field.choices.map((choice) => choice.key);
  if (value.some((item) => !keys.includes(item))) throw new Problem("bad_choice");
  const chosen = [...new Set(value)];
  const exclusive = field.choices.filter((c) => c.exclusive).map((c) => c.key);
  if (chosen.length > 1 && chosen.some((item) => exclusive.includes(item))) {
    throw new Problem("exclusive");
  }
  return chosen;
}

function participant(field, value, participants) {
  if (typeof value !== "string") throw new Problem("bad_value");
  if (!UUID.test(value)) throw new Problem("bad_choice");
  const chosen = value.toLowerCase();
  if (participants != null && !participants.some((id) => String(id).toLowerCase() === chosen)) {
    throw new Problem("bad_choice");
  }
  return chosen;
}

const PARSERS = {
  text,
  long_text: text,
  number: integer,
  scale: integer,
  date,
  time,
  single_choice: single,
  multiple_choice: multiple,
  yes_no: yesNo,
  participant,
};

function cleanValue(field, value, required, participants) {
  if (typeof value === "string") {
    value = TEXT_TYPES.has(field.type)
      ? strip(value.replace(/\r\n?/g, "\n"))
      : strip(value);
  } else if (Array.isArray(value)) {
    value = value.map((item) => (typeof item === "string" ? strip(item) : item));
    value = value.filter((item) => item !== "");
  }
  if (value == null || value === "" || (Array.isArray(value) && value.length === 0)) {
    if (required) throw new Problem("required");
    return field.type === "multiple_choice" ? [] : null;
  }
  return PARSERS[field.type](field, value, participants);
}

// Milliseconds of the wall-clock time in `timeZone`, written as if UTC, so
// that local dates and times compare as plain numbers (as Python compares
// naive local datetimes).
function wallClock(now, timeZone) {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const parts = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, p.value]));
  return (
    utc(+parts.year, +parts.month, +parts.day, +parts.hour, +parts.minute, +parts.second) +
    now.getUTCMilliseconds()
  );
}

// Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
function utc(year, month, day, hour = 0, minute = 0, second = 0) {
  const moment = new Date(0);
  moment.setUTCFullYear(year, month - 1, day);
  moment.setUTCHours(hour, minute, second, 0);
  return moment.getTime();
}

function checkMoment(schema, clean, errors, now, timeZone) {
  if (!schema.moment) return;
  const [dayKey, timeKey] = schema.moment;
  const day = clean[dayKey];
  if (day == null || dayKey in errors) return;
  const latest = wallClock(now, timeZone) + schema.clock_skew_minutes * 60_000;
  const [year, month, date_] = day.split("-").map(Number);
  const dayStart = utc(year, month, date_);
  if (dayStart > Math.floor(latest / DAY_MS) * DAY_MS) {
    errors[dayKey] = problemFor(schema, dayKey, "in_future");
    return;
  }
  // ISO dates compare as text; the server refuses the same days.
  if (schema.earliest_day && day < schema.earliest_day) {
    errors[dayKey] = problemFor(schema, dayKey, "too_early");
    return;
  }
  const hour = clean[timeKey];
  if (hour == null || timeKey in errors) return;
  const [hours, minutes] = hour.split(":").map(Number);
  if (utc(year, month, date_, hours, minutes) > latest) {
    errors[timeKey] = problemFor(schema, timeKey, "in_future");
  }
}

function problemFor(schema, key, code) {
  const field = schema.fields.find((f) => f.key === key);
  return { code, message: field ? field.messages[code] : schema.messages[code] };
}

/**
 * Check `values` (field key → string, list of strings, number or boolean)
 * against a form schema, as the server will.
 * Returns {ok, clean, errors}: errors maps a field key to {code, message}.
 * Keys the form does not know are errors, as in the server's JSON mode.
 */
export function validate(schema, values, now, { timeZone = "UTC", participants = null } = {}) {
  const errors = {};
  const clean = {};
  const tokens = {};
  const shown = new Set();
  for (const field of schema.fields) {
    const value = Object.hasOwn(values, field.key) ? values[field.key] : null;
    tokens[field.key] = tokensOf(value);
    if (field.show_when && !conditionHolds(field.show_when, shown, tokens)) continue;
    shown.add(field.key);
    const required = field.required || conditionHolds(field.required_when, shown, tokens);
    try {
      clean[field.key] = cleanValue(field, value, required, participants);
    } catch (problem) {
      if (!(problem instanceof Problem)) throw problem;
      errors[field.key] = { code: problem.code, message: field.messages[problem.code] };
    }
  }
  checkMoment(schema, clean, errors, now, timeZone);
  const known = new Set(schema.fields.map((field) => field.key));
  for (const key of Object.keys(values)) {
    if (!known.has(key)) errors[key] = problemFor(schema, key, "unknown_field");
  }
  return { ok: Object.keys(errors).length === 0, clean, errors };
}

/** What the form holds now, keyed like the schema (hidden fields included). */
export function collectValues(formElement, schema) {
  const values = {};
  for (const field of schema.fields) {
    const inputs = [...formElement.querySelectorAll(`[name="${field.key}"]`)];
    if (field.type === "multiple_choice") {
      values[field.key] = inputs.filter((input) => input.checked).map((input) => input.value);
    } else if (GROUP_TYPES.has(field.type)) {
      const checked = inputs.find((input) => input.checked);
      values[field.key] = checked ? checked.value : "";
    } else {
      values[field.key] = inputs.length ? inputs[0].value : "";
    }
  }
  return values;
}

/**
 * Show only the fields whose conditions hold, now and whenever an answer
 * changes. Hidden fields are disabled, so the browser neither sends nor
 * checks them, just as the server drops them.
 */
export function applyConditions(formElement, schema) {
  const update = () => {
    const values = collectValues(formElement, schema);
    const shown = new Set();
    const tokens = {};
    for (const field of schema.fields) {
      tokens[field.key] = tokensOf(values[field.key]);
      const visible = !field.show_when || conditionHolds(field.show_when, shown, tokens);
      if (visible) shown.add(field.key);
      const required =
        visible && (field.required || conditionHolds(field.required_when, shown, tokens));
      const wrapper = formElement.querySelector(`[data-field="${field.key}"]`);
      if (!wrapper) continue;
      wrapper.hidden = !visible;
      // `.field { display: flex }` in app.css outranks the `hidden`
      // attribute; an inline display does not (and CSP allows it from here).
      wrapper.style.display = visible ? "" : "none";
      for (const input of wrapper.querySelectorAll("input, select, textarea")) {
        input.disabled = !visible;
        // "At least one" cannot be said with `required` on checkboxes.
        if (input.type !== "checkbox") input.required = required;
      }
      const mark = wrapper.querySelector("[data-required-mark]");
      if (mark) mark.hidden = !required;
      // The page shows and hides the fields itself, so the written
      // conditions (there for pages without JavaScript) are not needed.
      for (const hint of wrapper.querySelectorAll("[data-condition-hint]")) hint.hidden = true;
    }
  };
  if (!formElement.dataset.conditions) {
    formElement.dataset.conditions = "on";
    formElement.addEventListener("change", update);
    formElement.addEventListener("input", update);
  }
  update();
}

/** Put each error next to its field; returns the first invalid control. */
export function showErrors(formElement, errors) {
  /** @type {HTMLElement | null} */
  let first = null;
  for (const wrapper of formElement.querySelectorAll("[data-field]")) {
    const error = errors[wrapper.dataset.field];
    const problem = wrapper.querySelector("[data-problem]");
    if (problem) {
      problem.textContent = error ? error.message : "";
      problem.hidden = !error;
    }
    for (const input of wrapper.querySelectorAll("input, select, textarea")) {
      if (error) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    if (error && !first) first = wrapper.querySelector("input, select, textarea");
  }
  return first;
}

function start(formElement, schema) {
  applyConditions(formElement, schema);
  // Our messages, in the worker's language, instead of the browser's.
  formElement.noValidate = true;
  formElement.addEventListener("submit", (event) => {
    const timeZone = formElement.dataset.timeZone || "UTC";
    const result = validate(schema, collectValues(formElement, schema), new Date(), { timeZone });
    const first = showErrors(formElement, result.errors);
    if (!result.ok) {
      event.preventDefault();
      if (first) first.focus();
    }
  });
}

if (typeof document !== "undefined") {
  const data = document.getElementById("form-schema");
  const formElement = document.querySelector("form[data-form]");
  if (data && formElement) start(formElement, JSON.parse(data.textContent));
}
