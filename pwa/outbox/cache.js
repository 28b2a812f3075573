// What the phone keeps so a worker can work offline: who is signed in,
// the server's public sealing key, and per user the caseload (codes only),
// upcoming appointments, the forms in their language and the sync cursor.
// None of it is a secret on its own; all of it but the outbox is wiped at
// sign-out so the next person on a shared phone does not see it.

import { byOwner, get, put, run } from './db.js';

const USER = 'user';
const SEALING_KEY = 'sealing-key';

export const currentUser = async () => (await get('meta', USER)) || null;

// The id, role, language and time zone only: the name is not needed offline.
export const rememberUser = (me) =>
  put('meta', {
    key: USER,
    id: me.id,
    role: me.role,
    language: me.language,
    time_zone: me.time_zone,
  });

export const forgetUser = () => run(['meta'], 'readwrite', (s) => s.meta.delete(USER));

export const sealingKey = () => get('meta', SEALING_KEY);
export const rememberSealingKey = ({ kid, spki, alg }) =>
  put('meta', { key: SEALING_KEY, kid, spki, alg });

export const cursor = async (owner) =>
  (await get('meta', `sync:${owner}`)) || { cursor: 0, formsHash: '' };

export const forms = (owner) => get('forms', owner);
export const participants = async (owner) =>
  (await byOwner('participants', owner)).sort((a, b) => (a.code < b.code ? -1 : 1));
export const appointments = async (owner) =>
  (await byOwner('appointments', owner)).sort((a, b) => (a.starts_at < b.starts_at ? -1 : 1));

/**
 * Store one pull's answer for `owner` in a single transaction: the caseload
 * is complete every time (anyone missing is deleted), appointments arrive
 * when changed (those no longer in the caseload, or cancelled, go).
 */
export function savePull(owner, body) {
  const names = ['meta', 'forms', 'participants', 'appointments'];
  return run(names, 'readwrite', (s) => {
    const keep = new Set(body.participants.map((p) => p.id));
    s.participants.index('owner').getAllKeys(owner).onsuccess = (event) => {
      for (const key of event.target.result) if (!keep.has(key[1])) s.participants.delete(key);
    };
    for (const p of body.participants) s.participants.put({ owner, id: p.id, code: p.code });
    for (const a of body.appointments) {
      const gone = !keep.has(a.participant) || !['scheduled', 'confirmed'].includes(a.status);
      if (gone) s.appointments.delete([owner, a.id]);
      else s.appointments.put({ owner, ...appointmentFields(a) });
    }
    s.appointments.index('owner').getAll(owner).onsuccess = (event) => {
      for (const a of event.target.result) {
        if (!keep.has(a.participant)) s.appointments.delete([owner, a.id]);
      }
    };
    if (body.forms) s.forms.put({ owner, hash: body.forms_hash, ...body.forms });
    s.meta.put({ key: `sync:${owner}`, cursor: body.cursor, formsHash: body.forms_hash });
  });
}

// Only what the offline screens show; nothing else the server sends is kept.
function appointmentFields(a) {
  return {
    id: a.id,
    participant: a.participant,
    pillar: a.pillar,
    starts_at: a.starts_at,
    ends_at: a.ends_at,
    place: a.place,
    status: a.status,
  };
}

/**
 * A family member's pull: the complete list of their relative's upcoming
 * appointments, so whatever is not in it (cancelled, past, hidden from the
 * family) goes. Kept in the same store as a worker's appointments, so
 * `wipe` removes them at sign-out like everything else.
 */
export function saveFamilyPull(owner, body) {
  return run(['meta', 'appointments'], 'readwrite', (s) => {
    s.appointments.delete(IDBKeyRange.bound([owner], [owner, []]));
    for (const a of body.appointments) s.appointments.put({ owner, ...familyFields(a) });
    s.meta.put({ key: `sync:${owner}`, cursor: body.cursor, formsHash: '' });
  });
}

// The family screen's allow-list: when, where, with whom, what to bring,
// their own answer, and the version their answer is based on. The family's
// message is not kept: it is sealed in the outbox, and never pulled back.
function familyFields(a) {
  return {
    id: a.id,
    family: true,
    starts_at: a.starts_at,
    ends_at: a.ends_at,
    place: a.place,
    organisation: a.organisation,
    with: a.with,
    what_to_bring: a.what_to_bring,
    status: a.status,
    response: a.response,
    version: a.version,
  };
}

/** Everything of `owner` except their sealed outbox entries. */
export function wipe(owner) {
  return run(['meta', 'forms', 'participants', 'appointments'], 'readwrite', (s) => {
    s.forms.delete(owner);
    s.meta.delete(`sync:${owner}`);
    s.meta.get(USER).onsuccess = (event) => {
      if (event.target.result?.id === owner) s.meta.delete(USER);
    };
    const range = IDBKeyRange.bound([owner], [owner, []]);
    s.participants.delete(range);
    s.appointments.delete(range);
  });
}
