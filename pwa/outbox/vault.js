// The phone's vault: a worker's cached caseload is never written in clear
// when her passkey supports the WebAuthn PRF extension (docs/offline.md).
//
// At sign-in the passkey answers a fixed PRF input with 32 secret bytes
// that only this credential can produce, online or not. HKDF turns them
// into an AES-GCM key, which wraps the private half of a P-256 key pair
// made for this person on this phone. The public half stays in clear, so
// every pull can be sealed without asking for the passkey; opening what was
// sealed needs the private key, which exists only in this page's memory
// after she unlocked with her passkey. Neither the PRF output nor any key
// derived from it is ever stored.

import { get, run } from './db.js';

/** The PRF input ("salt") every phone asks the passkey to evaluate. */
export const PRF_INPUT = new TextEncoder().encode('homeward-offline-unlock-v1');

const CURVE = { name: 'ECDH', namedCurve: 'P-256' };
/** @param {string} value */
const text = (value) => new TextEncoder().encode(value);
/** @param {number} owner */
const metaKey = (owner) => `vault:${owner}`;

/** @type {{owner: number, privateKey: CryptoKey} | null} */
let unlocked = null;

/**
 * The stored vault of `owner` (public key, wrapped private key), or undefined.
 * @param {number} owner
 */
export const find = (owner) => get('meta', metaKey(owner));

/** @param {number} owner */
export const isUnlocked = (owner) => unlocked?.owner === owner;

/** Forget the private key (sign-out, another person). */
export function lock() {
  unlocked = null;
}

/**
 * @param {BufferSource} prfOutput
 * @param {number} owner
 */
async function wrappingKey(prfOutput, owner) {
  const material = await crypto.subtle.importKey('raw', prfOutput, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: text(metaKey(owner)), info: text('homeward-vault-wrap-v1') },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/**
 * Make `owner`'s vault from a PRF output, replacing any earlier one. What
 * the phone held of her caseload goes (it was in clear, or under the old
 * vault); the next pull brings it back sealed, from the start.
 * @param {{owner: number, credentialId: ArrayBuffer, prfOutput: ArrayBuffer}} args
 */
export async function create({ owner, credentialId, prfOutput }) {
  const pair = await crypto.subtle.generateKey(CURVE, true, ['deriveBits']);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const spki = await crypto.subtle.exportKey('spki', pair.publicKey);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: text(metaKey(owner)) },
    await wrappingKey(prfOutput, owner),
    pkcs8,
  );
  pkcs8.fill(0);
  const range = IDBKeyRange.bound([owner], [owner, []]);
  await run(['meta', 'participants', 'appointments'], 'readwrite', (s) => {
    s.meta.put({ key: metaKey(owner), owner, credentialId, spki, iv, wrapped });
    s.meta.delete(`sync:${owner}`);
    s.meta.delete(`profile:${owner}`);
    s.participants.delete(range);
    s.appointments.delete(range);
  });
  unlocked = null;
}

/**
 * @param {ArrayBuffer} a
 * @param {ArrayBuffer} b
 */
const sameBytes = (a, b) => {
  const [x, y] = [new Uint8Array(a), new Uint8Array(b)];
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
};

/**
 * She signed in with the passkey her vault was made with, and it answered
 * without PRF (its PRF secret was lost, e.g. restored from a backup): the
 * vault can never be opened again. It goes, with what was sealed to it, and
 * the phone keeps her caseload as for a passkey without PRF. A vault made
 * with another of her passkeys stays.
 * @param {number} owner
 * @param {ArrayBuffer} credentialId
 * @returns {Promise<boolean>} whether a vault went
 */
export async function forgetIfMadeWith(owner, credentialId) {
  const vault = await find(owner);
  if (!vault || !sameBytes(vault.credentialId, credentialId)) return false;
  const range = IDBKeyRange.bound([owner], [owner, []]);
  await run(['meta', 'participants', 'appointments'], 'readwrite', (s) => {
    s.meta.delete(metaKey(owner));
    s.meta.delete(`sync:${owner}`);
    s.meta.delete(`profile:${owner}`);
    s.participants.delete(range);
    s.appointments.delete(range);
  });
  if (unlocked?.owner === owner) unlocked = null;
  return true;
}

