import assert from "node:assert/strict";
import { test } from "node:test";
import { humanDuration, humanSize, SpeedMeter } from "../format.js";

test("sizes and durations read like a person would say them", () => {
  assert.equal(humanSize(512), "512 B");
  assert.equal(humanSize(5_300_000), "5.3 MB");
  assert.equal(humanSize(200e9), "200 GB");
  assert.equal(humanDuration(42), "42 s");
  assert.equal(humanDuration(3 * 3600 + 120), "3 h 2 min");
  assert.equal(humanDuration(NaN), "");
});

test("speed is a moving average over the window, not the last sample", () => {
  const m = new SpeedMeter(10_000);
  m.add(0, 0);
  m.add(1_000, 100e6); // a burst
  m.add(20_000, 100e6); // then a stall
  m.add(21_000, 110e6);
  // The burst fell out of the window; the anchor is the last sample before it (t=1 s).
  assert.equal(m.rate(), 10e6 / 20);
  m.reset();
  assert.equal(m.rate(), 0);
});
