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

let running = null;
let again = false;
let timer = null;
let failures = 0;

function emit(type, detail = {}) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

/**
 * Send what is due and refresh the phone's copy of the caseload. Resolves
 * with the outcome ('done', 'offline', 'signed_out', 'refused'). `force`
 * ignores the backoff (the network just came back).
 */
export function drain({ force = false } = {}) {
  if (running) {
    again = true;
    return running;
  }
  running = withLock(() => drainOnce(force))
    .catch((error) => {
      console.error('Homeward outbox:', error);
      return 'error';
    })
    .finally(() => {
      running = null;
      if (again) {
        again = false;
        drain({ force: true });
      }
    });
  return running;
}

function withLock(work) {
  if (!navigator.locks) return work();
  return navigator.locks.request('homeward-outbox-drain', work);
}

async function drainOnce(force) {
  emit('status', { state: 'syncing' });
  const who = await transport.me();
  if (!who.ok) return finish(await stopped(who));
  const me = who.body;
  // A different person signed in on this phone: the last one's cached data
  // goes (their sealed entries stay, and are sent when they return).
  const last = await cache.currentUser();
  if (last && last.id !== me.id) await cache.wipe(last.id);
  await cache.rememberUser(me);
  const key = await transport.sealingKey();
  if (key.ok) await cache.rememberSealingKey(key.body);

  const outcome = await push(me.id, force);
  if (outcome !== 'done') return finish(outcome);
  return finish(await pull(me));
}

async function stopped(answer) {
  if (answer.kind === 'signed_out') {
    // Signed out (here or elsewhere) or the session ended: the cached
    // caseload goes; sealed entries stay until their author signs in again.
    const last = await cache.currentUser();
    if (last) await cache.wipe(last.id);
    return 'signed_out';
  }
  return answer.kind === 'retry' ? 'offline' : 'refused';
}

async function push(owner, force) {
  let limit = policy.MAX_BATCH;
  let todo = policy.due(await store.entries(owner), Date.now(), { force });
  while (todo.length) {
    const [batch] = policy.batches(todo, limit);
    const ids = batch.map((e) => e.id);
    await store.update(ids, () => ({ state: store.SENDING }));
    emit('change');
    const answer = await transport.push(
      batch.map((e) => ({ id: e.id, type: store.recordType(e), sealed: e.sealed })),
    );
    if (answer.ok) {
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
      limit = Math.max(1, Math.floor(batch.length / 2));
      continue;
    }
    await store.update(ids, (entry) => policy.afterFailure(entry));
    return 'offline';
  }
  return 'done';
}

async function pull(me) {
  const owner = me.id;
  const { cursor, formsHash } = await cache.cursor(owner);
  const answer = await transport.pull(cursor, formsHash);
  if (!answer.ok) return answer.kind === 'signed_out' ? 'signed_out' : 'offline';
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

// The next drain: every 30 s while the app is open; after a failure, when
// the backoff says (never sooner, so a dead network is not hammered).
async function schedule(outcome) {
  clearTimeout(timer);
  let wait = TICK;
  if (outcome === 'offline') {
    failures += 1;
    const me = await cache.currentUser();
    const pending = me ? policy.due(await store.entries(me.id), Infinity) : [];
    const next = Math.min(...pending.map((e) => e.nextAttemptAt || 0));
    const due = Number.isFinite(next) ? next - Date.now() : 0;
    wait = Math.min(TICK, Math.max(policy.backoff(failures), due));
  } else {
    failures = 0;
  }
  timer = setTimeout(() => drain(), wait);
}

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
  addEventListener('online', () => drain({ force: true }));
  navigator.serviceWorker?.addEventListener('message', (event) => {
    if (event.data?.type === 'SYNC') drain({ force: true });
  });
  return drain();
}