/**
 * Ask her passkey (fingerprint, face or screen lock; no network needed) for
 * the PRF output and open the vault with it. Resolves with 'unlocked',
 * 'no_vault', 'cancelled' (refused, or another person's passkey), 'no_prf'
 * (this passkey can no longer answer: sign in online) or 'wrong'.
 * @param {number} owner
 * @returns {Promise<'unlocked' | 'no_vault' | 'cancelled' | 'no_prf' | 'wrong'>}
 */
export async function unlock(owner) {
  const vault = await find(owner);
  if (!vault) return 'no_vault';
  /** @type {PublicKeyCredential | null} */
  let credential;
  try {
    credential = /** @type {PublicKeyCredential | null} */ (await navigator.credentials.get({
      publicKey: {
        // Nothing is sent to a server: any random challenge will do.
        challenge: crypto.getRandomValues(new Uint8Array(32)),
        allowCredentials: [{ type: 'public-key', id: vault.credentialId }],
        userVerification: 'required',
        timeout: 60_000,
        extensions: { prf: { eval: { first: PRF_INPUT } } },
      },
    }));
  } catch {
    return 'cancelled';
  }
  const output = credential?.getClientExtensionResults?.().prf?.results?.first;
  if (!output) return 'no_prf';
  try {
    const pkcs8 = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: vault.iv, additionalData: text(metaKey(owner)) },
        await wrappingKey(output, owner),
        vault.wrapped,
      ),
    );
    const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, CURVE, false, ['deriveBits']);
    pkcs8.fill(0);
    unlocked = { owner, privateKey };
    return 'unlocked';
  } catch {
    return 'wrong';
  }
}

/**
 * @param {CryptoKey} privateKey
 * @param {CryptoKey} publicKey
 * @param {ArrayBuffer} epk
 * @param {KeyUsage} usage
 */
async function dataKey(privateKey, publicKey, epk, usage) {
  const shared = await crypto.subtle.deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256);
  const secret = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  new Uint8Array(shared).fill(0);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: epk, info: text('homeward-vault-data-v1') },
    secret,
    { name: 'AES-GCM', length: 256 },
    false,
    [usage],
  );
}

/**
 * A function sealing values for `owner`'s vault, or null when she has none
 * (no PRF: the caseload is kept in clear, and only while her session lasts).
 * One ephemeral key per sealer, so a whole pull costs one key agreement.
 * @param {number} owner
 * @returns {Promise<((id: string, value: object) => Promise<object>) | null>}
 */
export async function sealer(owner) {
  const vault = await find(owner);
  if (!vault) return null;
  const recipient = await crypto.subtle.importKey('spki', vault.spki, CURVE, false, []);
  const ephemeral = await crypto.subtle.generateKey(CURVE, false, ['deriveBits']);
  const epk = await crypto.subtle.exportKey('raw', ephemeral.publicKey);
  const key = await dataKey(ephemeral.privateKey, recipient, epk, 'encrypt');
  return async (id, value) => {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const plain = text(JSON.stringify(value));
    const data = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: text(`${owner}:${id}`) },
      key,
      plain,
    );
    plain.fill(0);
    return { epk, iv, data };
  };
}

/**
 * Open `owner`'s sealed records ({id, sealed}) with the unlocked key; those
 * it cannot open (locked, or damaged) are left out.
 * @param {number} owner
 * @param {Array<{id: string, sealed: {epk: ArrayBuffer, iv: BufferSource, data: ArrayBuffer}}>} records
 * @returns {Promise<any[]>}
 */
export async function openAll(owner, records) {
  const privateKey = unlocked?.owner === owner ? unlocked.privateKey : null;
  if (!privateKey) return [];
  const keys = new Map();
  const opened = [];
  for (const record of records) {
    try {
      const raw = record.sealed.epk;
      const tag = new Uint8Array(raw).join(',');
      if (!keys.has(tag)) {
        const sender = await crypto.subtle.importKey('raw', raw, CURVE, false, []);
        keys.set(tag, await dataKey(privateKey, sender, raw, 'decrypt'));
      }
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: record.sealed.iv, additionalData: text(`${owner}:${record.id}`) },
        keys.get(tag),
        record.sealed.data,
      );
      opened.push(JSON.parse(new TextDecoder().decode(plain)));
    } catch {
      // Sealed under an older vault: the next pull replaces it.
    }
  }
  return opened;
}
