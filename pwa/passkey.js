// Passkey ceremonies: enrolment from an invitation, adding a passkey, and
// sign-in with a discoverable credential. The server sends the options as
// JSON and checks everything; this module only converts between JSON and
// the ArrayBuffers the WebAuthn API wants.

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "===".slice((base64.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
}

export function toBase64url(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function creationOptions(json) {
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: (json.excludeCredentials ?? []).map((c) => ({ ...c, id: fromBase64url(c.id) })),
  };
}

function requestOptions(json) {
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    allowCredentials: (json.allowCredentials ?? []).map((c) => ({ ...c, id: fromBase64url(c.id) })),
  };
}

function credentialToJSON(credential) {
  const r = credential.response;
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
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment ?? null,
  };
}

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify(body ?? {}),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data?.error?.message ?? "");
    error.fromServer = true;
    throw error;
  }
  return data;
}

function showError(root, error) {
  const box = root.querySelector("[data-passkey-error]") ?? document.querySelector("[data-passkey-error]");
  if (!box) return;
  // Server errors arrive translated; browser-side ones use the page's own
  // translated fallback, so nothing here needs a catalogue.
  const cancelled = error?.name === "NotAllowedError" || error?.name === "AbortError";
  box.textContent = error?.fromServer && error.message
    ? error.message
    : cancelled ? document.body.dataset.msgCancelled : document.body.dataset.msgFailed;
  box.hidden = false;
}

async function ceremony(root, kind) {
  const busy = root.querySelector("button[type=submit], button[data-passkey]") ?? root;
  busy.disabled = true;
  try {
    let result;
    const fields = root instanceof HTMLFormElement ? Object.fromEntries(new FormData(root)) : {};
    if (kind === "signin") {
      const options = await postJSON("/api/auth/signin/options");
      const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
      result = await postJSON("/api/auth/signin/verify", { credential: credentialToJSON(credential) });
    } else {
      const base = kind === "enrol" ? `/api${root.dataset.tokenPath.replace("/enrol/", "/auth/enrol/")}` : "/api/account/passkeys";
      const options = await postJSON(`${base}/options`);
      const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
      result = await postJSON(`${base}/verify`, { ...fields, credential: credentialToJSON(credential) });
    }
    window.location.assign(result.redirect ?? "/");
  } catch (error) {
    showError(root, error);
  } finally {
    busy.disabled = false;
  }
}

for (const element of document.querySelectorAll("[data-passkey]")) {
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
