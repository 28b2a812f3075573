// Passkey ceremonies: enrolment from an invitation, adding a passkey, and
// sign-in with a discoverable credential. The server sends the options as
// JSON and checks everything; this module only converts between JSON and
// the ArrayBuffers the WebAuthn API wants.
//
// Every ceremony also asks for the passkey's PRF output (WebAuthn PRF
// extension). It never leaves the phone: it makes the vault that keeps the
// worker's offline caseload sealed (pwa/outbox/vault.js, docs/offline.md).

import { PRF_INPUT, create as createVault, forgetIfMadeWith } from "./outbox/vault.js";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";

/**
 * @param {string} text
 * @returns {ArrayBuffer}
 */
export function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "===".slice((base64.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
}

/**
 * @param {ArrayBuffer} buffer
 * @returns {string}
 */
export function toBase64url(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The server's JSON options (base64url strings) as the WebAuthn API wants them.
 * @param {any} json
 * @returns {PublicKeyCredentialCreationOptions}
 */
function creationOptions(json) {
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: (json.excludeCredentials ?? []).map(
      (/** @type {{id: string}} */ c) => ({ ...c, id: fromBase64url(c.id) }),
    ),
  };
}

/**
 * @param {any} json
 * @returns {PublicKeyCredentialRequestOptions}
 */
function requestOptions(json) {
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    allowCredentials: (json.allowCredentials ?? []).map(
      (/** @type {{id: string}} */ c) => ({ ...c, id: fromBase64url(c.id) }),
    ),
  };
}

/**
 * What the server may see of the extensions: never the PRF output.
 * @param {PublicKeyCredential} credential
 */
function extensionResults(credential) {
  const results = { ...credential.getClientExtensionResults() };
  delete results.prf;
  return results;
}

/**
 * The PRF output of a ceremony, or null when the passkey has no PRF.
 * @param {PublicKeyCredential} credential
 * @returns {ArrayBuffer | null}
 */
function prfOutput(credential) {
  const first = credential.getClientExtensionResults().prf?.results?.first;
  return first ? /** @type {ArrayBuffer} */ (first) : null;
}

/**
 * @template {PublicKeyCredentialCreationOptions | PublicKeyCredentialRequestOptions} T
 * @param {T} options
 * @returns {T}
 */
const withPrf = (options) => ({
  ...options,
  extensions: { ...options.extensions, prf: { eval: { first: PRF_INPUT } } },
});

// Signed in with a PRF passkey: seal this person's offline data to a new
// vault. Signed in without PRF by the passkey her vault was made with: that
// vault can no longer be opened, so it goes. A failure here must not stop
// the sign-in: the phone then keeps the caseload only while the server
// session lasts, as without PRF.
/**
 * @param {PublicKeyCredential} credential
 * @param {ArrayBuffer | null} secret
 */
async function keepOffline(credential, secret) {
  try {
    const response = await fetch("/api/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const me = await response.json();
    if (secret) await createVault({ owner: me.id, credentialId: credential.rawId, prfOutput: secret });
    else await forgetIfMadeWith(me.id, credential.rawId);
  } catch (error) {
    console.error("Homeward:", error);
  }
}

/**
 * The credential as JSON (base64url), the shape py_webauthn reads.
 * @param {PublicKeyCredential} credential
 */
function credentialToJSON(credential) {
  const r = /** @type {any} */ (credential.response);
  /** @type {Record<string, unknown>} */
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toBase64url(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    response.userHandle = r.userHandle ? toBase64url(r.userHandle) : null;
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: extensionResults(credential),
    authenticatorAttachment: credential.authenticatorAttachment ?? null,
  };
}

/**
 * @param {string} url
 * @param {object} [body]
 * @returns {Promise<any>}
 */
async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify(body ?? {}),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(data?.error?.message ?? ""), { fromServer: true });
  }
  return data;
}

/**
 * @param {HTMLElement} root
 * @param {any} error
 */
function showError(root, error) {
  const box = /** @type {HTMLElement | null} */ (
    root.querySelector("[data-passkey-error]") ?? document.querySelector("[data-passkey-error]")
  );
  if (!box) return;
  // Server errors arrive translated; browser-side ones use the page's own
  // translated fallback, so nothing here needs a catalogue.
  const cancelled = error?.name === "NotAllowedError" || error?.name === "AbortError";
  box.textContent = error?.fromServer && error.message
    ? error.message
    : cancelled ? document.body.dataset.msgCancelled : document.body.dataset.msgFailed;
  box.hidden = false;
}

/**
 * @param {HTMLElement} root
 * @param {string | undefined} kind
 */
async function ceremony(root, kind) {
  const busy = /** @type {HTMLButtonElement} */ (root.querySelector("button[type=submit], button[data-passkey]") ?? root);
  busy.disabled = true;
  try {
    let result;
    const fields = root instanceof HTMLFormElement ? Object.fromEntries(new FormData(root)) : {};
    if (kind === "signin") {
      const options = await postJSON("/api/auth/signin/options");
      const credential = /** @type {PublicKeyCredential} */ (
        await navigator.credentials.get({ publicKey: withPrf(requestOptions(options)) })
      );
      result = await postJSON("/api/auth/signin/verify", { credential: credentialToJSON(credential) });
      await keepOffline(credential, prfOutput(credential));
    } else {
      const base = kind === "enrol" ? `/api${(root.dataset.tokenPath ?? "").replace("/enrol/", "/auth/enrol/")}` : "/api/account/passkeys";
      const options = await postJSON(`${base}/options`);
      const publicKey = kind === "enrol" ? withPrf(creationOptions(options)) : creationOptions(options);
      const credential = /** @type {PublicKeyCredential} */ (await navigator.credentials.create({ publicKey }));
      result = await postJSON(`${base}/verify`, { ...fields, credential: credentialToJSON(credential) });
      if (kind === "enrol") await keepOffline(credential, prfOutput(credential));
    }
    window.location.assign(result.redirect ?? "/");
  } catch (error) {
    showError(root, error);
  } finally {
    busy.disabled = false;
  }
}

for (const element of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-passkey]"))) {
  const kind = element.dataset.passkey;
  if (element instanceof HTMLFormElement) {
    element.addEventListener("submit", (event) => {
      event.preventDefault();
      ceremony(element, kind);
    });
  } else {
    element.addEventListener("click", () => ceremony(element.closest("section") ?? document.body, kind));
  }
}
