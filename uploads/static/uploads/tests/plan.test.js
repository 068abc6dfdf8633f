import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesOf, checkPlan, findReceived, findResumable, missingParts, partRange, PlanError, planResume, sampleParts } from "../plan.js";

const MiB = 1024 * 1024;

test("a 5 MiB file in one 8 MiB part covers every byte", () => {
  const plan = checkPlan({ size: 5 * MiB, part_size: 8 * MiB, part_count: 1 });
  assert.deepEqual(partRange(plan, 1), { number: 1, start: 0, end: 5 * MiB, size: 5 * MiB });
  assert.throws(() => partRange(plan, 2), PlanError);
});

test("exactly 10,000 parts: the last part ends at the last byte", () => {
  const plan = checkPlan({ size: 10_000 * 5 * MiB, part_size: 5 * MiB, part_count: 10_000 });
  assert.equal(partRange(plan, 10_000).end, 10_000 * 5 * MiB);
  assert.equal(partRange(plan, 10_000).size, 5 * MiB);
  assert.throws(() => checkPlan({ size: 10_000 * 5 * MiB + 1, part_size: 5 * MiB, part_count: 10_001 }), PlanError);
});

test("a 200 GB file sliced by a 20 MiB plan: contiguous, smaller last part", () => {
  const size = 200e9;
  const plan = checkPlan({ size, part_size: 20 * MiB, part_count: 9537 });
  let pos = 0;
  for (let n = 1; n <= plan.partCount; n++) {
    const r = partRange(plan, n);
    assert.equal(r.start, pos);
    pos = r.end;
  }
  assert.equal(pos, size);
  assert.ok(partRange(plan, 9537).size < 20 * MiB);
  assert.equal(bytesOf(plan, [1, 9537]), 20 * MiB + (size - 9536 * 20 * MiB));
});

test("5 TiB: offsets past 2^32 stay exact", () => {
  const size = 5 * 2 ** 40;
  const plan = checkPlan({ size, part_size: 525 * MiB, part_count: 9987 });
  const last = partRange(plan, 9987);
  assert.equal(last.end, size);
  assert.equal(last.start, 9986 * 525 * MiB);
  assert.ok(last.size > 0 && last.size <= 525 * MiB);
});

test("a plan that does not cover the file is refused, not re-planned", () => {
  assert.throws(() => checkPlan({ size: 100, part_size: 10, part_count: 9 }), /do not cover/);
  assert.throws(() => checkPlan({ size: 100, part_size: 10, part_count: 11 }), PlanError);
  assert.throws(() => checkPlan({ size: 100, part_size: 0, part_count: 1 }), PlanError);
});

test("missing parts are listed in file order", () => {
  const plan = checkPlan({ size: 50, part_size: 10, part_count: 5 });
  assert.deepEqual(missingParts(plan, new Set([1, 3])), [2, 4, 5]);
});

test("an unfinished upload matches on name, path, size and modification time only", () => {
  const uploads = [
    { id: "a", name: "db.dmp", relative_path: "", size: 10, last_modified: 5, status: "uploading" },
    { id: "b", name: "db.dmp", relative_path: "x/db.dmp", size: 10, last_modified: 5, status: "uploading" },
    { id: "c", name: "db.dmp", relative_path: "", size: 10, last_modified: 6, status: "uploaded" },
  ];
  assert.equal(findResumable(uploads, { name: "db.dmp", relativePath: "", size: 10, lastModified: 5 }).id, "a");
  assert.equal(findResumable(uploads, { name: "db.dmp", relativePath: "x/db.dmp", size: 10, lastModified: 5 }).id, "b");
  assert.equal(findResumable(uploads, { name: "db.dmp", relativePath: "", size: 10, lastModified: 6 }), null);
  assert.equal(findResumable(uploads, { name: "db.dmp", relativePath: "", size: 11, lastModified: 5 }), null);
});

test("a file already received is recognised, an unfinished or failed one is not", () => {
  const who = { name: "db.dmp", relativePath: "", size: 10, lastModified: 5 };
  const u = (id, status, extra = {}) => ({ id, status, name: "db.dmp", relative_path: "", size: 10, last_modified: 5, ...extra });
  assert.equal(findReceived([u("a", "uploading"), u("b", "failed"), u("c", "verified")], who).id, "c");
  assert.equal(findReceived([u("a", "uploaded")], who).id, "a");
  assert.equal(findReceived([u("a", "uploading"), u("b", "aborted")], who), null);
  assert.equal(findReceived([u("a", "verified", { last_modified: 6 })], who), null, "a newer version of the file");
  assert.equal(findReceived([u("a", "verified", { relative_path: "other/db.dmp" })], who), null);
});

