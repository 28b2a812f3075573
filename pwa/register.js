// Registers the service worker and reports a new version once it is
// installed and waiting, so the person decides when the page reloads.

// The worker's state (pwa/sw.js): the language its install stores.
const STATE_CACHE = 'homeward-state';
const LANGUAGE_KEY = '/__homeward/language';

/**
 * `signedIn`: whether the page is a signed-in person's, whose language the
 * offline screens then speak; a signed-out page (in the browser's language,
 * say) never changes it.
 *
 * @param {{onUpdate: (apply: () => void) => void, signedIn?: boolean}} options
 * @returns {Promise<ServiceWorkerRegistration | null>}
 */
export async function register({ onUpdate, signedIn = false }) {
  if (!('serviceWorker' in navigator)) return null;
  // Before registering, so a first install stores this page's language.
  await saveLanguage(document.documentElement.lang, !signedIn);
  const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  // A worker that does not yet control the page is the first install, not an update.
  const offer = (/** @type {ServiceWorker | null} */ worker) => {
    if (worker && navigator.serviceWorker.controller) onUpdate(() => activate(worker));
  };
  offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') offer(worker);
    });
  });
  return registration;
}

/** @param {ServiceWorker} worker */
function activate(worker) {
  // Reload only after the person asked: the first install's clients.claim()
  // also fires controllerchange and must not reload a page mid-work.
  navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), {
    once: true,
  });
  worker.postMessage({ type: 'SKIP_WAITING' });
}

/**
 * @param {string} lang
 * @param {boolean} onlyIfNone keep a language saved before (a signed-out page)
 */
async function saveLanguage(lang, onlyIfNone) {
  try {
    const cache = await caches.open(STATE_CACHE);
    if (onlyIfNone && (await cache.match(LANGUAGE_KEY))) return;
    await cache.put(LANGUAGE_KEY, new Response(lang, { headers: { 'Content-Type': 'text/plain' } }));
  } catch (error) {
    // Storage blocked: the worker guesses, and rememberLanguage adds this one.
    console.warn('Homeward:', error);
  }
}

// Tells the worker the page's language, to store if missing (a switch) and,
// when `save` (a signed-in page, or a language chosen in the switcher), to
// show offline; resolves once done, so nothing races the writes.
/**
 * @param {string} lang
 * @param {boolean} [save]
 */
export async function rememberLanguage(lang, save = true) {
  if (!('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.ready;
  const channel = new MessageChannel();
  const stored = new Promise((resolve) => {
    channel.port1.onmessage = resolve;
  });
  registration.active?.postMessage({ type: 'LANGUAGE', lang, save }, [channel.port2]);
  await stored;
}
