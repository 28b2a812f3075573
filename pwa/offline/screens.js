// The worker's screens on the offline shell (/app/shell, shown by the
// service worker for any page when there is no network), drawn into #app
// from what the phone holds. Screens are addressed by the URL's hash, so
// moving between them never needs the network:
//   #/                                  caseload, appointments, outbox
//   #/log                               pick a participant
//   #/log/<participant>                 pick the type of session
//   #/log/<participant>/<pillar>[?appointment=<id>]   the form
//   #/outbox                            the outbox
// A family member gets their own screen instead (pwa/family/screen.js),
// whatever the hash says.

import { renderFamily, typing } from '../family/screen.js';
import { _ } from '../i18n.js';
import { show as notify } from '../notices.js';
import * as cache from '../outbox/cache.js';
import { saveSessionLog } from '../outbox/save.js';
import * as vault from '../outbox/vault.js';
import { code, formatDate, h } from './dom.js';
import { clearForm, renderForm } from './form.js';
import { renderOutbox } from './outbox.js';

export const SAVED = () => _('Saved on this phone. It will be sent when there is a network.');

function latestForms(forms) {
  return (forms?.forms || []).filter((f) => forms.latest[f.pillar] === f.version);
}

/**
 * The forms this user may fill in for the participant: all of them for their
 * own organisation's, the referred pillars for a referred one (the pull's
 * `pillars`; the server refuses the others anyway).
 * @param {any} forms
 * @param {{pillars?: string[] | null}} participant
 */
function allowedForms(forms, participant) {
  const allowed = participant.pillars;
  return latestForms(forms).filter((f) => !allowed || allowed.includes(f.pillar));
}

function route() {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(query) };
}

function link(href, text, extra = {}) {
  return h('a', { href, ...extra }, text);
}

async function home(app, user, data) {
  const upcoming = data.appointments.filter((a) => new Date(a.ends_at).getTime() > Date.now() - 86_400_000);
  const codes = new Map(data.participants.map((p) => [p.id, p.code]));
  const outbox = h('section', { 'data-outbox-section': true });
  app.replaceChildren(
    h('p', {}, link('#/log', _('Log a session'), { class: 'button primary big', 'data-log': true })),
    h('h2', {}, _('Upcoming appointments')),
    upcoming.length
      ? h(
          'ul',
          { class: 'list', 'data-appointments': true },
          upcoming.map((a) =>
            h(
              'li',
              { class: 'card' },
              h('h3', {}, formatDate(a.starts_at, true, user), ' · ', code(codes.get(a.participant) || '')),
              h('p', {}, [data.titles[a.pillar] || a.pillar, a.place].filter(Boolean).join(' · ')),
              h(
                'p',
                {},
                link(
                  `#/log/${a.participant}/${a.pillar}?appointment=${a.id}`,
                  _('Log this session'),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, _('No upcoming appointments.')),
    h('h2', {}, _('Caseload')),
    caseload(data.participants, (p) => `#/log/${p.id}`),
    outbox,
  );
  await renderOutbox(outbox, user.id);
}

function caseload(participants, href) {
  return participants.length
    ? h(
        'ul',
        { class: 'list', 'data-caseload': true },
        participants.map((p) =>
          h('li', {}, link(href(p), code(p.code), { class: 'button big', dataset: { code: p.code } })),
        ),
      )
    : h('p', { class: 'muted' }, _('No participants are assigned to you yet.'));
}

function pickParticipant(app, data) {
  app.replaceChildren(
    h('h1', {}, _('Log a session')),
    h('p', {}, _('Who was the session with?')),
    caseload(data.participants, (p) => `#/log/${p.id}`),
  );
}

function pickType(app, data, participant) {
  app.replaceChildren(
    h('h1', {}, _('Log a session'), ' · ', code(participant.code)),
    h('p', {}, _('What kind of session was it?')),
    h(
      'ul',
      { class: 'list', 'data-types': true },
      allowedForms(data.forms, participant).map((form) =>
        h(
          'li',
          {},
          link(`#/log/${participant.id}/${form.pillar}`, form.title, {
            class: 'button big',
            dataset: { pillar: form.pillar },
          }),
        ),
      ),
    ),
  );
}

async function sessionForm(app, user, data, participant, schema, appointment, forms) {
  // "Who led the session?" starts with her own name, as the online form does.
  const form = renderForm(schema, participant, { user: data.name });
  app.replaceChildren(h('h1', {}, schema.title, ' · ', code(participant.code)), form);
  forms.applyConditions(form, schema);
  const summary = /** @type {HTMLElement} */ (form.querySelector('[data-summary]'));
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type=submit]'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = forms.collectValues(form, schema);
    const result = forms.validate(schema, values, new Date(), {
      timeZone: user.time_zone || 'UTC',
      participants: [participant.id],
    });
    const first = forms.showErrors(form, result.errors);
    summary.hidden = result.ok;
    summary.textContent = result.ok ? '' : _('Please check the answers marked below.');
    if (!result.ok) {
      first?.focus();
      return;
    }
    button.disabled = true;
    try {
      await saveSessionLog({
        id: crypto.randomUUID(),
        owner: user.id,
        form: schema,
        clean: result.clean,
        appointment,
        code: participant.code,
      });
    } catch (error) {
      console.error('Homeward:', error);
      button.disabled = false;
      notify('saved', _('This session could not be saved on this phone. Please try again.'), {
        warn: true,
      });
      return;
    }
    clearForm(form);
    notify('saved', SAVED());
    location.hash = '#/';
  });
}

async function load(user) {
  const [participants, appointments, forms, name] = await Promise.all([
    cache.participants(user.id),
    cache.appointments(user.id),
    cache.forms(user.id),
    cache.name(user.id),
  ]);
  const titles = Object.fromEntries(latestForms(forms).map((f) => [f.pillar, f.title]));
  return { participants, appointments, forms, titles, name };
}

const UNLOCK_PROBLEMS = () => ({
  no_prf: _('This passkey cannot unlock the phone. Please sign in with a network.'),
  cancelled: _('The phone was not unlocked. Please try again with your own passkey.'),
  wrong: _('The phone was not unlocked. Please try again with your own passkey.'),
});

// Her caseload is sealed on this phone: shown only after her passkey
// (fingerprint, face or screen lock) opened it, never to whoever holds the phone.
function lockedScreen(app, user, redraw) {
  const problem = h('p', { class: 'notice bad', role: 'alert', 'data-unlock-error': true, hidden: true });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'button primary big',
      'data-unlock': true,
      onclick: async () => {
        button.disabled = true;
        const result = await vault.unlock(user.id);
        button.disabled = false;
        if (result === 'unlocked' || result === 'no_vault') {
          await redraw();
          return;
        }
        problem.textContent = UNLOCK_PROBLEMS()[result];
        problem.hidden = false;
      },
    },
    _('Unlock with your passkey'),
  );
  app.replaceChildren(
    h(
      'section',
      { class: 'narrow', 'data-locked': true },
      h('h1', {}, _('This phone is locked')),
      h('p', {}, _('To see your participants and log sessions without a network, unlock the phone with your passkey.')),
      h('p', {}, button),
      problem,
      h('p', {}, link('/signin', _('Sign in'), { class: 'button' })),
    ),
  );
}

