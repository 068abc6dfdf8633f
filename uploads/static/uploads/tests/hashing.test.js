import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import * as hw from "hash-wasm";
import { blobCrc64, crc64Combine, crcFromBase64, crcPass, CRC64NVME_POLY, shaPass, toHex } from "../hashing.js";
import { checkPlan, partRange } from "../plan.js";

function data(n, seed = 1) {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const crcOf = async (bytes) => blobCrc64(hw, new Blob([bytes]));

/** Both workers' passes in one thread, joined by a real MessageChannel as in the browser. */
async function hashFile(blob, plan, { from = 1, saved = null, windowBytes, batchBytes } = {}) {
  const channel = new MessageChannel();
  const parts = [];
  const shaStates = new Map();
  const read = { bytes: 0 };
  const counting = {
    size: blob.size,
    slice: (start, end) => {
      read.bytes += end - start;
      return blob.slice(start, end);
    },
  };
  const sha = shaPass(hw, { port: channel.port2, shaState: saved?.shaState, onPart: (p) => shaStates.set(p.number, p.shaState) });
  const crc = await crcPass(hw, {
    file: counting, plan, partRange, from, crcState: saved?.crcState, port: channel.port1,
    onPart: (p) => parts.push(p), windowBytes, batchBytes,
  });
  channel.port1.close();
  return { crc, sha: await sha, parts, shaStates, read: read.bytes };
}

test("CRC64NVME uses the NVMe polynomial (check value of '123456789')", async () => {
  assert.equal(await hw.crc64("123456789", CRC64NVME_POLY), "ae8b14860a799888");
  const b64 = await crcOf(new TextEncoder().encode("123456789"));
  assert.equal(toHex(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))), "ae8b14860a799888");
});

test("combining part CRCs gives the CRC of the joined bytes, at any split", async () => {
  const bytes = data(70_001, 5);
  const whole = crcFromBase64(await crcOf(bytes));
  for (const cut of [0, 1, 7, 8, 4096, 35_000, 70_000, 70_001]) {
    const a = crcFromBase64(await crcOf(bytes.subarray(0, cut)));
    const b = crcFromBase64(await crcOf(bytes.subarray(cut)));
    assert.equal(crc64Combine(a, b, bytes.length - cut), whole, `cut at ${cut}`);
  }
  // Lengths past 2^32 bytes (parts up to 5 GiB): appending 2^32 zero bytes at once must
  // equal appending 2^31 twice, the CRCs of the zero runs built by doubling short ones.
  let half = crcFromBase64(await crcOf(new Uint8Array(1)));
  for (let length = 1; length < 2 ** 31; length *= 2) half = crc64Combine(half, half, length);
  const full = crc64Combine(half, half, 2 ** 31);
  const a = crcFromBase64(await crcOf(bytes));
  assert.equal(crc64Combine(a, full, 2 ** 32), crc64Combine(crc64Combine(a, half, 2 ** 31), half, 2 ** 31));
});

test("the whole-file CRC combined from 10,000 part CRCs, one part, and a short last part equals hash-wasm's over the file", async () => {
  const whole = async (bytes) => crcFromBase64(await crcOf(bytes));
  const combined = async (bytes, sizes) => {
    let crc = null;
    let at = 0;
    for (const size of sizes) {
      const part = crcFromBase64(await crcOf(bytes.subarray(at, at + size)));
      crc = crc === null ? part : crc64Combine(crc, part, size);
      at += size;
    }
    assert.equal(at, bytes.length);
    return crc;
  };
  // S3's maximum part count, with parts of uneven size (the last one short).
  const sizes = Array.from({ length: 10_000 }, (_, i) => (i === 9_999 ? 3 : 5 + (i % 11)));
  const many = data(sizes.reduce((a, b) => a + b, 0), 9);
  assert.equal(await combined(many, sizes), await whole(many));
  const one = data(4097, 3);
  assert.equal(await combined(one, [4097]), await whole(one));
  const shortLast = data(3 * 1024 + 1, 4);
  assert.equal(await combined(shortLast, [1024, 1024, 1024, 1]), await whole(shortLast));
});

