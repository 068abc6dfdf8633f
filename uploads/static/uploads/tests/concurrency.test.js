import assert from "node:assert/strict";
import { test } from "node:test";
import { ConcurrencyController } from "../concurrency.js";
import { DEFAULT_CONCURRENCY, PartPool } from "../queue.js";

const MIB = 1024 * 1024;

/** A controller on a clock that moves only when told. */
function controller(options = {}) {
  const clock = { t: 0 };
  const c = new ConcurrencyController({ now: () => clock.t, windowMs: 5000, growth: 0.1, ...options });
  /** `seconds` of parts finishing at `mibPerSecond(limit)` MiB/s, one part per 100 ms. */
  const run = (seconds, mibPerSecond) => {
    for (let i = 0; i < seconds * 10; i++) {
      clock.t += 100;
      c.sent((mibPerSecond(c.limit) * MIB) / 10);
    }
  };
  return { c, clock, run };
}

const slowDown = { status: 503, code: "SlowDown" };

test("starts at the pool's default and grows by one per window while throughput grows", () => {
  const { c, run } = controller();
  assert.equal(c.limit, DEFAULT_CONCURRENCY);
  // Each part in flight adds 10 MiB/s: the link has room for more.
  run(5, (n) => n * 10);
  assert.equal(c.limit, 4, "the first window is only the baseline");
  run(5, (n) => n * 10 + 5); // warmed up: grew by more than 10 %
  assert.equal(c.limit, 5);
  run(5, (n) => n * 10);
  assert.equal(c.limit, 6);
  run(60, (n) => n * 10);
  assert.equal(c.limit, 6, "never above Chromium's 6 connections per host");
  assert.deepEqual(c.history.map(([, n, why]) => [n, why]), [[4, "start"], [5, "up"], [6, "up"]]);
});

test("holds where more parts in flight stop adding throughput", () => {
  const { c, run } = controller();
  run(5, () => 40);
  run(5, () => 50); // grew: 5 parts
  run(5, () => 52); // 4 % more: the link is full
  assert.equal(c.limit, 5);
  run(30, () => 52);
  assert.equal(c.limit, 5);
});

test("halves on SlowDown, a 5xx or a network error, once per window, never below 1", () => {
  const { c, clock, run } = controller({ initial: 6 });
  assert.equal(c.failed(slowDown), true);
  assert.equal(c.limit, 3);
  // The other parts in flight fail with it: one back-off, not one per part.
  assert.equal(c.failed(slowDown), false);
  assert.equal(c.failed({ status: 0 }), false);
  assert.equal(c.limit, 3);
  clock.t += 5000;
  c.failed({ status: 500, code: "InternalError" });
  assert.equal(c.limit, 1);
  clock.t += 5000;
  c.failed({ status: 0 });
  assert.equal(c.limit, 1, "not below 1");
  // Answers that are not about load change nothing.
  clock.t += 5000;
  for (const answer of [{ status: 403, code: "ExpiredToken" }, { status: 400, code: "BadDigest" }]) {
    assert.equal(c.failed(answer), false);
  }
  assert.equal(c.limit, 1);
  run(1, () => 1);
  assert.ok(c.limit >= 1);
});

test("after a back-off a clean window probes one more, and keeps going while it helps", () => {
  const { c, run } = controller();
  run(10, (n) => n * 10);
  c.failed(slowDown);
  assert.equal(c.limit, 2);
  run(5, (n) => n * 10); // a whole window without errors
  assert.equal(c.limit, 3);
  run(5, (n) => n * 10); // 30 against 20 MiB/s
  assert.equal(c.limit, 4);
  run(5, () => 40); // ... and so on while it grows
  run(5, () => 40);
  assert.equal(c.limit, 5);
  run(5, () => 40);
  assert.equal(c.limit, 5, "no growth at 5: holds");
  for (let i = 0; i < 50; i++) {
    run(5, (n) => n * 10);
    if (i % 3 === 0) c.failed(slowDown);
    assert.ok(c.limit >= 1 && c.limit <= 6, String(c.limit));
  }
});

test("the part pool reads its limit each time a part could start", async () => {
  let limit = 1;
  let active = 0;
  const peaks = [];
  const release = [];
  const pool = new PartPool(() => {
    active++;
    peaks.push(active);
    return new Promise((r) => release.push(() => { active--; r(); }));
  }, { concurrency: () => limit });
  for (let n = 1; n <= 12; n++) pool.push(n);
  pool.close();
  await Promise.resolve();
  assert.equal(active, 1);
  limit = 3;
  pool.pump();
  await Promise.resolve();
  assert.equal(active, 3, "raised: more start at once");
  limit = 1;
  while (release.length) {
    release.shift()();
    await new Promise((r) => setImmediate(r));
    if (active) assert.ok(active <= 3);
  }
  await pool.done();
  assert.ok(peaks.slice(3).every((n) => n === 1), "lowered: the parts in flight finish, then one at a time");
  limit = 99;
  assert.equal(pool.concurrency, 6);
  limit = 0;
  assert.equal(pool.concurrency, 1);
});