const plan10 = checkPlan({ size: 95, part_size: 10, part_count: 10 });
const server = (numbers, extra = {}) =>
  numbers.map((n) => ({ number: n, size: partRange(plan10, n).size, etag: `"e${n}"`, checksum_crc64nvme: null,
    recorded_checksum_crc64nvme: `c${n}`, ...extra }));

test("resume with no saved state re-hashes from the start and sends only missing parts", () => {
  const r = planResume(plan10, server([1, 2, 3, 7]), null);
  assert.deepEqual([...r.done].sort((a, b) => a - b), [1, 2, 3, 7]);
  assert.equal(r.hashFrom, 1);
  assert.deepEqual(r.verify, []); // the worker compares them as it passes
  assert.deepEqual(missingParts(plan10, r.done), [4, 5, 6, 8, 9, 10]);
});

test("resume with saved hash states starts hashing after them and samples finished parts", () => {
  const saved = { hashedThrough: 8, crcState: "AAAAAAAAAAE=", shaState: new Uint8Array([2]),
    partChecksums: Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((n) => [n, `c${n}`])) };
  const r = planResume(plan10, server([1, 2, 3, 4, 5, 6]), saved, { random: () => 0.5 });
  assert.equal(r.hashFrom, 9);
  assert.equal(r.known.get(7), "c7"); // hashed before the tab closed, not yet sent
  assert.ok(r.verify.includes(1) && r.verify.includes(6), "first and last finished parts are re-hashed");
  assert.ok(r.verify.length >= 3);
});

test("a part of the wrong size on the server is not counted as done", () => {
  const parts = server([1, 2]);
  parts[1].size = 3;
  const r = planResume(plan10, parts, null);
  assert.deepEqual([...r.done], [1]);
});

test("saved checksums that disagree with the server's record discard the saved hash states", () => {
  const saved = { hashedThrough: 3, crcState: "AAAAAAAAAAE=", shaState: new Uint8Array([2]),
    partChecksums: { 1: "c1", 2: "DIFFERENT", 3: "c3" } };
  const r = planResume(plan10, server([1, 2, 3]), saved);
  assert.equal(r.hashFrom, 1);
});

test("a part hashed but neither sent nor remembered forces hashing from the start", () => {
  const saved = { hashedThrough: 5, crcState: "AAAAAAAAAAE=", shaState: new Uint8Array([2]),
    partChecksums: { 1: "c1", 2: "c2" } };
  assert.equal(planResume(plan10, server([1, 2]), saved).hashFrom, 1);
});

test("finished parts the server has no checksum for are checked against the ones this browser saved", () => {
  const saved = { hashedThrough: 8, crcState: "AAAAAAAAAAE=", shaState: new Uint8Array([2]),
    partChecksums: Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((n) => [n, `c${n}`])) };
  const parts = server([1, 2, 3, 4, 5, 6], { recorded_checksum_crc64nvme: null });
  parts[0].recorded_checksum_crc64nvme = "c1";
  const r = planResume(plan10, parts, saved, { random: () => 0.5, samples: 10 });
  assert.deepEqual(r.verify, [1, 2, 3, 4, 5, 6], "every finished part can be sampled");
  assert.equal(r.recorded.get(4), "c4");
  assert.equal(r.recorded.has(7), false, "hashed but never sent");
});

test("a CRC state in an older uploader's format is not resumed from", () => {
  const saved = { hashedThrough: 3, crcState: new Uint8Array([1]), shaState: new Uint8Array([2]),
    partChecksums: { 1: "c1", 2: "c2", 3: "c3" } };
  assert.equal(planResume(plan10, server([1, 2, 3]), saved).hashFrom, 1);
});

test("sampling takes first, last and distinct random members", () => {
  const list = Array.from({ length: 100 }, (_, i) => i + 1);
  let i = 0;
  const seq = [0.1, 0.1, 0.5, 0.9];
  const s = sampleParts(list, 3, () => seq[i++ % seq.length]);
  assert.equal(s[0], 1);
  assert.equal(s.at(-1), 100);
  assert.equal(new Set(s).size, 5);
  assert.deepEqual(sampleParts([4, 5], 3), [4, 5]);
});

test("a saved state without a SHA-256 state resumes only where the portal computes the SHA-256", () => {
  const saved = { hashedThrough: 3, crcState: "AAAAAAAAAAE=", partChecksums: { 1: "c1", 2: "c2", 3: "c3" } };
  assert.equal(planResume(plan10, server([1, 2, 3]), saved, { sha256: false }).hashFrom, 4);
  assert.equal(planResume(plan10, server([1, 2, 3]), saved).hashFrom, 1, "this browser computes it: hash from the start");
});
