// Sealing an entry to the server: a fresh AES-256-GCM key per entry, wrapped
// with the server's RSA-OAEP (SHA-256) public key. The private key never
// reaches the phone, so what is written to disk cannot be read back here —
// not by this app, not by the next person, not by someone copying the disk
// (see docs/outbox.md). The record id is the GCM additional data, so a sealed
// body cannot be replayed under another id (server/sync/sealing.py).

const OAEP = { name: 'RSA-OAEP', hash: 'SHA-256' };

const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

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
 * ({kid, spki}: base64 DER SubjectPublicKeyInfo). The AES key exists only
 * in memory, for the length of this call.
 */
export async function seal(content, id, publicKey) {
  const wrapping = await crypto.subtle.importKey(
    'spki',
    fromBase64(publicKey.spki),
    OAEP,
    false,
    ['encrypt'],
  );
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt']);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(content));
  const data = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(id) },
    key,
    plain,
  );
  const raw = await crypto.subtle.exportKey('raw', key);
  const wrapped = await crypto.subtle.encrypt(OAEP, wrapping, raw);
  // Best effort: the buffers holding the plaintext and the raw key are zeroed.
  plain.fill(0);
  new Uint8Array(raw).fill(0);
  return { kid: publicKey.kid, key: toBase64(wrapped), iv: toBase64(iv), data: toBase64(data) };
}
