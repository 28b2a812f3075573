// Registers the service worker and reports a new version once it is
// installed and waiting, so the person decides when the page reloads.

export async function register({ onUpdate }) {
  if (!('serviceWorker' in navigator)) return null;
  const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  // A worker that does not yet control the page is the first install, not an update.
  const offer = (worker) => {
    if (worker && navigator.serviceWorker.controller) onUpdate(() => activate(worker));
  };
  offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') offer(worker);
    });
  });
  return registration;
}

function activate(worker) {
  // Reload only after the person asked: the first install's clients.claim()
  // also fires controllerchange and must not reload a page mid-work.
  navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), {
    once: true,
  });
  worker.postMessage({ type: 'SKIP_WAITING' });
}

// Tells the worker which language's shell to show when offline; resolves
// once it is stored, so nothing that follows races the write.
export async function rememberLanguage(lang) {
  if (!('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.ready;
  const channel = new MessageChannel();
  const stored = new Promise((resolve) => {
    channel.port1.onmessage = resolve;
  });
  registration.active?.postMessage({ type: 'LANGUAGE', lang }, [channel.port2]);
  await stored;
}