test("one read of each part gives each part's CRC and the whole file's CRC and SHA-256", async () => {
  const bytes = data(1_000_003);
  const plan = checkPlan({ size: bytes.length, part_size: 100_000, part_count: 11 });
  const out = await hashFile(new Blob([bytes]), plan, { batchBytes: 30_000, windowBytes: 90_000 });
  assert.equal(out.read, bytes.length, "the file is read once");
  for (const p of out.parts) {
    const r = partRange(plan, p.number);
    assert.equal(p.checksum, await crcOf(bytes.subarray(r.start, r.end)));
    assert.equal(p.crcState, await crcOf(bytes.subarray(0, r.end)), "the running whole-file CRC");
  }
  assert.deepEqual(out.parts.map((p) => p.number), [...Array(11).keys()].map((i) => i + 1));
  assert.deepEqual([...out.shaStates.keys()], out.parts.map((p) => p.number));
  assert.equal(out.sha, sha256(bytes));
  assert.equal(out.crc, await crcOf(bytes));
});

test("an empty file has one empty part and the empty checksums", async () => {
  const plan = checkPlan({ size: 0, part_size: 100, part_count: 1 });
  const out = await hashFile(new Blob([]), plan);
  assert.equal(out.crc, await crcOf(new Uint8Array(0)));
  assert.equal(out.sha, sha256(new Uint8Array(0)));
  assert.equal(out.parts.length, 1);
});

test("the reader stays within the window of bytes SHA-256 has not acknowledged", async () => {
  const bytes = data(400_000, 9);
  const plan = checkPlan({ size: bytes.length, part_size: 50_000, part_count: 8 });
  const channel = new MessageChannel();
  let pending = 0;
  let peak = 0;
  // A slow SHA-256 side: acknowledges each batch only after a pause.
  channel.port2.onmessage = ({ data: msg }) => {
    if (msg.end) return channel.port2.close();
    const bytesIn = msg.chunks.reduce((s, c) => s + c.byteLength, 0);
    pending += bytesIn;
    peak = Math.max(peak, pending);
    setTimeout(() => {
      pending -= bytesIn;
      channel.port2.postMessage({ ack: bytesIn });
    }, 5);
  };
  await crcPass(hw, { file: new Blob([bytes]), plan, partRange, port: channel.port1, onPart: () => {},
    batchBytes: 20_000, windowBytes: 60_000 });
  channel.port1.close();
  assert.ok(peak <= 60_000 + 20_000 + 65_536, `peak ${peak} unacknowledged bytes`);
  assert.ok(peak >= 20_000, "bytes did travel");
});

test("saved states resume without re-reading the bytes already hashed", async () => {
  const bytes = data(500_000, 7);
  const blob = new Blob([bytes]);
  const plan = checkPlan({ size: bytes.length, part_size: 64_000, part_count: 8 });
  const first = await hashFile(blob, plan);
  // Through structured clone, as the states travel to IndexedDB and back.
  const saved = structuredClone({ crcState: first.parts[4].crcState, shaState: first.shaStates.get(5) });
  const resumed = await hashFile(blob, plan, { from: 6, saved });
  assert.equal(resumed.read, bytes.length - 5 * 64_000);
  assert.equal(resumed.sha, sha256(bytes));
  assert.equal(resumed.crc, await crcOf(bytes));
});

test("states saved from other bytes give different whole-file checksums", async () => {
  const a = data(200_000, 1);
  const b = data(200_000, 2);
  const plan = checkPlan({ size: a.length, part_size: 100_000, part_count: 2 });
  const fromA = await hashFile(new Blob([a]), plan);
  const saved = { crcState: fromA.parts[0].crcState, shaState: fromA.shaStates.get(1) };
  const spliced = await hashFile(new Blob([b]), plan, { from: 2, saved });
  assert.notEqual(spliced.sha, sha256(b));
  assert.notEqual(spliced.crc, await crcOf(b));
});
