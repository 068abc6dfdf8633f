// One file's upload from start (or resume) to complete, and a manager that runs a few files
// at a time. Orchestration only: the rules live in plan.js, retry.js, credentials.js, queue.js,
// the hashing workers' protocol in hash-workers.js.

import { ApiError } from "./api.js";
import { ConcurrencyController } from "./concurrency.js";
import { CredentialSource, CredentialsError } from "./credentials.js";
import { hashPass, hashWorkers, newHashWorker, PartHasher, stopWorkers } from "./hash-workers.js";
import { Heartbeat } from "./heartbeat.js";
import { bytesOf, checkPlan, findReceived, findResumable, partRange, planResume } from "./plan.js";
import { completeWithRetry, ConnectionBudget, Connectivity, DEFAULT_CONCURRENCY, PartPool, sendWithRetry, UploadStopped } from "./queue.js";
import { RateLimiter } from "./ratelimit.js";
import { DEFAULT_RETRY } from "./retry.js";
import { signPart, sendPart } from "./s3part.js";
import { ThrottledWriter } from "./store.js";

export class AlreadyUploaded extends Error {
  constructor(earlier) {
    const when = new Date(earlier.completed_at || earlier.created_at).toLocaleString();
    super(`This file was already uploaded on ${when}. Press "Upload again" only if you mean to send a second copy.`);
    this.code = "already_uploaded";
    this.earlier = earlier;
  }
}

export class FileChanged extends Error {
  constructor() {
    super("This file is not the same as the one whose upload was started (it changed on disk). Start the upload again.");
    this.code = "file_changed";
  }
}

// Refusals that trying again cannot change: the file, the project or the customer's rights
// must change first, so the row offers no Resume.
export const PERMANENT_REFUSALS = new Set([
  "invalid_name", "name_too_long", "reserved_name", "invalid_size", "file_too_large", "extension_not_allowed",
  "quota_exceeded", "project_closed", "not_allowed", "not_your_upload", "invalid_checksum", "upload_aborted",
  "upload_not_active",
]);

export const FILE_UNREADABLE =
  "This file can no longer be read: it was moved, renamed or deleted, or its drive was disconnected. "
  + "Put it back and press Resume, or choose it again.";

/** A read of the File that failed because the file itself is gone or unreadable. */
export function fileUnreadable(err) {
  return ["NotReadableError", "NotFoundError"].includes(err?.name)
    || (err?.name === "TypeError" && /network error/i.test(err.message || ""));
}

/** The row's [status, message] for an error that ended a run; null for one nothing expected. */
export function stoppedBy(err) {
  // Nothing is lost: what storage holds stays, and Resume reads the file again.
  if (fileUnreadable(err)) return ["failed", FILE_UNREADABLE];
  if (err instanceof FileChanged || ["checksum_mismatch", "file_changed"].includes(err?.code)) {
    return ["changed", new FileChanged().message];
  }
  if (err instanceof UploadStopped) return ["paused", err.message];
  if (err instanceof AlreadyUploaded) return ["duplicate", err.message];
  const fromPortal = err instanceof ApiError || err instanceof CredentialsError;
  if (fromPortal && PERMANENT_REFUSALS.has(err.code)) return ["refused", err.message];
  if (fromPortal) return ["failed", err.message];
  return null;
}

const EMPTY_FILE_CHECKSUMS = Object.freeze({
  crc64nvme: "AAAAAAAAAAA=", sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
});

export class FileUpload extends EventTarget {
  constructor({ file, relativePath = "", projectId, api, store, batchId = null, concurrency = DEFAULT_CONCURRENCY,
    connectivity = new Connectivity(), heartbeatMs = 30_000, checksums = true, sha256 = true, retryPolicy = DEFAULT_RETRY,
    newWorker = newHashWorker, s3part = { signPart, sendPart }, limiter = null, adaptive = true,
    newController = (initial) => new ConcurrencyController({ initial }), handle = null, budget = null }) {
    super();
    // checksums=false exists only to measure what hashing costs (bench/): the portal refuses
    // to complete a browser upload without a CRC64NVME. sha256=false leaves the whole file's
    // SHA-256 to the portal, which computes it from the stored object when it verifies it. newWorker and s3part are replaced only by
    // Node's tests, which have neither Web Workers nor XMLHttpRequest. limiter is the page's
    // speed limit (one RateLimiter for every file); adaptive=false keeps `concurrency` fixed
    // instead of starting a ConcurrencyController there. handle is the file's
    // FileSystemFileHandle when the browser gave one; it is saved with the resume state.
    // budget is the page's ConnectionBudget: part requests in flight across all its files.
    Object.assign(this, { file, relativePath, projectId, api, store, batchId, concurrency, connectivity, heartbeatMs, checksums, sha256,
      retryPolicy, newWorker, s3part, limiter, adaptive, newController, handle, budget });
    this.controller = null;
    // queued, starting, uploading, paused, completing, done, failed, refused, changed, duplicate, cancelled
    this.status = "queued";
    this.allowCopy = false; // send a file already uploaded only when the customer says so
    this.message = "";
    this.upload = null;
    this.result = null;
    this.confirmed = 0;
    this.inflight = new Map();
    this.state = null;
    this.verified = false;
    // performance.now() at each phase, read by bench/ to show where the time goes.
    this.timings = {};
  }

