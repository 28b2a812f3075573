// The worker's offline layer, on the shell and on the pages that log
// sessions (sessions/home.html, forms/session.html): starts the outbox
// drain, shows what waits to be sent, takes over the session form, wipes a
// person's cached data at sign-out, and draws the offline screens.
// See docs/outbox.md.

import { _, load } from './i18n.js';
import { show } from './notices.js';
import { h } from './offline/dom.js';
import { renderOutbox, updateCount } from './offline/outbox.js';
import { busy, render } from './offline/screens.js';
import { interceptSessionForm } from './offline/session-page.js';
import { interceptSignOut } from './offline/signout.js';
import * as cache from './outbox/cache.js';
import { run } from './outbox/db.js';
import * as sync from './outbox/sync.js';

// The form page already runs pwa/forms.js under its versioned URL: import
// that same URL, so the page has one copy of the module, not two.
function formsModule() {
  const tag = /** @type {HTMLScriptElement | null} */ (
    document.querySelector('script[src^="/pwa/forms.js"]')
  );
  return import(tag ? tag.src : './forms.js');
}

// The server says nobody is signed in: entries stay, sending waits for a sign-in.
async function askToSignIn() {
  /** @type {Array<{delivered: boolean}>} */
  const unsent = await run(['outbox'], 'readonly', (s) => s.outbox.getAll());
  if (!unsent.some((entry) => !entry.delivered)) return;
  const notice = show('signin', '', { warn: true });
  notice.querySelector('p')?.replaceChildren(h('a', { href: '/signin' }, _('Sign in to send')));
}

async function start() {
  const root = document.documentElement;
  await load(root.lang || 'en');
  interceptSignOut();
  const app = document.getElementById('app');
  const sessionForm = /** @type {HTMLFormElement | null} */ (
    document.querySelector('form[data-form]')
  );
  const first = sync.start();
  sync.events.addEventListener('status', (event) => {
    const { state } = /** @type {CustomEvent} */ (event).detail;
    root.dataset.sync = state;
    if (state === 'signed_out') askToSignIn();
    else if (state === 'done') document.querySelector('[data-notice=signin]')?.remove();
  });

  if (app) {
    // The shell: draw from the phone at once, redraw after each sync (but
    // never under a form being filled in).
    const forms = await formsModule();
    // One drawing at a time, in order: a redraw after a sync that started
    // while a form was being drawn would replace it under the person's
    // fingers; queued, it sees the form (busy) and stands aside.
    let drawing = Promise.resolve();
    /** @param {() => boolean} when */
    const queue = (when) => {
      drawing = drawing
        .then(() => (when() ? render(app, forms) : undefined))
        .catch((error) => console.error('Homeward:', error));
      return drawing;
    };
    const draw = () => queue(() => true);
    addEventListener('hashchange', draw);
    await draw();
    const count = async () => updateCount((await cache.currentUser())?.id, '#/outbox');
    await count();
    // Her server session ended earlier: say so at once, offline too.
    if ((await cache.currentUser())?.signedOut) askToSignIn();
    sync.events.addEventListener('change', count);
    sync.events.addEventListener('status', (event) => {
      if (/** @type {CustomEvent} */ (event).detail.state !== 'syncing') queue(() => !busy());
    });
  } else {
    // An online page: who is signed in comes from the server (first drain),
    // not from whoever used the phone last.
    if (sessionForm) interceptSessionForm(sessionForm, await formsModule(), first);
    await first;
    const user = await cache.currentUser();
    const main = document.getElementById('main');
    if (user && main && !sessionForm) {
      const box = document.createElement('section');
      main.append(box);
      const redraw = await renderOutbox(box, user.id);
      sync.events.addEventListener('change', redraw);
    }
    const count = () => updateCount(user?.id, sessionForm ? '/#outbox' : '#outbox');
    await count();
    sync.events.addEventListener('change', count);
  }
  root.dataset.outbox = 'ready';
}

start().catch((error) => {
  console.error('Homeward:', error);
  document.documentElement.dataset.outbox = 'failed';
});
