// What the phone keeps so a worker can work offline: who is signed in,
// the server's public sealing key, and per user the caseload (codes only),
// upcoming appointments, the forms in their language and the sync cursor.
// None of it is a secret on its own; all of it but the outbox is wiped at
// sign-out so the next person on a shared phone does not see it.
//
// When the person's passkey has PRF (vault.js), the caseload, appointments
// and her name are stored sealed to her vault and read back only once she
// unlocked it; ids stay in clear (random, needed to merge pulls). Without a
// vault they are kept in clear, and only while her server session lasts.

import { byOwner, get, put, run } from './db.js';
import * as vault from './vault.js';

const USER = 'user';
const SEALING_KEY = 'sealing-key';

export const currentUser = async () => (await get('meta', USER)) || null;

// The id, role, language, time zone and country (how dates are written)
// only: the name is not needed offline.
/** @param {{id: number, role: string, language: string, time_zone: string, country?: string}} me */
export const rememberUser = (me) =>
  put('meta', {
    key: USER,
    id: me.id,
    role: me.role,
    language: me.language,
    time_zone: me.time_zone,
    country: me.country || '',
  });

export const forgetUser = () => run(['meta'], 'readwrite', (s) => s.meta.delete(USER));

/** @param {number} owner */
const profileKey = (owner) => `profile:${owner}`;

/**
 * Her own name, to pre-fill "Who led the session?" offline as online.
 * @param {number} owner
 * @param {string} name
 */
export async function rememberName(owner, name) {
  const seal = await vault.sealer(owner);
  const stored = seal ? { sealed: await seal('profile', { name }) } : { name };
  return put('meta', { key: profileKey(owner), owner, ...stored });
}

/** @param {number} owner @returns {Promise<string>} */
export async function name(owner) {
  const found = await get('meta', profileKey(owner));
  if (!found) return '';
  if (!found.sealed) return found.name || '';
  const [opened] = await vault.openAll(owner, [{ id: 'profile', sealed: found.sealed }]);
  return opened?.name || '';
}

/**
 * The phone holds data of `owner` it cannot show yet: her vault is locked.
 * @param {number} owner
 */
export const locked = async (owner) => Boolean(await vault.find(owner)) && !vault.isUnlocked(owner);

/**
 * Her server session ended (401). Nothing unsent is touched, and who she is
 * stays known, so the count and "Sign in to send" stay on screen. What is
 * sealed to her vault stays too (she unlocks it offline with her passkey);
 * without a vault the caseload was in clear and goes now, since the next
 * person holding the phone must not see it.
 * @param {number} owner
 */
export async function sessionEnded(owner) {
  const keep = Boolean(await vault.find(owner));
  return run(['meta', 'participants', 'appointments'], 'readwrite', (s) => {
    const request = s.meta.get(USER);
    request.onsuccess = () => {
      const user = request.result;
      if (user?.id === owner) s.meta.put({ ...user, signedOut: true });
    };
    if (keep) return;
    s.meta.delete(`sync:${owner}`);
    s.meta.delete(profileKey(owner));
    const range = IDBKeyRange.bound([owner], [owner, []]);
    s.participants.delete(range);
    s.appointments.delete(range);
  });
}

/**
 * Rows as stored: sealed ones opened (when unlocked), clear ones as they are.
 * @param {number} owner
 * @param {any[]} rows
 * @returns {Promise<any[]>}
 */
async function readable(owner, rows) {
  const sealed = rows.filter((row) => row.sealed);
  const opened = await vault.openAll(owner, sealed);
  return [...rows.filter((row) => !row.sealed), ...opened];
}

/**
 * A row to store: the value sealed with `seal` (and `clear` fields beside
 * it, to merge pulls), or in clear when there is no vault.
 * @param {((id: string, value: object) => Promise<object>) | null} seal
 * @param {number} owner
 * @param {string} id
 * @param {Record<string, unknown>} value
 * @param {Record<string, unknown>} [clear]
 */
async function row(seal, owner, id, value, clear = {}) {
  return seal ? { owner, id, ...clear, sealed: await seal(id, value) } : { owner, ...value };
}

export const sealingKey = () => get('meta', SEALING_KEY);
/** @param {{kid: string, spki: string, alg: string}} key */
export const rememberSealingKey = ({ kid, spki, alg }) =>
  put('meta', { key: SEALING_KEY, kid, spki, alg });

/**
 * @param {number} owner
 * @returns {Promise<{cursor: number, formsHash: string}>}
 */
export const cursor = async (owner) =>
  (await get('meta', `sync:${owner}`)) || { cursor: 0, formsHash: '' };

/** @param {number} owner */
export const forms = (owner) => get('forms', owner);
/** @param {number} owner @returns {Promise<any[]>} */
export const participants = async (owner) =>
  (await readable(owner, await byOwner('participants', owner))).sort((a, b) =>
    a.code < b.code ? -1 : 1,
  );
/** @param {number} owner @returns {Promise<any[]>} */
export const appointments = async (owner) =>
  (await readable(owner, await byOwner('appointments', owner))).sort((a, b) =>
    a.starts_at < b.starts_at ? -1 : 1,
  );

