"""Page-side scripts about the service worker, for tests and benchmarks."""

# Resolves once the registration's worker is active (its install is done,
# old caches gone).
ACTIVATED = """async () => {
  const { active } = await navigator.serviceWorker.ready;
  if (active.state !== 'activated') {
    await new Promise((done) => active.addEventListener('statechange', () => {
      if (active.state === 'activated') done();
    }));
  }
}"""
