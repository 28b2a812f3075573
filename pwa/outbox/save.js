// Saving a session log to the outbox: checked answers in, a sealed entry out.
// The answers exist in clear only in this function's memory: they are sealed
// before anything is written, and the caller clears the form afterwards.

import * as cache from './cache.js';
import { seal } from './seal.js';
import * as store from './store.js';
import { drain, requestBackgroundSync } from './sync.js';
import * as transport from './transport.js';

export class NoSealingKey extends Error {}

async function publicKey() {
  const cached = await cache.sealingKey();
  if (cached) return cached;
  const fetched = await transport.sealingKey();
  if (!fetched.ok) throw new NoSealingKey('the server key has never been fetched');
  await cache.rememberSealingKey(fetched.body);
  return fetched.body;
}

/** The validator's clean values as the sync API wants them. */
export function wireValues(clean) {
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
 */
export async function saveSessionLog({ id, owner, form, clean, appointment, code }) {
  const content = {
    author: owner,
    pillar: form.pillar,
    form_version: form.version,
    values: wireValues(clean),
    appointment: appointment || null,
  };
  const sealed = await seal(content, id, await publicKey());
  const summary = { pillar: form.pillar, code, occurred: clean.occurred_on || '' };
  const entry = store.newEntry({ id, owner, summary, sealed });
  await store.add(entry);
  requestBackgroundSync();
  drain({ force: true });
  return entry;
}
