// What is kept on the device (IndexedDB): the signed-in person, her tasks and entries as last
// seen, the running timer, and the entries not yet sent (the outbox, keyed by client_id).
const DB_NAME = 'vereda';
const VERSION = 1;
let dbPromise = null;

function open() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
        if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'client_id' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

async function run(store, mode, f) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const req = f(tx.objectStore(store));
    tx.oncomplete = () => resolve(req ? req.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export const kv = {
  get: (key) => run('kv', 'readonly', (s) => s.get(key)),
  set: (key, value) => run('kv', 'readwrite', (s) => s.put(value, key)),
  remove: (key) => run('kv', 'readwrite', (s) => s.delete(key)),
  /** Every value whose key starts with `prefix`. */
  withPrefix: (prefix) => run('kv', 'readonly', (s) => s.getAll(IDBKeyRange.bound(prefix, `${prefix}\uffff`))),
};

export const outbox = {
  all: async () => {
    const items = (await run('outbox', 'readonly', (s) => s.getAll())) || [];
    return items.sort((a, b) => a.started_at.localeCompare(b.started_at));
  },
  put: (entry) => run('outbox', 'readwrite', (s) => s.put(entry)),
  remove: (clientId) => run('outbox', 'readwrite', (s) => s.delete(clientId)),
};

/** Forget everything (sign-out: the device may be shared). */
export async function clearAll() {
  await run('kv', 'readwrite', (s) => s.clear());
  await run('outbox', 'readwrite', (s) => s.clear());
}

export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