/**
 * Store one pull's answer for `owner` in a single transaction: the caseload
 * is complete every time (anyone missing is deleted), appointments arrive
 * when changed (those no longer in the caseload, or cancelled, go), and
 * `open_appointments` names every one the phone may still hold (one moved
 * to another worker never arrives as a change: it is simply not named). Rows
 * are sealed before the transaction starts (no await may happen inside it).
 * @param {number} owner
 * @param {{participants: Array<{id: string, code: string, gender?: string | null, pillars?: string[]}>, appointments: any[], open_appointments?: string[], forms?: object, forms_hash: string, cursor: number}} body
 */
export async function savePull(owner, body) {
  const seal = await vault.sealer(owner);
  const keep = new Set(body.participants.map((p) => p.id));
  const held = new Set(body.open_appointments ?? []);
  const people = await Promise.all(
    // `pillars`: what the offline form may offer (a referred participant's
    // referred pillars only; docs/referrals.md); null from an older server.
    body.participants.map((p) =>
      row(seal, owner, p.id, { id: p.id, code: p.code, gender: p.gender ?? null, pillars: p.pillars ?? null }),
    ),
  );
  /** @param {{participant: string, status: string}} a */
  const gone = (a) => !keep.has(a.participant) || !['scheduled', 'confirmed'].includes(a.status);
  const changed = await Promise.all(
    body.appointments
      .filter((a) => !gone(a))
      .map((a) => row(seal, owner, a.id, appointmentFields(a), { participant: a.participant })),
  );
  const names = ['meta', 'forms', 'participants', 'appointments'];
  return run(names, 'readwrite', (s) => {
    const keys = s.participants.index('owner').getAllKeys(owner);
    keys.onsuccess = () => {
      for (const key of /** @type {string[][]} */ (keys.result)) {
        if (!keep.has(key[1])) s.participants.delete(key);
      }
    };
    for (const p of people) s.participants.put(p);
    for (const a of body.appointments) if (gone(a)) s.appointments.delete([owner, a.id]);
    for (const a of changed) s.appointments.put(a);
    const stored = s.appointments.index('owner').getAll(owner);
    stored.onsuccess = () => {
      for (const a of stored.result) {
        if (!keep.has(a.participant) || !held.has(a.id)) s.appointments.delete([owner, a.id]);
      }
    };
    if (body.forms) s.forms.put({ owner, hash: body.forms_hash, ...body.forms });
    s.meta.put({ key: `sync:${owner}`, cursor: body.cursor, formsHash: body.forms_hash });
  });
}

/**
 * Only what the offline screens show; nothing else the server sends is kept.
 * @param {Record<string, any>} a
 */
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
 * appointments (cancelled ones too, until they are over), so whatever is not
 * in it (past, hidden from the family) goes. Kept in the same store as a worker's appointments, so
 * `wipe` removes them at sign-out like everything else.
 * @param {number} owner
 * @param {{appointments: Array<Record<string, any>>, cursor: number}} body
 */
export async function saveFamilyPull(owner, body) {
  const seal = await vault.sealer(owner);
  const rows = await Promise.all(body.appointments.map((a) => row(seal, owner, a.id, familyFields(a))));
  return run(['meta', 'appointments'], 'readwrite', (s) => {
    s.appointments.delete(IDBKeyRange.bound([owner], [owner, []]));
    for (const a of rows) s.appointments.put(a);
    s.meta.put({ key: `sync:${owner}`, cursor: body.cursor, formsHash: '' });
  });
}

// The family screen's allow-list: what (pillar), when, where (and the map
// point), with whom, what to bring, the number to call, a move or a
// cancellation, their own answer, whether it is still taken, and the version
// their answer is based on. The family's message is not kept: it is sealed
// in the outbox, and never pulled back.
/** @param {Record<string, any>} a */
function familyFields(a) {
  return {
    id: a.id,
    family: true,
    pillar: a.pillar,
    starts_at: a.starts_at,
    ends_at: a.ends_at,
    moved_from: a.moved_from ?? null,
    place: a.place,
    latitude: a.latitude ?? null,
    longitude: a.longitude ?? null,
    organisation: a.organisation,
    with: a.with,
    what_to_bring: a.what_to_bring,
    contact_phone: a.contact_phone ?? '',
    status: a.status,
    response: a.response,
    answerable: Boolean(a.answerable),
    version: a.version,
  };
}

/**
 * Everything of `owner` except their sealed outbox entries: her sign-out,
 * or another person's sign-in on this phone. Her vault goes too.
 * @param {number} owner
 */
export function wipe(owner) {
  if (vault.isUnlocked(owner)) vault.lock();
  return run(['meta', 'forms', 'participants', 'appointments'], 'readwrite', (s) => {
    s.forms.delete(owner);
    s.meta.delete(`sync:${owner}`);
    s.meta.delete(profileKey(owner));
    s.meta.delete(`vault:${owner}`);
    const user = s.meta.get(USER);
    user.onsuccess = () => {
      if (user.result?.id === owner) s.meta.delete(USER);
    };
    const range = IDBKeyRange.bound([owner], [owner, []]);
    s.participants.delete(range);
    s.appointments.delete(range);
  });
}
