// Sealing an entry to the server (ECIES): a fresh P-256 ECDH key pair per
// entry, whose shared secret with the server's public key gives, through
// HKDF-SHA-256, the AES-256-GCM key for this entry alone. The private half
// is never extractable and is dropped when this call ends, and the server's
// private key never reaches the phone, so what is written to disk cannot be
// read back here — not by this app, not by the next person, not by someone
// copying the disk (see docs/outbox.md). The record id is the GCM
// additional data, so a sealed body cannot be replayed under another id
// (server/sync/sealing.py).

// The scheme's name as GET /api/sync/key states it (server/sync/sealing.py).
export const ALGORITHM = 'ECDH-ES-P256+HKDF-SHA256+A256GCM';
const CURVE = { name: 'ECDH', namedCurve: 'P-256' };
const INFO = new TextEncoder().encode('homeward-seal-v1');

const fromBase64 = (/** @type {string} */ text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** @param {ArrayBuffer | Uint8Array} buffer */
function toBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = '';
  // In slices: String.fromCharCode(...all) overflows the stack on big entries.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/**
 * Seal `content` (a JSON-able object) for record `id` with `publicKey`
 * ({kid, spki}: base64 DER SubjectPublicKeyInfo of the server's P-256 key).
 * The keys exist only in memory, for the length of this call.
 *
 * @param {unknown} content
 * @param {string} id
 * @param {{kid: string, spki: string}} publicKey
 * @returns {Promise<{kid: string, epk: string, iv: string, data: string}>}
 */
export async function seal(content, id, publicKey) {
  const server = await crypto.subtle.importKey('spki', fromBase64(publicKey.spki), CURVE, false, []);
  const ephemeral = await crypto.subtle.generateKey(CURVE, false, ['deriveBits']);
  const shared = await crypto.subtle.deriveBits(
    { name: 'ECDH', public: server },
    ephemeral.privateKey,
    256,
  );
  const epk = await crypto.subtle.exportKey('raw', ephemeral.publicKey);
  const secret = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: epk, info: INFO },
    secret,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt'],
  );
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(content));
  const data = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(id) },
    key,
    plain,
  );
  // Best effort: the buffers holding the plaintext and the shared secret are zeroed.
  plain.fill(0);
  new Uint8Array(shared).fill(0);
  return { kid: publicKey.kid, epk: toBase64(epk), iv: toBase64(iv), data: toBase64(data) };
}
