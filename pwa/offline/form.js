// A session form drawn on the phone from the cached schema, with the same
// markup as server/templates/forms/macros.html, so the style sheet and
// pwa/forms.js (conditions, errors) work on it unchanged.

import { _ } from '../i18n.js';
import { h } from './dom.js';

const GROUP_TYPES = new Set(['single_choice', 'multiple_choice', 'yes_no', 'scale']);

function requiredMark(field) {
  return h(
    'span',
    { class: 'required', 'data-required-mark': true, hidden: !field.required },
    h('span', { class: 'required-mark', 'aria-hidden': 'true' }, '*'),
    h('span', { class: 'visually-hidden' }, _('required')),
  );
}

function describedBy(field) {
  const ids = [];
  if (field.help) ids.push(`f-${field.key}-help`);
  ids.push(`f-${field.key}-error`);
  return ids.join(' ');
}

function always(field) {
  return field.required && !field.show_when && !field.required_when;
}

function control(field, participant, defaults) {
  const key = field.key;
  const common = {
    id: `f-${key}`,
    name: key,
    autocomplete: 'off',
    required: always(field),
    'aria-describedby': describedBy(field),
  };
  switch (field.type) {
    case 'text':
      // A field declared default_from="user" starts with her name (server/forms/rendering.py).
      return h('input', {
        ...common,
        type: 'text',
        maxlength: field.max_length,
        value: (field.default_from && defaults[field.default_from]) || null,
      });
    case 'long_text':
      return h('textarea', { ...common, rows: 5, maxlength: field.max_length });
    case 'number':
      return h('input', {
        ...common,
        type: 'number',
        inputmode: 'numeric',
        min: field.min,
        max: field.max,
        step: 1,
      });
    case 'date':
      return h('input', { ...common, type: 'date' });
    case 'time':
      return h('input', { ...common, type: 'time' });
    case 'participant': {
      const select = h(
        'select',
        common,
        h('option', { value: '' }, _('Choose a participant')),
        h('option', { value: participant.id }, participant.code),
      );
      select.value = participant.id;
      return select;
    }
    case 'scale': {
      const points = [];
      for (let point = field.min; point <= field.max; point += 1) points.push(point);
      return points.map((point, index) => {
        let label = String(point);
        if (index === 0 && field.low_label) label += ` – ${field.low_label}`;
        if (index === points.length - 1 && field.high_label) label += ` – ${field.high_label}`;
        return choice(field, 'radio', String(point), label);
      });
    }
    default: {
      const type = field.type === 'multiple_choice' ? 'checkbox' : 'radio';
      return field.choices.map((c) => choice(field, type, c.key, c.label, c.exclusive));
    }
  }
}

function choice(field, type, value, label, exclusive = false) {
  const id = `f-${field.key}-${value}`;
  return h(
    'div',
    { class: 'choice' },
    h('input', {
      type,
      id,
      name: field.key,
      value,
      autocomplete: 'off',
      required: type === 'radio' && always(field),
      'data-exclusive': exclusive,
    }),
    h('label', { for: id }, label),
  );
}

// The questions and answers about the participant worded for their gender
// (server/forms/gender.py): the schema holds both wordings, the participant
// their gender ("female", "male" or null for the plain wording).
function worded(field, participant) {
  const words = participant.gender ? field.gendered?.[participant.gender] : null;
  if (!words) return field;
  return {
    ...field,
    label: words.label ?? field.label,
    choices: field.choices.map((c) => ({ ...c, label: words.choices?.[c.key] ?? c.label })),
  };
}

function renderField(field, participant, defaults) {
  const group = GROUP_TYPES.has(field.type);
  const title = group
    ? h('legend', {}, field.label, ' ', requiredMark(field))
    : h('label', { for: `f-${field.key}` }, field.label, ' ', requiredMark(field));
  return h(
    group ? 'fieldset' : 'div',
    {
      class: 'field',
      id: `f-${field.key}-field`,
      dataset: { field: field.key, type: field.type },
      'aria-describedby': group ? describedBy(field) : null,
    },
    title,
    field.help ? h('span', { class: 'help', id: `f-${field.key}-help` }, field.help) : null,
    h('span', { class: 'problem', id: `f-${field.key}-error`, 'data-problem': true, hidden: true }),
    control(field, participant, defaults),
  );
}

/**
 * The form element for `schema`, about `participant` ({id, code, gender}).
 * `defaults` fills fields declared with `default_from` (e.g. {user: name}).
 * @param {{pillar: string, version: number, fields: any[], sections: any[]}} schema
 * @param {{id: string, code: string, gender?: string | null}} participant
 * @param {Record<string, string>} [defaults]
 * @returns {HTMLFormElement}
 */
export function renderForm(schema, participant, defaults = {}) {
  const byKey = new Map(schema.fields.map((f) => [f.key, f]));
  return h(
    'form',
    {
      class: 'stack session-form',
      autocomplete: 'off',
      novalidate: true,
      dataset: { form: schema.pillar, version: schema.version, offline: 'on' },
    },
    h('div', { class: 'error-summary', role: 'alert', tabindex: '-1', hidden: true, 'data-summary': true }),
    schema.sections.map((section) =>
      h(
        'section',
        { class: 'form-section' },
        h('h2', {}, section.title),
        section.fields.map((key) => renderField(worded(byKey.get(key), participant), participant, defaults)),
      ),
    ),
    h('button', { type: 'submit', class: 'button primary big' }, _('Save the session log')),
  );
}

/** Empty every answer, so nothing typed lingers in the page (or its saved state). */
export function clearForm(form) {
  for (const input of form.querySelectorAll('input, textarea, select')) {
    if (input.type === 'hidden' || input.type === 'submit') continue;
    if (input.type === 'checkbox' || input.type === 'radio') input.checked = false;
    else if (input.tagName === 'SELECT' && input.name === 'participant') continue;
    else input.value = '';
  }
}
