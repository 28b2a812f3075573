// Homeward's service worker. The server prepends `const SHELL = {...}`:
// the version (a hash of the shell's files), the exact precache list, the
// languages and the default one (see server/pwa/shell.py).
//
// Rules: only URLs on SHELL.urls are ever stored; personal pages are never
// cached here (the server also sends them with Cache-Control: no-store).

const CACHE = SHELL.cachePrefix + SHELL.version;
// Outside the versioned prefix, so it survives updates: holds only the code
// of the language the person last used, to pick the offline shell.
const STATE_CACHE = 'homeward-state';
const LANGUAGE_KEY = '/__homeward/language';
const PRECACHED = new Set(SHELL.urls);

self.addEventListener('install', (event) => {
  // addAll rejects when any one response fails or is not 2xx: the install
  // fails and the old worker stays, rather than a half-filled shell going live.
  // 'reload' skips the HTTP cache, so a stale copy never enters a new version.
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      cache.addAll(SHELL.urls.map((url) => new Request(url, { cache: 'reload' }))),
    ),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      // Only our own old versions: other caches are not ours to delete.
      const stale = names.filter((name) => name.startsWith(SHELL.cachePrefix) && name !== CACHE);
      await Promise.all(stale.map((name) => caches.delete(name)));
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type === 'SKIP_WAITING') {
    // Only when the person pressed "Update now": never swap code under an open form.
    self.skipWaiting();
  } else if (data.type === 'LANGUAGE') {
    // Always answer, so the page never waits on an ignored message.
    const known = SHELL.languages.includes(data.lang);
    const done = known ? saveLanguage(data.lang) : Promise.resolve();
    event.waitUntil(done.then(() => event.ports[0]?.postMessage({ saved: known })));
  }
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  const key = url.pathname + url.search;
  if (request.mode === 'navigate') {
    event.respondWith(navigate(request, key));
  } else if (PRECACHED.has(key)) {
    event.respondWith(shellFirst(request, key));
  }
  // Anything else goes to the network untouched and is never stored.
});

async function shellFirst(request, key) {
  const cache = await caches.open(CACHE);
  return (await cache.match(key, { ignoreVary: true })) || fetch(request);
}

// Pages: the network first, so online people always see the current record;
// with no network, the cached shell in their language.
async function navigate(request, key) {
  try {
    return await fetch(request);
  } catch (offline) {
    const cache = await caches.open(CACHE);
    const exact = PRECACHED.has(key) && (await cache.match(key, { ignoreVary: true }));
    const shell = exact || (await cache.match(shellUrl(await language()), { ignoreVary: true }));
    if (shell) return shell;
    throw offline;
  }
}

function shellUrl(lang) {
  return `/app/shell?lang=${lang}`;
}

async function saveLanguage(lang) {
  const cache = await caches.open(STATE_CACHE);
  await cache.put(LANGUAGE_KEY, new Response(lang, { headers: { 'Content-Type': 'text/plain' } }));
}

async function language() {
  const cache = await caches.open(STATE_CACHE);
  const saved = await cache.match(LANGUAGE_KEY);
  const lang = saved && (await saved.text());
  if (SHELL.languages.includes(lang)) return lang;
  const preferred = (self.navigator.languages || []).map((tag) => tag.split('-')[0]);
  return preferred.find((tag) => SHELL.languages.includes(tag)) || SHELL.defaultLanguage;
}

// Background Sync (pwa/outbox/sync.js registers the tag after a save): the
// network is back, so ask the open pages to send their outbox. Sending needs
// the page's modules and sign-in; with no page open the sync fails, and the
// browser keeps it pending and tries again later.
self.addEventListener('sync', (event) => {
  if (event.tag === 'homeward-outbox') event.waitUntil(askPagesToSend());
});

async function askPagesToSend() {
  const pages = await self.clients.matchAll({ type: 'window' });
  if (!pages.length) throw new Error('no open page to send the outbox from');
  for (const page of pages) page.postMessage({ type: 'SYNC' });
}