  _mark(name) {
    this.timings[name] = performance.now();
  }

  get size() {
    return this.file.size;
  }

  bytesDone() {
    let b = this.confirmed;
    for (const v of this.inflight.values()) b += v;
    return Math.min(b, this.file.size);
  }

  _set(status, message = "") {
    this.status = status;
    this.message = message;
    this.dispatchEvent(new Event("change"));
  }

  async _findOrCreate() {
    const who = { name: this.file.name, relativePath: this.relativePath, size: this.file.size, lastModified: this.file.lastModified };
    const { uploads } = await this.api.listUploads(this.projectId, "all", this.file.size);
    const found = findResumable(uploads, who);
    if (found) return found;
    const earlier = this.allowCopy ? null : findReceived(uploads, who);
    if (earlier) throw new AlreadyUploaded(earlier);
    this.fresh = true; // nothing sent or saved for it yet
    return this.api.createUpload(this.projectId, {
      name: this.file.name,
      relative_path: this.relativePath,
      size: this.file.size,
      content_type: this.file.type || "application/octet-stream",
      last_modified: this.file.lastModified,
      batch_id: this.batchId,
      declared_sha256: null,
    });
  }

  /** From start or resume to complete; whatever stops it ends in a status the row shows. */
  async run() {
    if (["uploading", "starting", "completing", "done", "cancelled"].includes(this.status)) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this._set("starting", "Preparing…");
    this._mark("start");
    let workers = null;
    try {
      // Started first, so loading them and compiling hash-wasm overlap the API calls below.
      if (this.checksums && !this.final) workers = hashWorkers(this.newWorker, { sha256: this.sha256 });
      this.upload ??= await this._findOrCreate();
      if (this._storedWhenCreated()) return this._doneEmpty(workers);
      // Every part was sent and hashed before: only the complete is left to ask for again.
      if (this.final) return await this._finish(this.upload.id, this.final);
      const id = this.upload.id;
      const { resume, saved } = await this._planResume(id);
      workers ??= hashWorkers(this.newWorker, { sha256: this.sha256 });
      await this._checkFinishedParts(workers.crc, resume);
      signal.throwIfAborted();
      this._startSending(id, resume, saved);
      const final = await this._sendAndHash(workers, resume, saved, signal);
      await this._complete(id, workers, final);
    } catch (err) {
      await this._stopped(err, signal, workers);
    }
  }

  // A zero-byte file has no parts: the portal stored it when it was created.
  _storedWhenCreated() {
    return this.upload.part_count === 0 && ["uploaded", "verifying", "verified"].includes(this.upload.status);
  }

  _doneEmpty(workers) {
    this.result = { id: this.upload.id, status: this.upload.status };
    this.final = { ...EMPTY_FILE_CHECKSUMS };
    stopWorkers(workers);
    this._set("done", "");
  }

  /** What is left to do, from the server's plan and part list and this browser's saved state. */
  async _planResume(id) {
    const plan = checkPlan(this.upload);
    this.plan = plan;
    this.credentials ??= this._credentialSource(id);
    // A new upload has no parts and no saved state: only a resume asks for them.
    const [, serverParts, saved] = await Promise.all([
      this.credentials.get(),
      this.fresh ? [] : this.api.parts(id).then((p) => p.parts),
      this.state ?? (this.fresh ? null : this.store.get(id)),
    ]);
    this.fresh = false;
    return { resume: planResume(plan, serverParts, saved, { sha256: this.sha256 }), saved };
  }

  _credentialSource(id) {
    return new CredentialSource(async () => {
      try {
        return await this.api.credentials(id);
      } catch (err) {
        const fatal = err instanceof ApiError && err.status >= 400 && err.status < 500;
        throw new CredentialsError(err.message, { code: err.code, fatal });
      }
    });
  }

  /** Re-hash sampled finished parts the reader will not pass again: a changed file must not be spliced. */
  async _checkFinishedParts(worker, resume) {
    if (resume.verify.length && !this.verified) {
      this._set("starting", "Checking the file matches the unfinished upload…");
      const sums = await worker.verify(this.file, this.plan, resume.verify);
      for (const n of resume.verify) if (sums[n] !== resume.recorded.get(n)) throw new FileChanged();
    }
    this.verified = true;
  }

