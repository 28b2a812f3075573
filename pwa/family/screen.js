// The family's screen on the offline shell: their relative's upcoming
// appointments as the phone last pulled them (what, when, where, with whom,
// what to bring, how to call — nothing else is kept), each with one
// question, "Will you come?". Drawn like family/home.html so it reads the
// same with no network; the texts are the page's own messages.

import * as dates from '../dates.js';
import { _ } from '../i18n.js';
import { h } from '../offline/dom.js';
import * as answer from './answer.js';
import { refreshCards, typing, wire } from './card.js';

export { typing };

// The session types as the glossary names them (server/sessions/labels.py).
const PILLARS = {
  family: () => _('Family engagement'),
  education: () => _('Education'),
  vocational: () => _('Vocational training'),
  counselling: () => _('Counselling'),
};

/** @param {{time_zone?: string | null, country?: string | null}} user */
const zoneOf = (user) => ({ timeZone: user.time_zone, country: user.country });

function when(a, user) {
  return dates.formatWhen(a.starts_at, a.ends_at, zoneOf(user));
}

// "Moved to …" until the day it was planned for has passed, as on the page.
function movedLine(a, user) {
  if (!a.moved_from) return null;
  const before = new Date(a.moved_from);
  if (Number.isNaN(before.getTime())) return null;
  if (dates.dayKey(before, user.time_zone) < dates.dayKey(new Date(), user.time_zone)) return null;
  const day = dates.formatDate(before, { ...zoneOf(user), style: 'full' });
  const time = dates.formatTime(before, zoneOf(user));
  return h(
    'p',
    { class: 'change', dataset: { change: 'moved' } },
    h('strong', {}, _('Moved to %(when)s').replace('%(when)s', when(a, user))),
    h('br'),
    _('It was planned for %(day)s at %(time)s').replace('%(day)s', day).replace('%(time)s', time),
  );
}

// The shell page names the precached icons' versioned URLs (pwa/shell.html).
function icon(name, size) {
  const src = document.getElementById('app')?.dataset[`icon${name}`];
  return src ? h('img', { src, alt: '', width: size, height: size }) : null;
}

function pillarIcon(pillar) {
  return PILLARS[pillar] ? icon(`Pillar${pillar[0].toUpperCase()}${pillar.slice(1)}`, 28) : null;
}

// A tap-to-call link; the stored number holds only digits, + and spaces.
function callLine(a) {
  if (!a.contact_phone) return null;
  return h(
    'p',
    {},
    icon('Phone', 24),
    ' ',
    _('Questions? Call:'),
    ' ',
    h(
      'a',
      { class: 'button', href: `tel:${a.contact_phone.replaceAll(' ', '')}` },
      h('bdi', { dir: 'ltr' }, a.contact_phone),
    ),
  );
}

// RFC 5870: the phone's own maps app opens it; nothing is loaded from elsewhere.
function mapLink(a) {
  if (typeof a.latitude !== 'number' || typeof a.longitude !== 'number') return null;
  const point = `${a.latitude},${a.longitude}`;
  return [' ', h('a', { class: 'button', href: `geo:${point}?q=${point}` }, _('Open in maps'))];
}

function answerForm(a) {
  const message = `msg-${a.id}`;
  const choice = (value, label) =>
    h(
      'label',
      { class: 'big' },
      h('input', {
        type: 'radio',
        name: 'response',
        value,
        checked: a.response === value,
        required: value === answer.COMING,
      }),
      ' ',
      label,
    );
  return h(
    'form',
    { class: 'stack', 'data-family-answer': true, dataset: { version: a.version } },
    h(
      'fieldset',
      { class: 'field choice' },
      h('legend', {}, _('Will you come?')),
      choice(answer.COMING, _('Yes, I will come')),
      choice(answer.NOT_COMING, _('No, I cannot come')),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: message }, _('Message (optional)')),
      h('input', { id: message, name: 'message', type: 'text', maxlength: 300, autocomplete: 'off' }),
    ),
    h('button', { type: 'submit', class: 'button primary big' }, _('Send my answer')),
    a.response
      ? h('p', { class: 'hint' }, _('You can change your answer until the appointment starts.'))
      : null,
  );
}

// "Amira, Homeward NGO": the separator is the language's own ("،" in
// Arabic), from a translated pattern; each part stays an isolated element.
function apposition(person, organisation) {
  const parts = { '%(person)s': person, '%(organisation)s': organisation };
  return _('%(person)s, %(organisation)s')
    .split(/(%\(person\)s|%\(organisation\)s)/)
    .map((part) => parts[part] ?? part);
}

function card(a, user) {
  const cancelled = a.status === 'cancelled';
  // Answerable as pulled, and not started since (the phone may be offline a while).
  const open = a.answerable && new Date(a.starts_at).getTime() > Date.now();
  const time = when(a, user);
  return h(
    'li',
    {
      class: cancelled ? 'card appointment cancelled' : 'card appointment',
      dataset: { appointment: a.id, response: a.response || '', status: a.status },
    },
    h('h2', {}, pillarIcon(a.pillar), ' ', PILLARS[a.pillar]?.() ?? _('Appointment')),
    cancelled
      ? h(
          'p',
          { class: 'change', dataset: { change: 'cancelled' } },
          h('strong', {}, _('Cancelled. This appointment will not take place.')),
        )
      : movedLine(a, user),
    h('p', {}, icon('Calendar', 24), ' ', _('When:'), ' ', cancelled ? h('s', {}, time) : time),
    a.place
      ? h('p', {}, icon('Place', 24), ' ', _('Where:'), ' ', h('bdi', {}, a.place), mapLink(a))
      : null,
    h(
      'p',
      {},
      icon('Person', 24),
      ' ',
      _('With:'),
      ' ',
      a.with
        ? apposition(h('bdi', {}, a.with), h('bdi', {}, a.organisation))
        : h('bdi', {}, a.organisation),
    ),
    a.what_to_bring
      ? h('p', {}, icon('Bag', 24), ' ', _('Bring:'), ' ', h('bdi', {}, a.what_to_bring))
      : null,
    callLine(a),
    h('p', { class: 'pill', 'data-said': true, hidden: true }),
    open ? answerForm(a) : null,
    h('p', { class: 'notice', 'data-answer-state': true, role: 'status', hidden: true }),
  );
}

/** Draw the family's appointments into `app` for `user` (the cached /api/me). */
export async function renderFamily(app, user) {
  const shown = [...(await answer.pulledAppointments(user.id)).values()]
    .filter((a) => new Date(a.ends_at).getTime() >= Date.now())
    .sort((a, b) => (a.starts_at < b.starts_at ? -1 : 1));
  const cards = shown.map((a) => card(a, user));
  const redraw = () => refreshCards(cards, user.id);
  for (const item of cards) wire(item, { owner: async () => user.id, onSaved: redraw });
  app.replaceChildren(
    h(
      'div',
      { class: 'family', 'data-family': true },
      h('h1', {}, _('Appointments')),
      cards.length
        ? h('ul', { class: 'list' }, cards)
        : h('p', { class: 'notice' }, _('There are no appointments planned right now.')),
    ),
  );
  await redraw();
}
