// What pwa/sw.js finds in its global scope besides the worker library.

// Prepended by the server (server/pwa/shell.py, `script`).
declare const SHELL: {
  version: string;
  cachePrefix: string;
  assets: string[];
  /** Each with `{lang}` where a language's code goes. */
  languageUrls: string[];
  languages: string[];
  defaultLanguage: string;
};

// The lib declares `self` as a plain WorkerGlobalScope; pwa/sw.js runs only
// as a service worker, whose scope adds these.
interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
  readonly lastChance: boolean;
}

interface ServiceWorkerGlobalScopeEventMap {
  sync: SyncEvent;
}

interface WorkerGlobalScope {
  readonly clients: Clients;
  readonly registration: ServiceWorkerRegistration;
  skipWaiting(): Promise<void>;
  addEventListener<K extends keyof ServiceWorkerGlobalScopeEventMap>(
    type: K,
    listener: (this: ServiceWorkerGlobalScope, ev: ServiceWorkerGlobalScopeEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
}