  _startSending(id, r, saved) {
    const { plan } = this;
    const fromSaved = r.hashFrom > 1;
    this.state = {
      uploadId: id, projectId: this.projectId, name: this.file.name, relativePath: this.relativePath, size: this.file.size,
      lastModified: this.file.lastModified, partSize: plan.partSize, partCount: plan.partCount,
      hashedThrough: r.hashFrom - 1,
      crcState: fromSaved ? saved.crcState : null,
      shaState: fromSaved && this.sha256 ? saved.shaState : null,
      partChecksums: Object.fromEntries(r.known),
      doneParts: [...r.done],
      ...(this.handle ? { handle: this.handle } : {}),
    };
    this.done = r.done;
    this.confirmed = bytesOf(plan, r.done);
    this.writer = new ThrottledWriter(this.store);
    this.heartbeat ??= new Heartbeat((body) => this.api.progress(id, body), { intervalMs: this.heartbeatMs });
    this._set("uploading", "");
    this._mark("sending");
  }

  _snapshot() {
    return { ...this.state, doneParts: [...this.done] };
  }

  /** Sends every missing part as soon as its checksum is known; resolves with the file's checksums. */
  async _sendAndHash(workers, r, saved, signal) {
    // A new controller per run: after a pause or an outage the link may be another one.
    const controller = this.adaptive ? this.newController(this.concurrency) : null;
    this.controller = controller;
    const pool = new PartPool((n) => this._sendOne(n, signal),
      { concurrency: controller ? () => controller.limit : this.concurrency, budget: this.budget });
    for (let n = 1; n < r.hashFrom; n++) if (!this.done.has(n)) pool.push(n);
    const hashed = this._hash(workers, r, saved, pool);
    hashed.catch(() => {});
    signal.addEventListener("abort", () => pool.fail(signal.reason), { once: true });
    await pool.done();
    this._mark("partsSent");
    const final = await hashed;
    this._mark("hashed");
    return final;
  }

  _hash(workers, r, saved, pool) {
    if (!this.checksums) {
      for (let n = r.hashFrom; n <= this.plan.partCount; n++) if (!this.done.has(n)) pool.push(n);
      pool.close();
      return Promise.resolve({ crc64nvme: null, sha256: null });
    }
    const fromSaved = r.hashFrom > 1;
    if (!workers.sha) {
      this.hasher = new PartHasher(workers.crcs, {
        file: this.file, plan: this.plan, from: r.hashFrom, crcState: fromSaved ? saved.crcState : null,
        onPart: (n, checksum) => this._hashedPart(n, checksum, r.recorded, pool),
        onSave: (through, crcState) => this._savePoint(through, crcState, null),
        backlog: () => pool.ready.length + pool.active,
        onCrcDone: () => {
          pool.close();
          this._mark("crcDone");
        },
        onError: (err) => pool.fail(err),
      });
      return this.hasher.start();
    }
    return hashPass(workers, {
      file: this.file, plan: this.plan, from: r.hashFrom,
      crcState: fromSaved ? saved.crcState : null,
      shaState: fromSaved && this.sha256 ? saved.shaState : null,
      onPart: (n, checksum) => this._hashedPart(n, checksum, r.recorded, pool),
      onSave: (through, crcState, shaState) => this._savePoint(through, crcState, shaState),
      onCrcDone: () => {
        // The CRC pass is done: every part is queued; complete still waits for SHA-256.
        pool.close();
        this._mark("crcDone");
      },
      onShaDone: () => this._mark("shaDone"),
      onError: (err) => pool.fail(err),
    });
  }

  /** A part the reader hashed: one already sent must hash as it did then, a new one can go. */
  _hashedPart(number, checksum, recorded, pool) {
    const sent = recorded.get(number);
    if (this.done.has(number) && sent && sent !== checksum) {
      pool.fail(new FileChanged());
      return false;
    }
    this.state.partChecksums[number] = checksum;
    if (!this.done.has(number)) pool.push(number);
    return true;
  }

  _savePoint(through, crcState, shaState) {
    Object.assign(this.state, { hashedThrough: through, crcState });
    if (shaState) this.state.shaState = shaState;
    this.writer.schedule(() => this._snapshot());
  }

