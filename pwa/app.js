// Homeward client entry: service worker, update prompt, storage check.
// Plain ES modules, no build step (see STYLE.md).

import { _, load } from './i18n.js';
import { interceptSignOut } from './offline/signout.js';
import { show } from './notices.js';
import { register, rememberLanguage } from './register.js';
import { check } from './storage.js';

/** @param {() => void} apply */
function offerUpdate(apply) {
  show('update', _('A new version is ready.'), {
    action: {
      label: _('Update now'),
      run(button) {
        button.disabled = true;
        apply();
      },
    },
  });
}

async function warnAboutStorage() {
  const state = await check();
  // Once per visit is enough: repeated on every page it becomes noise people
  // learn to ignore. (A flag in sessionStorage holds nothing personal.)
  const seen = sessionStorage.getItem('homeward-storage-warned') === state;
  if (state !== 'ok' && !seen) {
    sessionStorage.setItem('homeward-storage-warned', state);
    show(
      'storage',
      _(
        'This phone may delete saved work when space runs low. Keep the app installed and open it online often.',
      ),
      { warn: true, atEnd: true },
    );
  }
  document.documentElement.dataset.storage = state;
}

// The language switcher (base.html): a choice made here is kept offline too.
function rememberChosenLanguage() {
  const form = document.querySelector('form.langs');
  form?.addEventListener('submit', (event) => {
    const { submitter } = /** @type {SubmitEvent} */ (event);
    const chosen = /** @type {HTMLButtonElement | null} */ (submitter)?.value;
    if (chosen) rememberLanguage(chosen).catch((error) => console.warn('Homeward:', error));
  });
}

async function start() {
  // Every page with a sign-out button wipes this person's cached data on the
  // way out (shared phones), not only the worker's own screens.
  interceptSignOut();
  const lang = document.documentElement.lang || 'en';
  await load(lang);
  // Only a signed-in person's page (or a language chosen in the switcher)
  // sets the offline screens' language: one signed-out page in the
  // browser's language must not turn a Kazakh worker's phone to English.
  const signedIn = Boolean(document.querySelector('form[action="/signout"]'));
  rememberChosenLanguage();
  const worker = register({ onUpdate: offerUpdate, signedIn }).then(() =>
    rememberLanguage(lang, signedIn),
  );
  // The page works without a service worker (first visit, old browser), so a
  // failed registration is reported, not allowed to stop the storage check.
  const results = await Promise.allSettled([worker, warnAboutStorage()]);
  for (const result of results) {
    if (result.status === 'rejected') console.error('Homeward:', result.reason);
  }
  // The home and sign-in pages for nobody (no sign-out button): entries
  // still waiting on this phone are counted, with "Sign in to send".
  const signedOut = !document.querySelector('form[action="/signout"]');
  if (signedOut && ['/', '/signin'].includes(location.pathname) && !document.getElementById('app')) {
    await import('./offline/waiting.js')
      .then((waiting) => waiting.showWaiting())
      .catch((error) => console.error('Homeward:', error));
  }
  // Lets tests (and curious people) see that start-up has finished.
  document.documentElement.dataset.pwa = results.every((r) => r.status === 'fulfilled')
    ? 'ready'
    : 'failed';
}

start();
