import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { humanDateTime, humanDuration, humanRate, humanSize, SpeedMeter } from "../format.js";

const CASES = JSON.parse(readFileSync(new URL("../../../../portal/tests/format_cases.json", import.meta.url)));

test("sizes and times are written exactly as the portal's pages and emails write them", () => {
  for (const [size, text] of CASES.sizes) assert.equal(humanSize(size), text, `size ${size}`);
  for (const [iso, text] of CASES.datetimes) assert.equal(humanDateTime(iso), text, iso);
});

test("a speed is never a raw float", () => {
  assert.equal(humanRate(0.3886929228736103), "0 B/s");
  assert.equal(humanRate(1536.7), "1.5 KiB/s");
});

test("sizes and durations read like a person would say them", () => {
  assert.equal(humanSize(512), "512 B");
  assert.equal(humanSize(5_300_000), "5.1 MiB");
  assert.equal(humanSize(200e9), "186.3 GiB");
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
