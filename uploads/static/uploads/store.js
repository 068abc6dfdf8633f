// Per-upload resume state in IndexedDB: which parts are done, each part's checksum, the
// saved hash states and, where the browser gave one (a file dropped in Chromium), the file's
// FileSystemFileHandle, so a later page can offer "Continue" without the file being picked
// again. Never credentials: only the fields below are ever written.

const FIELDS = ["uploadId", "projectId", "name", "relativePath", "size", "lastModified", "partSize", "partCount",
  "hashedThrough", "crcState", "shaState", "partChecksums", "doneParts", "handle", "updatedAt"];

/** The storable subset of a state object; anything else (credentials above all) is dropped. */
export function toRecord(state) {
  const out = {};
  for (const f of FIELDS) if (state[f] !== undefined) out[f] = state[f];
  return out;
}

/** Same store interface, in memory: for tests and for browsers without IndexedDB. */
export class MemoryStore {
  constructor() {
    this.map = new Map();
  }
  async get(id) {
    return structuredClone(this.map.get(id) ?? null);
  }
  async put(state) {
    this.map.set(state.uploadId, structuredClone(toRecord(state)));
  }
  async delete(id) {
    this.map.delete(id);
  }
  async list() {
    return structuredClone([...this.map.values()]);
  }
}

export class IdbStore {
  constructor(dbName = "upload-portal", storeName = "uploads") {
    this.storeName = storeName;
    this.db = new Promise((resolve, reject) => {
      const req = indexedDB.open(dbName, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(storeName, { keyPath: "uploadId" });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async _tx(mode, fn) {
    const db = await this.db;
    return new Promise((resolve, reject) => {
      const tx = db.transaction(this.storeName, mode);
      const req = fn(tx.objectStore(this.storeName));
      tx.oncomplete = () => resolve(req?.result ?? null);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }
  get(id) {
    return this._tx("readonly", (s) => s.get(id));
  }
  put(state) {
    return this._tx("readwrite", (s) => s.put({ ...toRecord(state), updatedAt: Date.now() }));
  }
  delete(id) {
    return this._tx("readwrite", (s) => s.delete(id));
  }
  list() {
    return this._tx("readonly", (s) => s.getAll());
  }
}

export function openStore() {
  try {
    if (globalThis.indexedDB) return new IdbStore();
  } catch {
    // Private modes can refuse IndexedDB; resume then relies on the server's part list only.
  }
  return new MemoryStore();
}

/**
 * Coalesces frequent state changes into at most one write per interval, and writes the last
 * one on flush(). The saved hash state and its part list always come from one snapshot.
 */
export class ThrottledWriter {
  constructor(store, { intervalMs = 2000, now = () => Date.now(), setTimer = (f, ms) => setTimeout(f, ms), clearTimer = (t) => clearTimeout(t) } = {}) {
    Object.assign(this, { store, intervalMs, now, setTimer, clearTimer });
    this.pending = null;
    this.timer = null;
    this.lastWrite = -Infinity;
    this.writing = Promise.resolve();
  }
  schedule(snapshot) {
    this.pending = snapshot;
    if (this.timer) return;
    const wait = Math.max(0, this.lastWrite + this.intervalMs - this.now());
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }
  flush() {
    if (this.timer) {
      this.clearTimer(this.timer);
      this.timer = null;
    }
    const snap = this.pending;
    this.pending = null;
    if (snap) {
      this.lastWrite = this.now();
      this.writing = this.writing.then(() => this.store.put(typeof snap === "function" ? snap() : snap)).catch(() => {});
    }
    return this.writing;
  }
}
