// Reminders on this phone (family/_reminders.html): Web Push through the
// service worker, which shows them (pwa/sw.js, `push`). The texts come from
// the page, in the family's language. A phone or browser that cannot
// subscribe (no push service reachable, notifications refused) is told so
// plainly, and nothing is stored on the server.

const KEY_URL = '/api/family/reminders/key';
const ON_URL = '/api/family/reminders';
const OFF_URL = '/api/family/reminders/off';
const WORKER_WAIT = 15_000;

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') || '';

/** @param {string} text base64url without padding */
function bytesOf(text) {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

async function postJson(url, body) {
  return fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken() },
    body: JSON.stringify(body),
  });
}

/** The server's own words for a refusal, when it sent any. */
async function reason(response) {
  const body = await response.json().catch(() => null);
  return typeof body?.error?.message === 'string' ? body.error.message : '';
}

/** @param {HTMLElement | null} root the [data-reminders] section */
export async function start(root) {
  if (!root) return;
  const on = /** @type {HTMLButtonElement} */ (root.querySelector('[data-reminders-on]'));
  const off = /** @type {HTMLButtonElement} */ (root.querySelector('[data-reminders-off]'));
  const state = /** @type {HTMLElement} */ (root.querySelector('[data-reminders-state]'));
  const text = (name) => root.dataset[`text${name}`] || '';
  const say = (message, kind) => {
    state.textContent = message;
    state.dataset.state = kind;
    state.hidden = !message;
  };
  const show = (subscribed) => {
    on.hidden = subscribed;
    off.hidden = !subscribed;
    root.dataset.subscribed = subscribed ? 'yes' : 'no';
  };
  root.hidden = false;
  const able = 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
  if (!able) {
    say(text('Unsupported'), 'unsupported');
    root.dataset.reminders = 'unsupported';
    return;
  }
  // Reminders come through the service worker: if it never starts (private
  // window, storage refused), say so rather than show a button that waits.
  const registration = await Promise.race([
    navigator.serviceWorker.ready,
    new Promise((resolve) => setTimeout(resolve, WORKER_WAIT, null)),
  ]);
  if (!registration) {
    say(text('Unsupported'), 'unsupported');
    root.dataset.reminders = 'unsupported';
    return;
  }
  show(Boolean(await registration.pushManager.getSubscription()));

  on.addEventListener('click', async () => {
    on.disabled = true;
    try {
      say(await turnOn(registration, text), 'on');
    } catch (error) {
      if (error instanceof Refusal) say(error.message, error.kind);
      else say(text('Unsupported'), 'unsupported');
    } finally {
      on.disabled = false;
      show(Boolean(await registration.pushManager.getSubscription()));
    }
  });

  off.addEventListener('click', async () => {
    off.disabled = true;
    try {
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) {
        const response = await postJson(OFF_URL, { endpoint: subscription.endpoint });
        // 404: the server had already forgotten this phone (expired); off all the same.
        if (!response.ok && response.status !== 404) throw new Refusal((await reason(response)) || text('Failed'), 'failed');
        await subscription.unsubscribe();
      }
      say(text('Off'), 'off');
    } catch (error) {
      say(error instanceof Refusal ? error.message : text('Failed'), 'failed');
    } finally {
      off.disabled = false;
      show(Boolean(await registration.pushManager.getSubscription()));
    }
  });
  root.dataset.reminders = 'ready';
}

class Refusal extends Error {
  constructor(message, kind) {
    super(message);
    this.kind = kind;
  }
}

async function turnOn(registration, text) {
  if ((await Notification.requestPermission()) !== 'granted') throw new Refusal(text('Denied'), 'denied');
  const keyResponse = await fetch(KEY_URL, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!keyResponse.ok) throw new Refusal(text('Failed'), 'failed');
  const { key } = await keyResponse.json();
  let subscription;
  try {
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: bytesOf(key),
    });
  } catch {
    // No push service answered (some browsers, phones without one).
    throw new Refusal(text('Unsupported'), 'unsupported');
  }
  const response = await postJson(ON_URL, subscription.toJSON());
  if (!response.ok) {
    // Nothing was stored: leave the phone as it was, not half on.
    await subscription.unsubscribe().catch(() => false);
    throw new Refusal((await reason(response)) || text('Failed'), 'failed');
  }
  return text('On');
}