  async _sendOne(n, signal) {
    const r = partRange(this.plan, n);
    const body = this.file.slice(r.start, r.end);
    const checksum = this.state.partChecksums[n];
    await sendWithRetry(
      async (creds) => {
        const signed = await this.s3part.signPart({
          creds, uploadId: this.upload.multipart_upload_id, partNumber: n, checksum, datetime: this.credentials.amzDate(),
        });
        this.inflight.set(n, 0);
        const res = await this.s3part.sendPart({ ...signed, body, signal, onProgress: (b) => this.inflight.set(n, b) });
        this.inflight.delete(n);
        // A send that never got an answer may be the file, not the network: one that was
        // deleted or whose drive went away. Reading a byte tells (and throws NotFoundError).
        if (res.status === 0 && !signal.aborted) await body.slice(0, 1).arrayBuffer();
        return res;
      },
      { credentials: this.credentials, connectivity: this.connectivity, policy: this.retryPolicy, signal,
        admit: this.limiter ? () => this.limiter.admit(r.size, signal) : null,
        onRetry: (info) => {
          this.controller?.failed(info);
          this.dispatchEvent(new CustomEvent("retry", { detail: { part: n, ...info } }));
        } },
    );
    this.controller?.sent(r.size);
    this.done.add(n);
    this.hasher?.pump(); // room to read one more part ahead
    this.confirmed += r.size;
    this.heartbeat.partDone(n, checksum);
    this.heartbeat.tick(this.confirmed);
    this.writer.schedule(() => this._snapshot());
  }

  async _complete(id, workers, final) {
    stopWorkers(workers);
    await this.writer.flush();
    this._set("completing", "Finishing…");
    await this.heartbeat.tick(this.file.size, { force: true });
    await this._finish(id, final);
  }

  async _finish(id, final) {
    this.final = final;
    this._set("completing", "Finishing…");
    this._mark("completing");
    this.result = await completeWithRetry(
      () => this.api.complete(id, { checksum_crc64nvme: final.crc64nvme, checksum_sha256: final.sha256 }),
      { connectivity: this.connectivity, policy: this.retryPolicy,
        onRetry: () => this._set("completing", "Still finishing: checking with the portal that the file arrived…") },
    );
    this._mark("completed");
    await this.store.delete(id);
    this._set("done", "");
  }

  async _stopped(err, signal, workers) {
    const byCustomer = signal.aborted;
    // Stop every other part too: one still waiting for the connection or in a backoff
    // must not go on sending while the row says paused.
    if (!byCustomer) this.abort.abort(err);
    this.hasher?.stop();
    this.hasher = null;
    stopWorkers(workers);
    this.inflight.clear();
    await this.writer?.flush();
    if (byCustomer && this.status === "cancelled") return;
    if (byCustomer) return this._set("paused", this.pauseMessage || "Paused.");
    const outcome = stoppedBy(err);
    if (outcome) return this._set(...outcome);
    console.error(err);
    this._set("failed", `Something went wrong: ${err?.message || err}`);
  }

  pause(message = "Paused.") {
    if (!["starting", "uploading"].includes(this.status)) return;
    this.pauseMessage = message;
    this.abort?.abort(new DOMException("paused", "AbortError"));
  }

  async cancel() {
    const wasRunning = ["starting", "uploading"].includes(this.status);
    this._set("cancelled", "Cancelled.");
    if (wasRunning) this.abort?.abort(new DOMException("cancelled", "AbortError"));
    if (this.upload) {
      await this.api.abort(this.upload.id).catch(() => {});
      await this.store.delete(this.upload.id).catch(() => {});
    }
  }

  /** After "changed" or "duplicate": abandon the old upload and start a fresh one for this file. */
  async restart() {
    if (this.upload) {
      await this.api.abort(this.upload.id).catch(() => {});
      await this.store.delete(this.upload.id).catch(() => {});
    }
    Object.assign(this, { upload: null, state: null, credentials: null, heartbeat: null, verified: false, confirmed: 0,
      final: null, result: null, allowCopy: true });
    this.status = "queued";
    return this.run();
  }
}

/** Runs queued FileUploads, a few files at a time, under one speed limit (`limiter`). */
export class UploadManager extends EventTarget {
  constructor({ filesAtOnce = 2, limiter = new RateLimiter(), connections = new ConnectionBudget() } = {}) {
    super();
    this.filesAtOnce = filesAtOnce;
    this.limiter = limiter;
    this.connections = connections;
    this.uploads = [];
    this.running = 0;
  }
  add(upload) {
    this.uploads.push(upload);
    this._pump();
  }
  /** Run an upload now (Resume/Start again), outside the files-at-once limit's queue. */
  start(upload, fn = () => upload.run()) {
    this.running++;
    Promise.resolve(fn()).finally(() => {
      this.running--;
      this._pump();
    });
  }
  _pump() {
    for (const u of this.uploads) {
      if (this.running >= this.filesAtOnce) break;
      if (u.status === "queued") {
        u.status = "waiting";
        this.start(u);
      }
    }
    this.dispatchEvent(new Event("change"));
  }
  get active() {
    return this.uploads.some((u) => ["waiting", "starting", "uploading", "completing"].includes(u.status));
  }
}
