// Asks the browser to keep this site's storage when space runs low, and says
// whether saved work is at risk.

const FULL = 0.8;

// Returns 'ok', 'refused' (the browser may evict us) or 'full' (over 80 % of quota).
/** @returns {Promise<'ok' | 'refused' | 'full'>} */
export async function check() {
  const storage = navigator.storage;
  if (!storage?.persist) return 'refused';
  // Asked on every start while not granted: Chromium grants silently once the
  // app is installed or often used, and browsers that prompt remember the answer.
  const persisted = (await storage.persisted()) || (await storage.persist());
  if (!persisted) return 'refused';
  const { usage = 0, quota = 0 } = await storage.estimate();
  return quota && usage / quota > FULL ? 'full' : 'ok';
}
