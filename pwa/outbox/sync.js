// Draining the outbox: push what is due, then pull what changed. One drain at
// a time per phone (a Web Lock across tabs, a flag within the page); only the
// signed-in person's entries are sent — anyone else's stay sealed, untouched.
//
// Triggers: start-up, the `online` event, a timer while the app is open, the
// service worker's Background Sync, and every save.

import * as cache from './cache.js';
import * as policy from './policy.js';
import * as store from './store.js';
import * as transport from './transport.js';

export const events = new EventTarget();
const TAG = 'homeward-outbox';
const TICK = 30_000;

/** @type {Promise<string> | null} */
let running = null;
let again = false;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
let failures = 0;
// Whether the last failure was the link's (fetch threw or timed out: status
// 0) rather than the server's answer: then the wait is short (policy.backoff).
let cut = false;
// Set by the `online` event: ignore the entries' backoff until a push has
// been tried, even if the first drain after it fails before pushing.
let fresh = false;
// Until when the server asked us not to come back (Retry-After on a 429 or
// 503, as a time on this phone's clock): no request before it, forced or not.
let busyUntil = 0;
// The batch size: halved after a cut, grown back after each delivered
// batch (policy.smaller/larger); 413 halves it too.
let limit = policy.MAX_BATCH;

function emit(type, detail = {}) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

/**
 * Send what is due and refresh the phone's copy of the caseload. Resolves
 * with the outcome ('done', 'offline', 'signed_out', 'refused', 'error').
 * `force` ignores the backoff (the network just came back).
 * @param {{force?: boolean}} [options]
 * @returns {Promise<string>}
 */
export function drain({ force = false } = {}) {
  if (running) {
    again = true;
    return running;
  }
  const current = withLock(() => drainOnce(force))
    .catch((error) => {
      // A bug or a storage failure half-way: nothing was lost (entries
      // change state only in their own transactions), so try again later
      // like after a network failure. Without this the timer stopped here.
      console.error('Homeward outbox:', error);
      return finish('error');
    })
    .finally(() => {
      running = null;
      if (again) {
        again = false;
        drain({ force: true });
      }
    });
  running = current;
  return current;
}

function withLock(work) {
  if (!navigator.locks) return work();
  return navigator.locks.request('homeward-outbox-drain', work);
}

/** Remember the server's Retry-After, if the answer carried one. */
function noteBusy(answer) {
  if (answer.retryAfter) busyUntil = Math.max(busyUntil, Date.now() + answer.retryAfter);
}

async function drainOnce(force) {
  // The server said when to come back: nothing is sent before, not even
  // the sign-in check (a phone hammering a busy server keeps it busy).
  if (Date.now() < busyUntil) return finish('offline');
  emit('status', { state: 'syncing' });
  const who = await transport.me();
  if (!who.ok) return finish(await stopped(who));
  failures = 0; // the link works again: a failure after this starts the backoff afresh
  const me = who.body;
  // A different person signed in on this phone: the last one's cached data
  // goes (their sealed entries stay, and are sent when they return).
  const last = await cache.currentUser();
  if (last && last.id !== me.id) await cache.wipe(last.id);
  await cache.rememberUser(me);
  await cache.rememberName(me.id, me.name || '');
  const key = await transport.sealingKey();
  if (key.ok) await cache.rememberSealingKey(key.body);

  const pushed = await push(me.id, force || fresh);
  const outcome = pushed === 'done' ? await pull(me) : pushed;
  return finish(outcome === 'signed_out' ? await ended() : outcome);
}

async function stopped(answer) {
  if (answer.kind === 'signed_out') return ended();
  noteBusy(answer);
  cut = answer.status === 0;
  return answer.kind === 'retry' ? 'offline' : 'refused';
}

// The server session ended (idle, too old, or signed out elsewhere). It is
// not a sign-out on this phone: unsent entries stay listed in the count with
// "Sign in to send", and what is sealed to her vault stays for her to unlock
// offline (cache.sessionEnded). Only her sign-out here, or another person's
// sign-in, wipes (signout.js, drainOnce).
async function ended() {
  const last = await cache.currentUser();
  if (last) await cache.sessionEnded(last.id);
  return 'signed_out';
}

