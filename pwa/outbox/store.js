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

/**
 * @typedef {object} Entry
 * @property {string} id
 * @property {number} owner
 * @property {string} type
 * @property {string} state
 * @property {Record<string, any>} summary
 * @property {Record<string, any> | null} sealed  null once the server has it
 * @property {number} attempts
 * @property {number} nextAttemptAt
 * @property {string} reason
 * @property {boolean} delivered
 * @property {number} createdAt
 * @property {number} [sentAt]
 * @property {string} [code]  the server's refusal code, when it refused the entry
 */

const UNSENT = new Set([WAITING, SENDING, NEEDS_ATTENTION]);

// Entries written before record types existed have no `type`: they are
// session logs (see recordType).
export const SESSION_LOG = 'session_log';
export const APPOINTMENT_RESPONSE = 'appointment_response';

/** @param {{type?: string}} entry */
export const recordType = (entry) => entry.type || SESSION_LOG;

/**
 * @param {{id: string, owner: number, summary: Record<string, any>, sealed: Record<string, any>, type?: string, now?: number}} fields
 * @returns {Entry}
 */
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
 * @param {Entry} entry
 * @param {string[]} [replaces]
 */
export function add(entry, replaces = []) {
  return run(['outbox'], 'readwrite', (s) => {
    for (const id of replaces) {
      const request = s.outbox.get(id);
      request.onsuccess = () => {
        const old = request.result;
        if (old && (old.state === WAITING || old.state === NEEDS_ATTENTION)) s.outbox.delete(id);
      };
    }
    return s.outbox.add(entry);
  });
}

/**
 * The entries of one person, oldest first.
 * @param {number} owner
 * @returns {Promise<Entry[]>}
 */
export async function entries(owner) {
  /** @type {Entry[]} */
  const found = await byOwner('outbox', owner);
  return found.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

/** @param {number} owner */
export async function unsentCount(owner) {
  return (await entries(owner)).filter((e) => UNSENT.has(e.state) && !e.delivered).length;
}

/**
 * Apply `changes(entry)` (returning the fields to change, or null to delete
 * it) to each of `ids` in one transaction: read and write happen in request
 * callbacks, with no other await in between.
 * @param {string[]} ids
 * @param {(entry: Entry) => Partial<Entry> | null} changes
 */
export function update(ids, changes) {
  return run(['outbox'], 'readwrite', ({ outbox }) => {
    for (const id of ids) {
      const request = outbox.get(id);
      request.onsuccess = () => {
        /** @type {Entry | undefined} */
        const entry = request.result;
        if (!entry) return;
        const change = changes(entry);
        if (change === null) outbox.delete(id);
        else outbox.put({ ...entry, ...change });
      };
    }
  });
}

/** @param {string} id */
export function remove(id) {
  return run(['outbox'], 'readwrite', (s) => s.outbox.delete(id));
}
