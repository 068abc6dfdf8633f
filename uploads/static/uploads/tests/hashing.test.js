import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import * as hw from "hash-wasm";
import { blobCrc64, CRC64NVME_POLY, FileHasher, toHex } from "../hashing.js";
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

test("CRC64NVME uses the NVMe polynomial (check value of '123456789')", async () => {
  assert.equal(await hw.crc64("123456789", CRC64NVME_POLY), "ae8b14860a799888");
  const b64 = await blobCrc64(hw, new Blob([new TextEncoder().encode("123456789")]));
  assert.equal(toHex(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))), "ae8b14860a799888");
});

test("part by part hashing gives each part's CRC and the whole file's CRC and SHA-256", async () => {
  const bytes = data(1_000_003);
  const blob = new Blob([bytes]);
  const plan = checkPlan({ size: bytes.length, part_size: 100_000, part_count: 11 });
  const h = await new FileHasher(hw, { chunkSize: 30_000 }).init();
  for (let n = 1; n <= plan.partCount; n++) {
    const r = partRange(plan, n);
    const crc = await h.hashPart(blob.slice(r.start, r.end));
    assert.equal(crc, await blobCrc64(hw, new Blob([bytes.subarray(r.start, r.end)])));
  }
  const final = h.finish();
  assert.equal(final.sha256, createHash("sha256").update(bytes).digest("hex"));
  assert.equal(final.crc64nvme, await blobCrc64(hw, blob));
});

test("saved hash states resume without re-reading the bytes already hashed", async () => {
  const bytes = data(500_000, 7);
  const blob = new Blob([bytes]);
  const plan = checkPlan({ size: bytes.length, part_size: 64_000, part_count: 8 });
  const first = await new FileHasher(hw).init();
  for (let n = 1; n <= 5; n++) {
    const r = partRange(plan, n);
    await first.hashPart(blob.slice(r.start, r.end));
  }
  // Through structured clone, as the worker's states travel to IndexedDB and back.
  const saved = structuredClone(first.save());
  const resumed = await new FileHasher(hw).init(saved);
  let read = 0;
  for (let n = 6; n <= 8; n++) {
    const r = partRange(plan, n);
    read += r.size;
    await resumed.hashPart(blob.slice(r.start, r.end));
  }
  assert.equal(read, bytes.length - 5 * 64_000);
  const final = resumed.finish();
  assert.equal(final.sha256, createHash("sha256").update(bytes).digest("hex"));
  assert.equal(final.crc64nvme, await blobCrc64(hw, blob));
});

test("states saved from other bytes give a different whole-file checksum", async () => {
  const a = data(200_000, 1);
  const b = data(200_000, 2);
  const h = await new FileHasher(hw).init();
  await h.hashPart(new Blob([a.subarray(0, 100_000)]));
  const resumed = await new FileHasher(hw).init(h.save());
  await resumed.hashPart(new Blob([b.subarray(100_000)]));
  assert.notEqual(resumed.finish().sha256, createHash("sha256").update(a).digest("hex"));
});

test("split across two workers (CRCs, SHA-256) the results equal one pass, and so do their saved states", async () => {
  const bytes = data(300_000, 3);
  const blob = new Blob([bytes]);
  const plan = checkPlan({ size: bytes.length, part_size: 70_000, part_count: 5 });
  const one = await new FileHasher(hw).init();
  const crc = await new FileHasher(hw, { only: "crc" }).init();
  const sha = await new FileHasher(hw, { only: "sha" }).init();
  for (let n = 1; n <= 3; n++) {
    const r = partRange(plan, n);
    const b = blob.slice(r.start, r.end);
    assert.equal(await crc.hashPart(b), await one.hashPart(b));
    assert.equal(await sha.hashPart(b), null);
  }
  const saved = { ...crc.save(), ...sha.save() };
  const crc2 = await new FileHasher(hw, { only: "crc" }).init(saved);
  const sha2 = await new FileHasher(hw, { only: "sha" }).init(saved);
  for (let n = 4; n <= 5; n++) {
    const r = partRange(plan, n);
    await one.hashPart(blob.slice(r.start, r.end));
    await crc2.hashPart(blob.slice(r.start, r.end));
    await sha2.hashPart(blob.slice(r.start, r.end));
  }
  assert.deepEqual({ ...crc2.finish(), ...sha2.finish() }, one.finish());
});
