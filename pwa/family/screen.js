// The family's screen on the offline shell: their relative's upcoming
// appointments as the phone last pulled them (when, where, with whom, what
// to bring — nothing else is kept), each with one question, "Will you
// come?". Drawn like family/home.html so it reads the same with no network.

import { _ } from '../i18n.js';
import { h } from '../offline/dom.js';
import * as answer from './answer.js';
import { refreshCards, typing, wire } from './card.js';

export { typing };

function when(a, timeZone) {
  const lang = document.documentElement.lang || 'en';
  const zone = { timeZone: timeZone || undefined };
  try {
    const day = new Intl.DateTimeFormat(lang, { dateStyle: 'full', ...zone });
    const time = new Intl.DateTimeFormat(lang, { timeStyle: 'short', ...zone });
    return `${day.format(new Date(a.starts_at))}, ${time.format(new Date(a.starts_at))}–${time.format(new Date(a.ends_at))}`;
  } catch {
    return a.starts_at; // an unknown zone or language: still readable
  }
}

// The shell page names the precached icons' versioned URLs (pwa/shell.html).
function icon(name, size) {
  const src = document.getElementById('app')?.dataset[`icon${name}`];
  return src ? h('img', { src, alt: '', width: size, height: size }) : null;
}

function card(a, user) {
  const open = a.status === 'scheduled' || a.status === 'confirmed';
  const message = `msg-${a.id}`;
  return h(
    'li',
    { class: 'card appointment', dataset: { appointment: a.id, response: a.response || '' } },
    h('h2', {}, icon('Calendar', 28), ' ', when(a, user.time_zone)),
    a.place ? h('p', {}, icon('Place', 24), ' ', _('Where:'), ' ', h('bdi', {}, a.place)) : null,
    h(
      'p',
      {},
      icon('Person', 24),
      ' ',
      _('With:'),
      ' ',
      a.with ? [h('bdi', {}, a.with), ', '] : null,
      h('bdi', {}, a.organisation),
    ),
    a.what_to_bring
      ? h('p', {}, icon('Bag', 24), ' ', _('Bring:'), ' ', h('bdi', {}, a.what_to_bring))
      : null,
    h('p', { class: 'pill', 'data-said': true, hidden: true }),
    open
      ? h(
          'form',
          { class: 'stack', 'data-family-answer': true, dataset: { version: a.version } },
          h(
            'fieldset',
            { class: 'field' },
            h('legend', {}, _('Will you come?')),
            h(
              'button',
              { type: 'submit', name: 'response', value: answer.COMING, class: 'button primary big' },
              _('Yes, I will come'),
            ),
            h(
              'button',
              { type: 'submit', name: 'response', value: answer.NOT_COMING, class: 'button big' },
              _('No, I cannot come'),
            ),
          ),
          h(
            'div',
            { class: 'field' },
            h('label', { for: message }, _('Message (optional)')),
            h('input', { id: message, name: 'message', type: 'text', maxlength: 300, autocomplete: 'off' }),
          ),
        )
      : null,
    h('p', { class: 'notice', 'data-answer-state': true, role: 'status', hidden: true }),
  );
}

/** Draw the family's appointments into `app` for `user` (the cached /api/me). */
export async function renderFamily(app, user) {
  const shown = [...(await answer.pulledAppointments(user.id)).values()]
    .filter((a) => new Date(a.ends_at) >= Date.now())
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
