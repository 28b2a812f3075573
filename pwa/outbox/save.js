// Saving to the outbox: a worker's session log or a family's "will you
// come?" answer in, a sealed entry out. What was said exists in clear only
// in these functions' memory: it is sealed before anything is written, and
// the caller clears the form afterwards.

import * as cache from './cache.js';
import { ALGORITHM, seal } from './seal.js';
import * as store from './store.js';
import { drain, requestBackgroundSync } from './sync.js';
import * as transport from './transport.js';

/** The server's public key is not on the phone; `offline` when it could not be fetched. */
export class NoSealingKey extends Error {
  /** @param {string} message @param {boolean} [offline] */
  constructor(message, offline = false) {
    super(message);
    this.offline = offline;
  }
}

async function publicKey() {
  const cached = await cache.sealingKey();
  // A key of another scheme (cached before an update) is fetched again.
  if (cached && cached.alg === ALGORITHM) return cached;
  const fetched = await transport.sealingKey();
  if (!fetched.ok) {
    const offline = fetched.kind === 'retry';
    throw new NoSealingKey('the server key has never been fetched', offline);
  }
  await cache.rememberSealingKey(fetched.body);
  return fetched.body;
}

/**
 * The validator's clean values as the sync API wants them.
 * @param {Record<string, unknown>} clean
 * @returns {Record<string, unknown>}
 */
export function wireValues(clean) {
  /** @type {Record<string, unknown>} */
  const values = {};
  for (const [key, value] of Object.entries(clean)) {
    if (value === null || value === undefined) continue;
    values[key] = typeof value === 'boolean' ? (value ? 'yes' : 'no') : value;
  }
  return values;
}

/**
 * Seal and store one session log. Resolves with the entry once the
 * IndexedDB transaction completed — only then is it safe to say "Saved".
 * Sending starts at once in the background.
 * @param {{id: string, owner: number, form: {pillar: string, version: number}, clean: Record<string, any>, appointment?: string | null, code: string}} args
 */
export async function saveSessionLog({ id, owner, form, clean, appointment, code }) {
  const content = {
    author: owner,
    pillar: form.pillar,
    form_version: form.version,
    values: wireValues(clean),
    appointment: appointment || null,
  };
  const summary = { pillar: form.pillar, code, occurred: clean.occurred_on || '' };
  return sealAndSend({ id, owner, content, summary, type: store.SESSION_LOG });
}

/**
 * Seal and store a family member's answer to an appointment. `baseVersion`
 * is the appointment's version as the phone showed it: the server keeps an
 * answer to an appointment changed since as a conflict, never applies it
 * over the newer state (server/family/responses.py). The summary names the
 * appointment and the answer only (the phone's cached appointment holds
 * them anyway); the optional message stays sealed.
 * @param {{id: string, owner: number, appointment: string, response: string, message?: string, baseVersion: number, replaces?: string[]}} args
 */
export async function saveAppointmentResponse({
  id,
  owner,
  appointment,
  response,
  message,
  baseVersion,
  replaces = [],
}) {
  const content = {
    author: owner,
    appointment,
    response,
    message: message || '',
    base_version: baseVersion,
  };
  const summary = { appointment, response };
  return sealAndSend({ id, owner, content, summary, type: store.APPOINTMENT_RESPONSE, replaces });
}

/**
 * @param {{id: string, owner: number, content: object, summary: Record<string, any>, type: string, replaces?: string[]}} args
 */
async function sealAndSend({ id, owner, content, summary, type, replaces = [] }) {
  const sealed = await seal(content, id, await publicKey());
  const entry = store.newEntry({ id, owner, summary, sealed, type });
  await store.add(entry, replaces);
  requestBackgroundSync();
  drain({ force: true });
  return entry;
}
