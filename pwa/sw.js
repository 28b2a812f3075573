// Homeward's service worker. The server prepends `const SHELL = {...}`:
// the version, the assets, the URLs each language adds, the languages
// (server/pwa/shell.py). Only those URLs are ever stored; personal pages
// never are (the server also sends them with Cache-Control: no-store).

const CACHE = SHELL.cachePrefix + SHELL.version;
// Survives updates; holds only the code of the language last used (also
// written by pwa/register.js before registering) and of all those used.
const STATE_CACHE = 'homeward-state';
const LANGUAGE_KEY = '/__homeward/language';
const USED_KEY = '/__homeward/languages';
const STORABLE = new Set([...SHELL.assets, ...SHELL.languages.flatMap(languageUrls)]);

self.addEventListener('install', (event) => {
  // The languages in use, not all five. addAll rejects when any response
  // fails: the old worker stays rather than a half-filled shell going live.
  event.waitUntil(
    (async () => {
      const languages = await languagesInUse();
      const cache = await caches.open(CACHE);
      await cache.addAll([...SHELL.assets, ...languages.flatMap(languageUrls)].map(revalidated));
    })(),
  );
});

function languageUrls(lang) {
  return SHELL.languageUrls.map((url) => url.replace('{lang}', lang));
}

// The page has just downloaded most of these files: reuse the HTTP cache,
// but never let a stale copy into a new version. A `?v=` URL names its
// content's hash (immutable only while current), so any copy is right:
// 'default'. Any other URL: 'no-cache', revalidated with the server (a 304
// of headers only while the ETag matches). 'reload' downloaded all again.
function revalidated(url) {
  const versioned = /[?&]v=[0-9a-f]{12}$/.test(url);
  return new Request(url, { cache: versioned ? 'default' : 'no-cache' });
}

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
    // From every page: store its language's files if missing (a switch).
    // Only a signed-in page or a chosen language changes the offline
    // screens' language: a signed-out page may be in the browser's.
    // Always answer, so the page never waits on an ignored message.
    const known = SHELL.languages.includes(data.lang);
    const done = known
      ? saveLanguage(data.lang, data.save === false).then(() => addLanguage(data.lang))
      : Promise.resolve(false);
    event.waitUntil(done.then((cached) => event.ports[0]?.postMessage({ saved: known, cached })));
  }
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  const key = url.pathname + url.search;
  if (request.mode === 'navigate') {
    event.respondWith(navigate(request, key));
  } else if (STORABLE.has(key)) {
    event.respondWith(shellFirst(request, key));
  }
  // Anything else goes to the network untouched and is never stored.
});

// A language's file not yet stored (just switched) comes from the network.
async function shellFirst(request, key) {
  const cache = await caches.open(CACHE);
  return (await cache.match(key, { ignoreVary: true })) || fetch(request);
}

// Pages: the network first, so online people always see the current record;
// with no network, the cached shell in their language, else in any stored.
// A bad connection often neither answers nor fails: after NAVIGATION_TIMEOUT
// the shell is shown instead of a blank page that waits for minutes. With no
// shell stored yet, the network is awaited after all.
const NAVIGATION_TIMEOUT = 3_500;

async function navigate(request, key) {
  const network = fetch(request);
  const late = new Promise((resolve) => setTimeout(resolve, NAVIGATION_TIMEOUT, null));
  const first = await Promise.race([network.catch(() => null), late]);
  if (first) return first;
  const stored = await cachedPage(key);
  return stored || network;
}

async function cachedPage(key) {
  const cache = await caches.open(CACHE);
  const exact = STORABLE.has(key) && (await cache.match(key, { ignoreVary: true }));
  if (exact) return exact;
  const preferred = [await language(), ...SHELL.languages];
  for (const lang of preferred) {
    const shell = await cache.match(shellUrl(lang), { ignoreVary: true });
    if (shell) return shell;
  }
  return null;
}

function shellUrl(lang) {
  return `/app/shell?lang=${lang}`;
}

// Whether the language's files are stored; offline, the next page retries.
async function addLanguage(lang) {
  const cache = await caches.open(CACHE);
  const urls = languageUrls(lang);
  const held = await Promise.all(urls.map((url) => cache.match(url, { ignoreVary: true })));
  if (held.every(Boolean)) return true;
  return cache.addAll(urls.map(revalidated)).then(
    () => true,
    () => false,
  );
}

// The saved language and every one used here before (a shared phone's).
async function languagesInUse() {
  const used = await usedLanguages(await caches.open(STATE_CACHE));
  return [...new Set([await language(), ...used])];
}

async function usedLanguages(cache) {
  const saved = await cache.match(USED_KEY);
  const used = saved ? await saved.json().catch(() => []) : [];
  return Array.isArray(used) ? used.filter((lang) => SHELL.languages.includes(lang)) : [];
}

// `onlyIfNone`: from a signed-out page, which keeps a language saved before.
async function saveLanguage(lang, onlyIfNone = false) {
  const cache = await caches.open(STATE_CACHE);
  if (onlyIfNone && (await cache.match(LANGUAGE_KEY)) && (await cache.match(USED_KEY))) return;
  const used = [...new Set([lang, ...(await usedLanguages(cache))])];
  await cache.put(LANGUAGE_KEY, new Response(lang, { headers: { 'Content-Type': 'text/plain' } }));
  await cache.put(USED_KEY, new Response(JSON.stringify(used)));
}

async function language() {
  const cache = await caches.open(STATE_CACHE);
  const saved = await cache.match(LANGUAGE_KEY);
  const lang = saved && (await saved.text());
  if (lang && SHELL.languages.includes(lang)) return lang;
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

// Reminders (server/family/reminders.py): the payload is already in the
// family's language and discreet ("Appointment — Dana" and a time). A push
// must always show something, so one without readable data shows the name.
self.addEventListener('push', (event) => {
  let data;
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const title = typeof data.title === 'string' && data.title ? data.title : 'Homeward';
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof data.body === 'string' ? data.body : '',
      tag: typeof data.tag === 'string' ? data.tag : undefined,
      lang: typeof data.lang === 'string' ? data.lang : undefined,
      dir: data.dir === 'rtl' ? 'rtl' : 'auto',
      icon: '/static/icons/icon-192.png',
      data: { url: sameOriginPath(data.url) },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = sameOriginPath(event.notification.data?.url);
  event.waitUntil(
    (async () => {
      const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = pages.find((page) => new URL(page.url).pathname === url);
      if (open) return open.focus();
      return self.clients.openWindow(url);
    })(),
  );
});

// Only a path of this site is opened from a notification (the family page).
function sameOriginPath(url) {
  return typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') ? url : '/';
}
