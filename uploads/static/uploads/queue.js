// The part queue: a pool of parallel part uploads, each retried with backoff, waiting for the
// browser to come back online, and refreshing credentials once when S3 says they went stale.

import { backoffDelay, classify, DEFAULT_RETRY, errorCode, sleep } from "./retry.js";

export const DEFAULT_CONCURRENCY = 4;
export const MAX_CONCURRENCY = 6;

export class UploadStopped extends Error {
  /** code: offline | network | rejected | upload_gone | denied | file_changed */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** navigator.onLine and the `online` event, behind an interface tests can fake. */
export class Connectivity {
  constructor(target = globalThis, nav = globalThis.navigator) {
    this.target = target;
    this.nav = nav;
  }
  get online() {
    return this.nav ? this.nav.onLine !== false : true;
  }
  /** Resolves when online; rejects UploadStopped("offline") after timeoutMs. */
  waitOnline(timeoutMs, signal) {
    if (this.online) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (fn, arg) => {
        clearTimeout(timer);
        this.target.removeEventListener("online", onOnline);
        signal?.removeEventListener("abort", onAbort);
        fn(arg);
      };
      const onOnline = () => done(resolve);
      const onAbort = () => done(reject, signal.reason);
      const timer = setTimeout(
        () => done(reject, new UploadStopped("offline", "The connection has been down for a while, so the upload is paused. Press Resume when you are back online.")),
        timeoutMs,
      );
      this.target.addEventListener("online", onOnline);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * Run attempt(creds) until S3 accepts it. Network errors and 408/429/5xx back off
 * exponentially with jitter; time spent offline does not use up attempts; ExpiredToken/403
 * gets one credential refresh and a retry.
 */
export async function sendWithRetry(attempt, { credentials, connectivity, policy = DEFAULT_RETRY, signal,
  wait = sleep, random = Math.random, onRetry = () => {}, admit = null }) {
  let failures = 0;
  let refreshed = false;
  for (;;) {
    signal?.throwIfAborted();
    if (!connectivity.online) await connectivity.waitOnline(policy.offlinePauseMs, signal);
    // The speed limit (ratelimit.js) admits every attempt, a retry too, before credentials
    // are taken and the request signed: a long wait must not outlive either.
    if (admit) {
      await admit();
      signal?.throwIfAborted();
    }
    const creds = await credentials.get();
    const res = await attempt(creds);
    signal?.throwIfAborted();
    const kind = classify(res.status, res.body);
    if (kind === "ok") return res;
    if (kind === "refresh") {
      if (refreshed) {
        throw new UploadStopped("denied", "The storage service refused this upload's permission. Please reload the page and try again.");
      }
      refreshed = true;
      onRetry({ kind, status: res.status, code: errorCode(res.body) });
      await credentials.invalidate(creds);
      continue;
    }
    if (kind === "retry") {
      if (res.status === 0 && !connectivity.online) continue; // wait for `online`, not a backoff
      failures++;
      if (failures >= policy.maxAttempts) {
        throw new UploadStopped("network", "The upload keeps failing to reach the storage service, so it is paused. Check your connection and press Resume.");
      }
      onRetry({ kind, status: res.status, code: errorCode(res.body), failures });
      await wait(backoffDelay(failures, { ...policy, random }), signal);
      continue;
    }
    if (kind === "changed") {
      throw new UploadStopped("file_changed", "The file changed on disk since this upload started.");
    }
    if (kind === "gone") {
      throw new UploadStopped("upload_gone", "This upload was cancelled or expired on the server. Start it again.");
    }
    throw new UploadStopped("rejected", `The storage service refused a part (${res.status} ${errorCode(res.body)}).`);
  }
}

/**
 * Call complete() until the portal gives a definite answer. A lost reply (network error, a
 * proxy's 5xx) or another complete still running ("already_completing") is asked again with
 * backoff: the portal answers a repeated complete with the first one's result, so a 200 GB
 * upload is never reported failed just because the connection dropped while S3 finished it.
 */
export async function completeWithRetry(complete, { connectivity, policy = DEFAULT_RETRY, signal, wait = sleep,
  random = Math.random, now = Date.now, onRetry = () => {} }) {
  const started = now();
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    if (connectivity && !connectivity.online) await connectivity.waitOnline(policy.offlinePauseMs, signal);
    try {
      return await complete();
    } catch (err) {
      const transient = err?.status === 0 || err?.status >= 500 || err?.code === "already_completing";
      if (!transient || now() - started >= policy.completeForMs) throw err;
      onRetry(err);
      await wait(backoffDelay(attempt, { ...policy, random }), signal);
    }
  }
}

/**
 * The page's part requests in flight, across every file: at most `max` (Chromium opens 6
 * connections per host over HTTP/1.1; a request beyond them would wait in the browser with
 * its timeout running). Pools take a slot per part and give it back when the part is done;
 * a pool that found none is pumped again when one frees.
 */
export class ConnectionBudget {
  constructor({ max = MAX_CONCURRENCY } = {}) {
    this.max = max;
    this.inUse = 0;
    this.waiting = new Set();
  }
  take() {
    if (this.inUse >= this.max) return false;
    this.inUse++;
    return true;
  }
  give() {
    this.inUse--;
    for (const pump of [...this.waiting]) {
      if (this.inUse >= this.max) break;
      pump();
    }
  }
  wait(pump) {
    this.waiting.add(pump);
  }
  leave(pump) {
    this.waiting.delete(pump);
  }
}

/**
 * Runs run(n) for pushed part numbers, `concurrency` at a time. done() resolves once close()
 * was called and every pushed part finished; the first failure rejects it and stops new work.
 * `concurrency` is a number or a function (concurrency.js's controller) read each time a part
 * could start; lowering it lets the parts in flight finish, raising it starts more at once
 * on pump(). `budget`, the page's ConnectionBudget, caps the parts in flight across files.
 */
export class PartPool {
  constructor(run, { concurrency = DEFAULT_CONCURRENCY, budget = null } = {}) {
    this.run = run;
    this.budget = budget;
    this.pumpBound = () => this._pump();
    this.limitOf = typeof concurrency === "function" ? concurrency : () => concurrency;
    this.ready = [];
    this.active = 0;
    this.closed = false;
    this.error = null;
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.result.catch(() => {});
  }
  push(n) {
    this.ready.push(n);
    this._pump();
  }
  close() {
    this.closed = true;
    this._pump();
  }
  fail(err) {
    if (this.error) return;
    this.error = err;
    this.ready.length = 0;
    this.budget?.leave(this.pumpBound);
    this.reject(err);
  }
  done() {
    return this.result;
  }
  get concurrency() {
    return Math.max(1, Math.min(MAX_CONCURRENCY, Math.floor(this.limitOf()) || 1));
  }
  pump() {
    this._pump();
  }
  _pump() {
    let starved = false;
    while (!this.error && this.active < this.concurrency && this.ready.length) {
      if (this.budget && !this.budget.take()) {
        starved = true;
        break;
      }
      const n = this.ready.shift();
      this.active++;
      const settled = () => {
        this.active--;
        this.budget?.give();
      };
      Promise.resolve()
        .then(() => this.run(n))
        .then(
          () => {
            settled();
            this._pump();
          },
          (err) => {
            settled();
            this.fail(err);
          },
        );
    }
    // Only a pool held back by the page's budget waits for another file's part to end; one at
    // its own limit is pumped again by its own parts.
    if (starved) this.budget.wait(this.pumpBound);
    else this.budget?.leave(this.pumpBound);
    if (!this.error && this.closed && this.active === 0 && !this.ready.length) this.resolve();
  }
}
