// The phone's IndexedDB database, opened once per page, with a versioned
// upgrade ladder (each step runs only for phones older than it, in order).
//
// Transactions here never wait on anything but their own requests: an
// `await` on the network (or anything else) inside one would let it
// auto-commit half-way. `run` therefore takes a synchronous body that issues
// requests, and resolves only on the transaction's `complete` event, which is
// also the moment data is durable enough to tell the person "Saved".

const NAME = 'homeward';
const VERSION = 1;

/**
 * @param {IDBDatabase} db
 * @param {number} oldVersion
 */
function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    // Sealed entries waiting to be sent; the only plaintext is their summary.
    db.createObjectStore('outbox', { keyPath: 'id' }).createIndex('owner', 'owner');
    // Small records: the signed-in user, the server's public sealing key,
    // each user's sync cursor.
    db.createObjectStore('meta', { keyPath: 'key' });
    // Each user's copy of the forms (translated into their language).
    db.createObjectStore('forms', { keyPath: 'owner' });
    // Pseudonymous codes only: names never reach the phone.
    db.createObjectStore('participants', { keyPath: ['owner', 'id'] }).createIndex('owner', 'owner');
    db.createObjectStore('appointments', { keyPath: ['owner', 'id'] }).createIndex('owner', 'owner');
  }
  // if (oldVersion < 2) { … }  — the next change goes here, never above.
}

/** @type {Promise<IDBDatabase> | null} */
let opening = null;

// A phone's IndexedDB sometimes fails to open ("Internal error opening
// backing store", storage briefly locked) or is blocked by another tab of
// an older release. Try again a few times; if it still fails, forget the
// failure, so the next use tries afresh instead of every later call failing
// for the life of the page.
const RETRY_DELAYS = [100, 500, 2_000];
const BLOCKED_WAIT = 5_000;

/** @returns {Promise<IDBDatabase>} */
function openOnce() {
  return new Promise((resolve, reject) => {
    let settled = false;
    const request = indexedDB.open(NAME, VERSION);
    request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
    request.onsuccess = () => {
      const db = request.result;
      // Opened after we stopped waiting (blocked too long): not ours any more.
      if (settled) {
        db.close();
        return;
      }
      settled = true;
      // Another tab carries a newer release: let it upgrade, reopen later.
      db.onversionchange = () => {
        db.close();
        opening = null;
      };
      resolve(db);
    };
    request.onerror = () => {
      settled = true;
      reject(request.error || new Error('IndexedDB could not be opened'));
    };
    // The other tab is asked to close (its onversionchange does); wait a while.
    request.onblocked = () => {
      setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new Error('IndexedDB upgrade blocked by another tab'));
      }, BLOCKED_WAIT);
    };
  });
}

/** @returns {Promise<IDBDatabase>} */
async function openWithRetries() {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await openOnce();
    } catch (error) {
      if (attempt >= RETRY_DELAYS.length) throw error;
      await new Promise((done) => setTimeout(done, RETRY_DELAYS[attempt]));
    }
  }
}

/**
 * The open database, shared by the page.
 * @returns {Promise<IDBDatabase>}
 */
export function open() {
  if (!opening) {
    const attempt = openWithRetries();
    opening = attempt;
    attempt.catch(() => {
      if (opening === attempt) opening = null;
    });
  }
  return opening;
}

/**
 * Run `body(stores)` in one transaction over `names`; `stores` maps each name
 * to its object store. Whatever `body` returns is the result, read after the
 * transaction completed: return an IDBRequest (its result) or a function
 * (called then) for values only known from request callbacks.
 * @param {string[]} names
 * @param {IDBTransactionMode} mode
 * @param {(stores: Record<string, IDBObjectStore>, tx: IDBTransaction) => any} body
 * @returns {Promise<any>}
 */
export async function run(names, mode, body) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(names, mode, { durability: 'strict' });
    const stores = Object.fromEntries(names.map((name) => [name, tx.objectStore(name)]));
    /** @type {any} */
    let outcome;
    try {
      outcome = body(stores, tx);
    } catch (error) {
      tx.abort();
      reject(error);
      return;
    }
    tx.oncomplete = () => {
      if (outcome instanceof IDBRequest) resolve(outcome.result);
      else if (typeof outcome === 'function') resolve(outcome());
      else resolve(outcome);
    };
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

/**
 * @param {string} store
 * @param {IDBValidKey} key
 * @returns {Promise<any>}
 */
export const get = (store, key) => run([store], 'readonly', (s) => s[store].get(key));

/**
 * @param {string} store
 * @param {unknown} value
 * @returns {Promise<any>}
 */
export const put = (store, value) => run([store], 'readwrite', (s) => s[store].put(value));

/**
 * @param {string} store
 * @param {number} owner
 * @returns {Promise<any[]>}
 */
export const byOwner = (store, owner) =>
  run([store], 'readonly', (s) => s[store].index('owner').getAll(owner));
