// The outbox store: sealed entries on the phone, nothing else.
//
// An entry: {id, owner, type, state, summary, sealed, attempts,
// nextAttemptAt, reason, delivered, createdAt}. `type` is the sync record
// type: "session_log" (a worker's, summary {pillar, code, occurred}) or
// "appointment_response" (a family's, summary {appointment, response}).
// `summary` is the only plaintext; `sealed` can only be opened by the server. Entries are never expired: one leaves only
// when the server has it (or when its author removes a refused one).

import { byOwner, run } from './db.js';

export const WAITING = 'waiting';
export const SENDING = 'sending';
export const SENT = 'sent';
export const NEEDS_ATTENTION = 'needs_attention';

const UNSENT = new Set([WAITING, SENDING, NEEDS_ATTENTION]);

// Entries written before record types existed have no `type`: they are
// session logs (see recordType).
export const SESSION_LOG = 'session_log';
export const APPOINTMENT_RESPONSE = 'appointment_response';

export const recordType = (entry) => entry.type || SESSION_LOG;

export function newEntry({ id, owner, summary, sealed, type = SESSION_LOG, now = Date.now() }) {
  return {
    id,
    owner,
    type,
    state: WAITING,
    summary,
    sealed,
    attempts: 0,
    nextAttemptAt: 0,
    reason: '',
    delivered: false,
    createdAt: now,
  };
}

/**
 * Resolves once the entry is committed: only then may the page say "Saved".
 * `replaces`: ids of earlier entries the new one makes moot, deleted in the
 * same transaction if they have not started sending (so no drain can pick
 * up the old one after the new one exists, and a crash keeps one or the
 * other, never neither).
 */
export function add(entry, replaces = []) {
  return run(['outbox'], 'readwrite', (s) => {
    for (const id of replaces) {
      s.outbox.get(id).onsuccess = (event) => {
        const old = event.target.result;
        if (old && (old.state === WAITING || old.state === NEEDS_ATTENTION)) s.outbox.delete(id);
      };
    }
    return s.outbox.add(entry);
  });
}

/** The entries of one person, oldest first. */
export async function entries(owner) {
  const found = await byOwner('outbox', owner);
  return found.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

export async function unsentCount(owner) {
  return (await entries(owner)).filter((e) => UNSENT.has(e.state) && !e.delivered).length;
}

/**
 * Apply `changes(entry)` (returning the fields to change, or null to delete
 * it) to each of `ids` in one transaction: read and write happen in request
 * callbacks, with no other await in between.
 */
export function update(ids, changes) {
  return run(['outbox'], 'readwrite', ({ outbox }) => {
    for (const id of ids) {
      outbox.get(id).onsuccess = (event) => {
        const entry = event.target.result;
        if (!entry) return;
        const change = changes(entry);
        if (change === null) outbox.delete(id);
        else outbox.put({ ...entry, ...change });
      };
    }
  });
}

export function remove(id) {
  return run(['outbox'], 'readwrite', (s) => s.outbox.delete(id));
}
