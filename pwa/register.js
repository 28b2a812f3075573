// Registers the service worker and reports a new version once it is
// installed and waiting, so the person decides when the page reloads.

// The worker's state (pwa/sw.js): the language its install stores.
const STATE_CACHE = 'homeward-state';
const LANGUAGE_KEY = '/__homeward/language';

/**
 * @param {{onUpdate: (apply: () => void) => void}} options
 * @returns {Promise<ServiceWorkerRegistration | null>}
 */
export async function register({ onUpdate }) {
  if (!('serviceWorker' in navigator)) return null;
  // Before registering, so a first install stores this page's language.
  await saveLanguage(document.documentElement.lang);
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

/** @param {string} lang */
async function saveLanguage(lang) {
  try {
    const cache = await caches.open(STATE_CACHE);
    await cache.put(LANGUAGE_KEY, new Response(lang, { headers: { 'Content-Type': 'text/plain' } }));
  } catch (error) {
    // Storage blocked: the worker guesses, and rememberLanguage adds this one.
    console.warn('Homeward:', error);
  }
}

// Tells the worker the page's language, to show offline and to store if
// missing (a switch); resolves once done, so nothing races the writes.
/** @param {string} lang */
export async function rememberLanguage(lang) {
  if (!('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.ready;
  const channel = new MessageChannel();
  const stored = new Promise((resolve) => {
    channel.port1.onmessage = resolve;
  });
  registration.active?.postMessage({ type: 'LANGUAGE', lang }, [channel.port2]);
  await stored;
}
