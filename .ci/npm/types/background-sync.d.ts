// Background Sync (Chromium), not yet in TypeScript's libraries; used by
// pwa/outbox/sync.js (registers the tag) and pwa/sw.js (the 'sync' event).
interface SyncManager {
  register(tag: string): Promise<void>;
  getTags(): Promise<string[]>;
}

interface ServiceWorkerRegistration {
  readonly sync: SyncManager;
}
