// The network side of the outbox: the sync API and nothing else. Every call
// answers with a plain outcome object instead of throwing, so the policy
// (sync.js) decides what a failure means in one place:
//   {ok: true, body}                    — 2xx, JSON body
//   {ok: false, kind: 'signed_out'}     — 401
//   {ok: false, kind: 'csrf'}           — 403 with code "csrf"
//   {ok: false, kind: 'retry', status}  — network down, 413, 429, 5xx
//   {ok: false, kind: 'refused', status, message} — any other 4xx

let csrfToken = '';

// The token of this sign-in session. Pages carry it in a meta tag; the
// offline shell is rendered for nobody and carries none, so then we ask a
// fresh page for it.
async function token(fresh = false) {
  if (!fresh && !csrfToken) {
    csrfToken = document.querySelector('meta[name="csrf-token"]')?.content || '';
  }
  if (fresh || !csrfToken) {
    const response = await fetch('/', { credentials: 'same-origin', cache: 'no-store' });
    const page = new DOMParser().parseFromString(await response.text(), 'text/html');
    csrfToken = page.querySelector('meta[name="csrf-token"]')?.content || '';
  }
  return csrfToken;
}

async function call(url, init = {}) {
  let response;
  try {
    response = await fetch(url, {
      ...init,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json', ...init.headers },
    });
  } catch {
    return { ok: false, kind: 'retry', status: 0 };
  }
  const body = await response.json().catch(() => null);
  if (response.ok && body) return { ok: true, body };
  const status = response.status;
  if (status === 401) return { ok: false, kind: 'signed_out', status };
  if (status === 403 && body?.error?.code === 'csrf') return { ok: false, kind: 'csrf', status };
  if (response.ok || status === 413 || status === 429 || status === 408 || status >= 500) {
    return { ok: false, kind: 'retry', status };
  }
  return { ok: false, kind: 'refused', status, message: body?.error?.message || '' };
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