// No vault (her passkey has no PRF): the caseload was kept only while her
// server session lasted. What waits to be sent stays, counted in the header.
function signedOutScreen(app) {
  app.replaceChildren(
    h(
      'section',
      { class: 'narrow', 'data-signed-out': true },
      h(
        'p',
        {},
        _('Your sign-in has ended. What is waiting stays on this phone. Sign in with a network to send it and to log new sessions.'),
      ),
      h('p', {}, link('/signin', _('Sign in'), { class: 'button primary' })),
    ),
  );
}

/**
 * Draw the screen the hash names.
 * @param {HTMLElement} app the shell's #app
 * @param {object} forms the pwa/forms.js module
 * @returns {Promise<void>}
 */
export async function render(app, forms) {
  const user = await cache.currentUser();
  if (!user) {
    app.replaceChildren(
      h('p', { 'data-no-user': true }, _('Sign in once with a network to work offline on this phone.')),
      h('p', {}, link('/signin', _('Sign in'), { class: 'button primary' })),
    );
    return;
  }
  if (await cache.locked(user.id)) {
    lockedScreen(app, user, () => render(app, forms));
    return;
  }
  if (user.signedOut && !(await vault.find(user.id))) {
    signedOutScreen(app);
    return;
  }
  if (user.role === 'family') {
    await renderFamily(app, user);
    return;
  }
  const data = await load(user);
  const { parts, query } = route();
  if (parts[0] === 'outbox') {
    const box = h('section', {});
    app.replaceChildren(box);
    await renderOutbox(box, user.id);
    return;
  }
  if (parts[0] !== 'log') {
    await home(app, user, data);
    return;
  }
  if (!data.forms) {
    app.replaceChildren(
      h('p', {}, _('The forms are not on this phone yet. Open Homeward once with a network.')),
    );
    return;
  }
  const participant = data.participants.find((p) => p.id === parts[1]);
  if (!participant) {
    pickParticipant(app, data);
    return;
  }
  const schema = allowedForms(data.forms, participant).find((f) => f.pillar === parts[2]);
  if (!schema) {
    pickType(app, data, participant);
    return;
  }
  await sessionForm(app, user, data, participant, schema, query.get('appointment'), forms);
}

/**
 * True on a screen where redrawing would lose what is being typed.
 * @returns {boolean}
 */
export function busy() {
  return route().parts.length >= 3 || typing(document);
}
