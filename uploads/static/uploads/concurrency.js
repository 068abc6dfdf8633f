// How many parts of one file are in flight: adapted to what the link gives, AIMD-style.
// It starts at queue.js's default; at the end of each window of `windowMs` it raises the limit
// by one when the throughput measured over that window grew by more than `growth` over the
// window before (or, after a back-off, once a whole window passed without errors: the probe
// that lets it recover); it halves (not below 1) on a transient failure (503 SlowDown, other
// 5xx, 429, a network error), at most once per window, since the parts in flight when S3 says
// slow down all fail together. Never above 6, Chromium's connections per host over HTTP/1.1.
// Throughput flat after a raise means the link is full: it holds there. No timers: windows
// are closed by the parts that finish, on an injected clock.

import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from "./queue.js";

export class ConcurrencyController {
  constructor({ initial = DEFAULT_CONCURRENCY, min = 1, max = MAX_CONCURRENCY, windowMs = 5000, growth = 0.1,
    now = () => performance.now() } = {}) {
    Object.assign(this, { min, max, windowMs, growth, now });
    this.current = Math.max(min, Math.min(max, Math.floor(initial) || min));
    this.windowStart = now();
    this.windowBytes = 0;
    this.previousRate = null; // bytes per second over the last closed window
    this.lastChange = "start"; // start | up | down | hold
    this.lastDecrease = -Infinity;
    this.history = [[this.windowStart, this.current, "start"]];
  }

  get limit() {
    return this.current;
  }

  /** A part of `bytes` was accepted by S3. */
  sent(bytes) {
    this.windowBytes += bytes;
    const t = this.now();
    const elapsed = t - this.windowStart;
    if (elapsed < this.windowMs) return;
    const rate = (this.windowBytes * 1000) / elapsed;
    const grew = this.previousRate !== null && rate > this.previousRate * (1 + this.growth);
    if ((grew || this.lastChange === "down") && this.current < this.max) this._set(t, this.current + 1, "up");
    else this.lastChange = "hold";
    this.previousRate = rate;
    this.windowStart = t;
    this.windowBytes = 0;
  }

  /** A part attempt failed ({status, code} as sendWithRetry's onRetry reports it); true if it backed off. */
  failed({ status = 0, code = "" } = {}) {
    const transient = status === 0 || status === 429 || status >= 500 || code === "SlowDown";
    if (!transient) return false;
    const t = this.now();
    if (t - this.lastDecrease < this.windowMs) return false;
    this.lastDecrease = t;
    this._set(t, Math.max(this.min, Math.floor(this.current / 2)), "down");
    // The next window starts now, and is not compared with the rate from before the back-off.
    this.windowStart = t;
    this.windowBytes = 0;
    this.previousRate = null;
    return true;
  }

  _set(t, limit, why) {
    this.current = limit;
    this.lastChange = why;
    this.history.push([t, limit, why]);
    if (this.history.length > 200) this.history.shift();
  }
}
