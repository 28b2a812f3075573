// The outbox as the worker sees it: a count in the header and a list of
// entries with their state and, when the server refused one, its reason.
// Only the signed-in person's entries are ever listed.

import { _ } from '../i18n.js';
import * as cache from '../outbox/cache.js';
import * as store from '../outbox/store.js';
import { drain } from '../outbox/sync.js';
import { code, formatDate, h } from './dom.js';

const STATES = () => ({
  waiting: _('Waiting to send'),
  sending: _('Sending'),
  sent: _('Sent'),
  needs_attention: _('Needs attention'),
});

async function titles(owner) {
  const forms = await cache.forms(owner);
  const found = {};
  for (const form of forms?.forms || []) {
    if (forms.latest[form.pillar] === form.version) found[form.pillar] = form.title;
  }
  return found;
}

/** The header's "Waiting to send: N", kept in step with the outbox. */
export async function updateCount(owner, href) {
  const bar = document.querySelector('header.bar');
  if (!bar) return;
  let link = /** @type {HTMLElement | null} */ (bar.querySelector('[data-outbox-count]'));
  const count = owner ? await store.unsentCount(owner) : 0;
  // Every entry of this person, sent or not: lets tests (and the curious)
  // see when the outbox has emptied.
  document.documentElement.dataset.entries = String(owner ? (await store.entries(owner)).length : 0);
  if (!link) {
    link = h('a', { class: 'outbox-count pill', href, 'data-outbox-count': true });
    bar.querySelector('.brand')?.after(link);
  }
  link.dataset.count = String(count);
  link.hidden = count === 0;
  link.textContent = _('Waiting to send: %(count)s').replace(
    '%(count)s',
    count.toLocaleString(document.documentElement.lang || 'en'),
  );
}

function actions(entry, refresh) {
  const buttons = [];
  if (entry.state === store.NEEDS_ATTENTION && !entry.delivered) {
    buttons.push(
      h(
        'button',
        {
          type: 'button',
          class: 'button',
          'data-action': 'retry',
          onclick: async () => {
            await store.update([entry.id], () => ({ state: store.WAITING, reason: '', nextAttemptAt: 0 }));
            await refresh();
            drain({ force: true });
          },
        },
        _('Try again'),
      ),
    );
  }
  if (entry.state === store.NEEDS_ATTENTION) {
    buttons.push(
      h(
        'button',
        {
          type: 'button',
          class: 'button danger',
          'data-action': 'remove',
          onclick: async () => {
            // A delivered entry is safe on the server; an undelivered one is
            // lost for good, so ask first.
            if (!entry.delivered && !confirm(_('Remove this entry? What it holds will be lost.'))) {
              return;
            }
            await store.remove(entry.id);
            await refresh();
          },
        },
        _('Remove'),
      ),
    );
  }
  return buttons.length ? h('p', { class: 'actions' }, buttons) : null;
}

/** Draw the list of `owner`'s entries into `box`; redraws on every change. */
export async function renderOutbox(box, owner) {
  const refresh = async () => {
    const [entries, names] = [await store.entries(owner), await titles(owner)];
    const states = STATES();
    box.replaceChildren(
      h('h2', { id: 'outbox' }, _('On this phone')),
      entries.length
        ? h(
            'ul',
            { class: 'list', 'data-outbox': true },
            entries.map((entry) =>
              h(
                'li',
                { class: 'card', dataset: { entry: entry.id, state: entry.state } },
                h(
                  'h3',
                  {},
                  entry.summary.code ? [code(entry.summary.code), ' · '] : null,
                  names[entry.summary.pillar] || entry.summary.pillar,
                ),
                h(
                  'p',
                  {},
                  formatDate(entry.summary.occurred),
                  ' ',
                  h('span', { class: 'pill', 'data-state-label': true }, states[entry.state]),
                ),
                entry.reason ? h('p', { class: 'problem', 'data-reason': true }, entry.reason) : null,
                actions(entry, refresh),
              ),
            ),
          )
        : h('p', { class: 'muted', 'data-outbox-empty': true }, _('Nothing is waiting to be sent.')),
    );
  };
  await refresh();
  return refresh;
}
