// The network side of the outbox: the sync API and nothing else. Every call
// answers with a plain outcome object instead of throwing, so the policy
// (sync.js) decides what a failure means in one place:
//   {ok: true, body}                    — 2xx, JSON body
//   {ok: false, kind: 'signed_out'}     — 401
//   {ok: false, kind: 'csrf'}           — 403 with code "csrf"
//   {ok: false, kind: 'retry', status, retryAfter}
//                                       — network down or timed out
//                                         (status 0), 408, 413, 429, 5xx;
//                                         retryAfter: the server's
//                                         Retry-After in ms (0 when none)
//   {ok: false, kind: 'refused', status, message} — any other 4xx

let csrfToken = '';

// A request the link holds (out of coverage, TCP waiting) would hold the
// drain, and its lock, until the link resumes: it is given up instead and
// counts as a network failure (the entry stays; a push the server did get
// is answered `already_stored` next time, ids being idempotency keys).
// Until the answer starts: TIMEOUT, plus the body's upload at 25 KB/s (half
// a slow 50 KB/s link: a full 900 KB batch gets 56 s). Then while reading
// the answer: TIMEOUT with nothing arriving.
export const TIMEOUT = 20_000;
const SLOW_UPLOAD = 25; // bytes per millisecond

// The token of this sign-in session. Pages carry it in a meta tag; the
// offline shell is rendered for nobody and carries none, so then we ask a
// fresh page for it.
async function token(fresh = false) {
  if (!fresh && !csrfToken) {
    csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') || '';
  }
  if (fresh || !csrfToken) {
    const response = await fetch('/', {
      credentials: 'same-origin',
      cache: 'no-store',
      signal: AbortSignal.timeout(TIMEOUT),
    });
    const page = new DOMParser().parseFromString(await response.text(), 'text/html');
    csrfToken = page.querySelector('meta[name="csrf-token"]')?.getAttribute('content') || '';
  }
  return csrfToken;
}

async function call(url, init = {}) {
  const controller = new AbortController();
  const size = typeof init.body === 'string' ? init.body.length : 0;
  let timer = setTimeout(() => controller.abort(), TIMEOUT + size / SLOW_UPLOAD);
  let response;
  /** @type {any} the API's JSON answer, or null when it did not arrive whole */
  let body;
  try {
    try {
      response = await fetch(url, {
        ...init,
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { Accept: 'application/json', ...init.headers },
        signal: controller.signal,
      });
    } catch {
      // Cut, dropped, refused, or given up above: the link, not the server.
      return { ok: false, kind: 'retry', status: 0 };
    }
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(), TIMEOUT);
    };
    quiet();
    body = await readJson(response, quiet).catch(() => null);
  } finally {
    clearTimeout(timer);
  }
  if (response.ok && body) return { ok: true, body };
  // The answer was cut or stalled half-way: the link again.
  if (response.ok) return { ok: false, kind: 'retry', status: 0 };
  const status = response.status;
  if (status === 401) return { ok: false, kind: 'signed_out', status };
  if (status === 403 && body?.error?.code === 'csrf') return { ok: false, kind: 'csrf', status };
  if (status === 413 || status === 429 || status === 408 || status >= 500) {
    return { ok: false, kind: 'retry', status, retryAfter: retryAfter(response) };
  }
  return { ok: false, kind: 'refused', status, message: body?.error?.message || '' };
}

// A Retry-After past this is a broken header, not a plan: the backoff's cap.
export const MAX_RETRY_AFTER = 5 * 60_000;

/**
 * How long the server asked us to wait (429, 503), in ms: `Retry-After` as
 * seconds or as an HTTP date; 0 when absent or unreadable.
 * @param {Response} response
 * @param {number} [now]
 * @returns {number}
 */
export function retryAfter(response, now = Date.now()) {
  const value = (response.headers.get('Retry-After') || '').trim();
  if (!value) return 0;
  const wait = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isFinite(wait) ? Math.min(MAX_RETRY_AFTER, Math.max(0, wait)) : 0;
}

/**
 * The answer's JSON, read chunk by chunk so that `progress` is called while
 * bytes arrive (a slow answer is not a stalled one).
 * @param {Response} response
 * @param {() => void} progress
 * @returns {Promise<any>}
 */
async function readJson(response, progress) {
  if (!response.body) return response.json();
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    progress();
    text += decoder.decode(value, { stream: true });
  }
  return JSON.parse(text + decoder.decode());
}

export const me = () => call('/api/me');

export const sealingKey = () => call('/api/sync/key');

export const pull = (since, formsHash) =>
  call(`/api/sync/pull?since=${encodeURIComponent(since)}&forms=${encodeURIComponent(formsHash)}`);

/** POST a batch of sealed records; a stale CSRF token is refreshed once. */
export async function push(records) {
  const send = async (fresh) => {
    let value;
    try {
      value = await token(fresh);
    } catch {
      return { ok: false, kind: 'retry', status: 0 };
    }
    return call('/api/sync/push', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': value },
      body: JSON.stringify({ records }),
    });
  };
  const first = await send(false);
  return first.kind === 'csrf' ? send(true) : first;
}