async function push(owner, force) {
  let todo = policy.due(await store.entries(owner), Date.now(), { force });
  if (todo.length) fresh = false;
  while (todo.length) {
    const [batch] = policy.batches(todo, limit);
    const ids = batch.map((e) => e.id);
    await store.update(ids, () => ({ state: store.SENDING }));
    emit('change');
    const answer = await transport.push(
      batch.map((e) => ({ id: e.id, type: store.recordType(e), sealed: e.sealed })),
    );
    if (answer.ok) {
      failures = 0;
      limit = policy.larger(limit);
      const results = new Map(answer.body.results.map((r) => [r.id, r]));
      await store.update(ids, (entry) => {
        const result = results.get(entry.id);
        return result ? policy.afterResult(result) : policy.afterFailure(entry);
      });
      todo = todo.slice(batch.length);
      continue;
    }
    if (answer.kind === 'signed_out') {
      await store.update(ids, () => ({ state: store.WAITING }));
      return 'signed_out';
    }
    if (answer.kind === 'refused') {
      await store.update(ids, () => policy.afterRefusal(answer.message));
      todo = todo.slice(batch.length);
      continue;
    }
    if (answer.status === 413 && batch.length > 1) {
      // Too big for the server after all: smaller batches, at once.
      await store.update(ids, () => ({ state: store.WAITING }));
      limit = policy.smaller(batch.length);
      continue;
    }
    // Kept, waiting: a cut (fetch threw, or timed out) is retried soon and
    // in a smaller batch; a busy or failing server after the long backoff.
    const network = answer.status === 0;
    cut = network;
    if (network) limit = policy.smaller(batch.length);
    noteBusy(answer);
    const retryAfter = answer.retryAfter || 0;
    await store.update(ids, (entry) =>
      policy.afterFailure(entry, Date.now(), Math.random, { network, retryAfter }),
    );
    return 'offline';
  }
  return 'done';
}

async function pull(me) {
  const owner = me.id;
  const { cursor, formsHash } = await cache.cursor(owner);
  const answer = await transport.pull(cursor, formsHash);
  if (!answer.ok) {
    cut = answer.status === 0;
    noteBusy(answer);
    return answer.kind === 'signed_out' ? 'signed_out' : 'offline';
  }
  // A family's pull is another shape: their relative's upcoming
  // appointments only, complete each time (server/sync/services.py).
  if (me.role === 'family') await cache.saveFamilyPull(owner, answer.body);
  else await cache.savePull(owner, answer.body);
  const conflicts = answer.body.conflicts || [];
  const resolved = new Set(conflicts.filter((c) => c.resolved).map((c) => c.id));
  const entries = await store.entries(owner);
  // Sent entries were confirmed by the server before this pull began.
  const done = entries.filter((e) => e.state === store.SENT || (e.delivered && resolved.has(e.id)));
  await store.update(
    done.map((e) => e.id),
    () => null,
  );
  return 'done';
}

function finish(outcome) {
  emit('change');
  emit('status', { state: outcome });
  schedule(outcome);
  return outcome;
}

// The next drain: every 30 s while the app is open, sooner when an entry
// falls due; after a failure, when the backoff says (never sooner, so a dead
// network is not hammered; short after a cut, see policy.backoff).
async function schedule(outcome) {
  const failed = outcome === 'offline' || outcome === 'error';
  if (outcome === 'error') cut = false;
  failures = failed ? failures + 1 : 0;
  const next = await untilDue();
  let wait = TICK;
  if (failed) wait = Math.max(policy.backoff(failures, Math.random, { network: cut }), next ?? 0);
  else if (outcome === 'done' && next !== null) wait = Math.max(policy.BASE_DELAY / 4, next);
  // Never before the server's Retry-After; a drain that wakes earlier (the
  // 30 s tick) sends nothing and sets the timer again.
  wait = Math.max(wait, busyUntil - Date.now());
  clearTimeout(timer); // after the await: one timer, whichever drain ends last
  timer = setTimeout(() => drain(), Math.min(TICK, wait));
}

// How long until the next entry is due; null when none waits, 0 when the
// store cannot be read (the timer must be set whatever happens).
async function untilDue() {
  try {
    const me = await cache.currentUser();
    const pending = me ? policy.due(await store.entries(me.id), Infinity) : [];
    if (!pending.length) return null;
    return Math.min(...pending.map((e) => e.nextAttemptAt || 0)) - Date.now();
  } catch {
    return 0;
  }
}

/** Until when (ms, this phone's clock) the server asked for no request: for tests. */
export const quietUntil = () => busyUntil;

/** Ask the service worker to wake us when the network returns (Background Sync). */
export async function requestBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker?.ready;
    await registration?.sync?.register(TAG);
  } catch {
    // Not supported or not allowed: the `online` event and the timer remain.
  }
}

let started = false;

/** Start draining now and on every later trigger. */
export function start() {
  if (started) return running || Promise.resolve();
  started = true;
  addEventListener('online', () => {
    // The network just came back: what failed while it was away says
    // nothing about now. Start the backoff afresh and try at once.
    failures = 0;
    fresh = true;
    drain({ force: true });
  });
  navigator.serviceWorker?.addEventListener('message', (event) => {
    if (event.data?.type === 'SYNC') drain({ force: true });
  });
  return drain();
}
