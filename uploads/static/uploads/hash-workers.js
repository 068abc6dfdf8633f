// The uploader's side of the two hashing Web Workers (hash-worker.js): the reader, whose part
// CRCs gate each part's send, and the SHA-256 worker (slower, and needed only at complete) it
// passes the same bytes to over a MessageChannel. The Worker itself comes from a factory, so
// Node's tests can drive a pass with a fake one.

/** A real hashing Worker; the URL is resolved against this module, next to hash-worker.js. */
export const newHashWorker = () => new Worker(new URL("./hash-worker.js", import.meta.url), { type: "module" });

/** One hashing Worker, one per role per running file. */
export class HashWorker {
  constructor(worker) {
    this.worker = worker;
  }
  verify(file, plan, parts) {
    return new Promise((resolve, reject) => {
      this.worker.onmessage = ({ data }) => (data.type === "verified" ? resolve(data.results) : reject(new Error(data.message)));
      this.worker.onerror = (e) => reject(new Error(e.message || "hashing worker failed"));
      this.worker.postMessage({ type: "verify", file, plan, parts });
    });
  }
  start(message, transfer, onPart, onDone, onError) {
    this.worker.onmessage = ({ data }) => {
      if (data.type === "part") onPart(data);
      else if (data.type === "done") onDone(data);
      else if (data.type === "error") onError(new Error(data.message));
    };
    this.worker.onerror = (e) => onError(new Error(e.message || "hashing worker failed"));
    this.worker.postMessage(message, transfer);
  }
  stop() {
    this.worker.terminate();
  }
}

/**
 * The reader (crc) and SHA-256 (sha) workers for one run of one file; `sha` is null when
 * the portal, not the browser, computes the whole file's SHA-256 (`sha256: false`).
 */
export function hashWorkers(newWorker = newHashWorker, { sha256 = true } = {}) {
  const crc = new HashWorker(newWorker());
  try {
    return { crc, sha: sha256 ? new HashWorker(newWorker()) : null };
  } catch (err) {
    crc.stop();
    throw err;
  }
}

export function stopWorkers(workers) {
  workers?.crc.stop();
  workers?.sha?.stop();
}

/**
 * The point a resume may restart hashing from: the last part both workers have passed, with
 * the CRC state the reader had after that part. The reader runs ahead, so its states are
 * kept until SHA-256 catches up (and SHA-256's, in the rare case it is ahead).
 */
export class SavePoints {
  constructor(from, onSave) {
    this.from = from;
    this.onSave = onSave; // (through, crcState, shaState)
    this.crcStates = new Map();
    this.shaStates = new Map();
    this.through = { crc: from - 1, sha: from - 1 };
  }
  crc(number, crcState) {
    this.crcStates.set(number, crcState);
    this.through.crc = number;
    if (this.shaStates.has(number)) this._save(this.shaStates.get(number));
  }
  sha(number, shaState) {
    this.through.sha = number;
    if (number > this.through.crc) this.shaStates.set(number, shaState);
    else this._save(shaState);
    for (const n of this.shaStates.keys()) if (n <= this.through.crc) this.shaStates.delete(n);
  }
  _save(shaState) {
    const k = Math.min(this.through.crc, this.through.sha);
    if (k < this.from || !this.crcStates.has(k)) return;
    const crcState = this.crcStates.get(k);
    for (const n of this.crcStates.keys()) if (n < k) this.crcStates.delete(n);
    this.onSave(k, crcState, shaState);
  }
}

/**
 * Hash `file` from part `from` to the end, continuing from saved states when given. Resolves
 * with both workers' "done" messages merged ({crc64nvme, sha256}); the first worker error
 * goes to onError and rejects. onPart(number, checksum) hears each part the reader hashed,
 * in file order, and returns false to leave it out of the save point.
 */
export function hashPass({ crc, sha }, { file, plan, from, crcState, shaState, onPart, onSave,
  onCrcDone = () => {}, onShaDone = () => {}, onError = () => {} }) {
  if (!sha) return crcOnlyPass(crc, { file, plan, from, crcState, onPart, onSave, onCrcDone, onError });
  return new Promise((resolve, reject) => {
    const points = new SavePoints(from, onSave);
    const final = {};
    let finished = 0;
    const done = (part) => {
      Object.assign(final, part);
      if (++finished === 2) resolve(final);
    };
    const fail = (err) => {
      onError(err);
      reject(err);
    };
    const channel = new MessageChannel();
    crc.start({ type: "crc", file, plan, from, crcState, port: channel.port1 }, [channel.port1],
      (p) => {
        if (onPart(p.number, p.checksum) !== false) points.crc(p.number, p.crcState);
      },
      (f) => {
        onCrcDone();
        done(f);
      },
      fail);
    sha.start({ type: "sha", port: channel.port2, shaState }, [channel.port2],
      (p) => points.sha(p.number, p.shaState),
      (f) => {
        onShaDone();
        done(f);
      },
      fail);
  });
}

/** The reader alone (no SHA-256 in the browser): every part it passes is a save point. */
function crcOnlyPass(crc, { file, plan, from, crcState, onPart, onSave, onCrcDone, onError }) {
  return new Promise((resolve, reject) => {
    let through = from - 1; // the last part of an unbroken run of kept parts
    crc.start({ type: "crc", file, plan, from, crcState, port: null }, [],
      (p) => {
        const keep = onPart(p.number, p.checksum) !== false;
        if (keep && p.number === through + 1) {
          through = p.number;
          onSave(p.number, p.crcState, null);
        }
      },
      (f) => {
        onCrcDone();
        resolve({ crc64nvme: f.crc64nvme, sha256: null });
      },
      (err) => {
        onError(err);
        reject(err);
      });
  });
}
