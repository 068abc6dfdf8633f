import assert from "node:assert/strict";
import { test } from "node:test";
import { BYTES_PER_MBIT, parseLimit, RateLimiter } from "../ratelimit.js";

/** A clock that moves only when told, with the timers it would have fired. */
function fakeClock() {
  const clock = { t: 0, timers: new Map(), nextId: 1 };
  clock.now = () => clock.t;
  clock.setTimer = (fn, ms) => {
    const id = clock.nextId++;
    clock.timers.set(id, { at: clock.t + ms, fn });
    return id;
  };
  clock.clearTimer = (id) => clock.timers.delete(id);
  /** Move time forward by ms, firing due timers in time order, and let promises settle. */
  clock.advance = async (ms) => {
    const end = clock.t + ms;
    for (;;) {
      const due = [...clock.timers.entries()].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      clock.timers.delete(due[0]);
      clock.t = Math.max(clock.t, due[1].at);
      due[1].fn();
      await settle();
    }
    clock.t = end;
    await settle();
  };
  return clock;
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** Callers that keep `inflight` admissions of `size` bytes outstanding, as a part pool does. */
function keepAsking(limiter, size, inflight, signal) {
  const admitted = [];
  const ask = () =>
    limiter.admit(size, signal).then(
      () => {
        admitted.push(size);
        ask();
      },
      () => {},
    );
  for (let i = 0; i < inflight; i++) ask();
  return { bytes: () => admitted.reduce((a, b) => a + b, 0) };
}

const MIB = 1024 * 1024;

test("the limit field: Mbit/s as bytes per second, empty / 0 / nonsense meaning no limit", () => {
  assert.equal(parseLimit("8"), 1_000_000);
  assert.equal(parseLimit(" 2,5 "), 2.5 * BYTES_PER_MBIT);
  for (const none of ["", "  ", "0", "-3", "fast", null, undefined]) assert.equal(parseLimit(none), 0, String(none));
});

test("bytes are admitted at the set rate over a window of fake time, with four parts waiting at once", async () => {
  const clock = fakeClock();
  const rate = 8 * BYTES_PER_MBIT; // 1,000,000 bytes/s
  const limiter = new RateLimiter({ bytesPerSecond: rate, ...clock });
  const flow = keepAsking(limiter, MIB, 4);
  await settle();
  assert.equal(flow.bytes(), 0, "nothing is saved up before the limit was set");
  for (let s = 1; s <= 60; s++) {
    await clock.advance(1000);
    const allowed = rate * clock.t / 1000;
    // Never ahead of the limit, and never more than one part behind it.
    assert.ok(flow.bytes() <= allowed, `${flow.bytes()} > ${allowed} at ${clock.t} ms`);
    assert.ok(flow.bytes() > allowed - MIB, `${flow.bytes()} too far behind ${allowed} at ${clock.t} ms`);
  }
  assert.equal(limiter.admitted, flow.bytes());
  assert.ok(limiter.log.every(([t, b]) => t <= clock.t && b === MIB));
});

test("a change of limit mid-way applies to the part waiting now", async () => {
  const clock = fakeClock();
  const limiter = new RateLimiter({ bytesPerSecond: 1_000_000, ...clock });
  const flow = keepAsking(limiter, 100_000, 4);
  await clock.advance(10_000);
  const atTen = flow.bytes();
  assert.ok(Math.abs(atTen - 10_000_000) <= 100_000, String(atTen));
  limiter.setRate(250_000);
  await clock.advance(20_000);
  const slower = flow.bytes() - atTen;
  assert.ok(Math.abs(slower - 5_000_000) <= 200_000, `${slower} in 20 s at 250 kB/s`);
  // Raising it wakes the waiting part at once, not when the slow rate's timer would have.
  limiter.setRate(4_000_000);
  await clock.advance(5_000);
  const faster = flow.bytes() - atTen - slower;
  assert.ok(Math.abs(faster - 20_000_000) <= 200_000, `${faster} in 5 s at 4 MB/s`);
});

test("0 means no limit: everything is admitted at once, and waiting parts are let go", async () => {
  const clock = fakeClock();
  const unlimited = new RateLimiter({ ...clock });
  await Promise.all([unlimited.admit(10 * MIB), unlimited.admit(10 * MIB)]);
  assert.equal(unlimited.admitted, 20 * MIB);
  const limited = new RateLimiter({ bytesPerSecond: 1_000, ...clock });
  const waits = [limited.admit(MIB), limited.admit(MIB), limited.admit(1)];
  await settle();
  assert.equal(limited.admitted, 0);
  limited.setRate(0);
  await Promise.all(waits);
  assert.equal(limited.admitted, 2 * MIB + 1);
  assert.equal(clock.t, 0, "no time passed");
  assert.equal(limited.timer, null, "no timer left behind");
});

test("a part waiting for budget is dropped when its upload is paused, and the next one is served", async () => {
  const clock = fakeClock();
  const limiter = new RateLimiter({ bytesPerSecond: 1000, ...clock });
  const pause = new AbortController();
  const first = limiter.admit(5000, pause.signal);
  const second = limiter.admit(500);
  pause.abort(new Error("paused"));
  await assert.rejects(first, /paused/);
  await clock.advance(499);
  assert.equal(limiter.admitted, 0);
  await clock.advance(1);
  await second;
  assert.equal(limiter.admitted, 500);
  await assert.rejects(limiter.admit(1, pause.signal), /paused/, "an aborted signal is refused at once");
});

test("a part bigger than the burst waits for its whole size, budget unused while idle is capped", async () => {
  const clock = fakeClock();
  const limiter = new RateLimiter({ bytesPerSecond: 1000, burstMs: 1000, ...clock });
  await clock.advance(60_000); // a minute idle saves up one second's budget, not sixty
  await limiter.admit(1000);
  const big = limiter.admit(3000);
  let done = false;
  big.then(() => (done = true));
  await clock.advance(2999);
  assert.equal(done, false);
  await clock.advance(1);
  assert.equal(done, true);
});
