// The uploader's side of the two hashing Web Workers (hash-worker.js): the reader, whose part
// CRCs gate each part's send, and the SHA-256 worker (slower, and needed only at complete) it
// passes the same bytes to over a MessageChannel; or, where the portal computes the SHA-256,
// workers that each hash whole parts (PartHasher). The Worker itself comes from a factory, so
// Node's tests can drive a pass with a fake one.

import { crc64Combine, crcFromBase64, crcToBase64 } from "./hashing.js";
import { partRange } from "./plan.js";

/** A real hashing Worker; the URL is resolved against this module, next to hash-worker.js. */
export const newHashWorker = () => new Worker(new URL("./hash-worker.js", import.meta.url), { type: "module" });

/** A worker's error as it reported it, its name kept (how a file that vanished is told apart). */
export function workerError(data) {
  const err = new Error(data.message);
  err.name = data.name || "Error";
  return err;
}

/** One hashing Worker, one per role per running file. */
export class HashWorker {
  constructor(worker) {
    this.worker = worker;
  }
  verify(file, plan, parts) {
    return new Promise((resolve, reject) => {
      this.worker.onmessage = ({ data }) => (data.type === "verified" ? resolve(data.results) : reject(workerError(data)));
      this.worker.onerror = (e) => reject(new Error(e.message || "hashing worker failed"));
      this.worker.postMessage({ type: "verify", file, plan, parts });
    });
  }
  start(message, transfer, onPart, onDone, onError) {
    this.worker.onmessage = ({ data }) => {
      if (data.type === "part") onPart(data);
      else if (data.type === "done") onDone(data);
      else if (data.type === "error") onError(workerError(data));
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
export function hashWorkers(newWorker = newHashWorker, { sha256 = true, parallel = partWorkers() } = {}) {
  const crc = new HashWorker(newWorker());
  const more = [];
  try {
    // Without SHA-256 every part is hashed on its own, so more workers can share them.
    if (!sha256) for (let i = 1; i < parallel; i++) more.push(new HashWorker(newWorker()));
    return { crc, sha: sha256 ? new HashWorker(newWorker()) : null, crcs: [crc, ...more] };
  } catch (err) {
    crc.stop();
    for (const w of more) w.stop();
    throw err;
  }
}

/** Part-hashing workers for this machine: one core left for the page and the sends, at most 4
 * (one hashes ~1 GB/s, so 4 outrun any uplink). */
export function partWorkers(cores = globalThis.navigator?.hardwareConcurrency || 2) {
  return Math.max(1, Math.min(4, cores - 1));
}

export function stopWorkers(workers) {
  for (const w of workers?.crcs || []) w.stop();
  workers?.sha?.stop();
}

/**
 * The CRC64NVME of each part from `from` on, hashed in `workers` (one part each at a time,
 * reading it once) and handed to onPart in part order, never more than `ahead` parts ahead
 * of what is still to be sent (`backlog()`: parts queued or in flight), so the file is read
 * at the pace it is sent and no faster; `pump()` after a part is sent. The whole file's
 * CRC64NVME is combined here from the part CRCs; every part kept is a save point.
 * `done` resolves {crc64nvme, sha256: null}.
 */
export class PartHasher {
  constructor(workers, { file, plan, from, crcState, onPart, onSave, backlog = () => 0, ahead = 12,
    onCrcDone = () => {}, onError = () => {} }) {
    Object.assign(this, { file, plan, onPart, onSave, backlog, ahead, onCrcDone, onError });
    this.whole = from > 1 ? crcFromBase64(crcState) : 0n;
    this.next = from; // the next part to ask a worker for
    this.emit = from; // the next part to hand on
    this.results = new Map();
    this.idle = [...workers];
    this.stopped = false;
    this.done = new Promise((resolve, reject) => Object.assign(this, { resolve, reject }));
    this.done.catch(() => {});
  }
  start() {
    this.pump();
    return this.done;
  }
  /** Ask for nothing more (the run was paused or stopped; its workers are gone). */
  stop() {
    this.stopped = true;
  }
  pump() {
    while (!this.stopped && this.idle.length && this.next <= this.plan.partCount
      && this.backlog() + (this.next - this.emit) < this.ahead) {
      this._hash(this.idle.pop(), this.next++);
    }
    if (!this.stopped && this.emit > this.plan.partCount) {
      this.stopped = true;
      this.onCrcDone();
      this.resolve({ crc64nvme: crcToBase64(this.whole), sha256: null });
    }
  }
  async _hash(worker, n) {
    try {
      const sums = await worker.verify(this.file, this.plan, [n]);
      this.results.set(n, sums[n]);
    } catch (err) {
      if (!this.stopped) {
        this.stopped = true;
        this.onError(err);
        this.reject(err);
      }
      return;
    }
    this.idle.push(worker);
    while (!this.stopped && this.results.has(this.emit)) {
      const number = this.emit++;
      const checksum = this.results.get(number);
      this.results.delete(number);
      if (this.onPart(number, checksum) === false) {
        this.stopped = true; // a changed file: the sends stop with it
        return;
      }
      this.whole = crc64Combine(this.whole, crcFromBase64(checksum), partRange(this.plan, number).size);
      this.onSave(number, crcToBase64(this.whole), null);
    }
    this.pump();
  }
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

