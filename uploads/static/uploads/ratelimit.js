// The customer's speed limit ("Use at most N Mbit/s"): one token bucket shared by every file
// on the page. A part PUT is one XHR with a Blob body, so the limit is applied where a part
// (or a retry of it) is about to be sent: a part of S bytes waits, in turn, until S bytes of
// budget have built up, the budget refilling at the limit. Bytes already on the wire go at
// the link's speed; over a few parts the average converges to the limit however many are in
// flight. The clock and timers are injected, so node tests run it on fake time.

export const BYTES_PER_MBIT = 125_000; // network speeds are decimal: 1 Mbit/s = 10^6 bits/s
export const STORAGE_KEY = "upload-portal.speed-limit-mbps";

/** The field's text as bytes per second: 0 (no limit) for empty, zero, negative or not a number. */
export function parseLimit(text) {
  const s = String(text ?? "").trim().replace(",", ".");
  if (!s) return 0;
  const mbps = Number(s);
  return Number.isFinite(mbps) && mbps > 0 ? mbps * BYTES_PER_MBIT : 0;
}

export class RateLimiter {
  /**
   * bytesPerSecond: 0 means no limit. burstMs: how much unused budget may pile up while
   * nothing waits (a part bigger than that still gets its whole size: it waits until the
   * budget reaches it).
   */
  constructor({ bytesPerSecond = 0, burstMs = 1000, now = () => performance.now(),
    setTimer = (fn, ms) => setTimeout(fn, ms), clearTimer = (t) => clearTimeout(t), logSize = 2000 } = {}) {
    Object.assign(this, { burstMs, now, setTimer, clearTimer, logSize });
    this.rate = 0;
    this.tokens = 0;
    this.last = now();
    this.waiting = []; // FIFO: a big part is never overtaken forever by small ones
    this.timer = null;
    this.admitted = 0; // bytes let through since the page opened
    this.log = []; // the last logSize admissions as [time, bytes], for tests and the benchmark
    this.setRate(bytesPerSecond);
  }

  get bytesPerSecond() {
    return this.rate;
  }

  /** Change the limit; the next admission (and the one waiting now) uses it at once. */
  setRate(bytesPerSecond) {
    const rate = Number.isFinite(bytesPerSecond) && bytesPerSecond > 0 ? bytesPerSecond : 0;
    this._refill();
    // Coming from no limit, nothing has been saved up: the limit holds from this moment.
    if (rate && !this.rate) this.tokens = 0;
    this.rate = rate;
    this._drain();
  }

  /** Resolves when `bytes` may be sent; rejects with signal.reason if aborted while waiting. */
  admit(bytes, signal) {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const w = { bytes: Math.max(0, bytes), resolve, reject, signal, onAbort: null };
      if (signal) {
        w.onAbort = () => {
          const i = this.waiting.indexOf(w);
          if (i < 0) return;
          this.waiting.splice(i, 1);
          reject(signal.reason);
          this._drain();
        };
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      this._refill(); // the idle time before this part, capped at the burst
      this.waiting.push(w);
      this._drain();
    });
  }

  _refill() {
    const t = this.now();
    if (this.rate) {
      this.tokens += (this.rate * (t - this.last)) / 1000;
      // Budget piles up only to the burst while nothing waits. While a part waits, all of it
      // is its own, the fraction past its size (the timer's rounding) included.
      if (!this.waiting.length) this.tokens = Math.min(this.tokens, (this.rate * this.burstMs) / 1000);
    }
    this.last = t;
  }

  _drain() {
    if (this.timer !== null) {
      this.clearTimer(this.timer);
      this.timer = null;
    }
    this._refill();
    while (this.waiting.length) {
      const w = this.waiting[0];
      // A thousandth of a byte of slack for floating point: the timer below fires when the
      // budget is exactly there.
      if (this.rate && this.tokens + 1e-3 < w.bytes) break;
      this.waiting.shift();
      if (this.rate) this.tokens -= w.bytes;
      this._record(w.bytes);
      w.signal?.removeEventListener("abort", w.onAbort);
      w.resolve();
    }
    if (this.waiting.length) {
      const ms = Math.max(1, Math.ceil(((this.waiting[0].bytes - this.tokens) * 1000) / this.rate));
      this.timer = this.setTimer(() => {
        this.timer = null;
        this._drain();
      }, ms);
    }
  }

  _record(bytes) {
    this.admitted += bytes;
    this.log.push([this.last, bytes]);
    if (this.log.length > this.logSize) this.log.splice(0, this.log.length - this.logSize);
  }
}
