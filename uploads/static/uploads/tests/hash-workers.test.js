import assert from "node:assert/strict";
import { test } from "node:test";
import * as hw from "hash-wasm";
import { HashWorker, hashPass, hashWorkers, PartHasher, partWorkers, SavePoints } from "../hash-workers.js";
import { blobCrc64 } from "../hashing.js";
import { checkPlan, partRange } from "../plan.js";

/** A raw Worker whose replies the test posts itself. */
function rawWorker() {
  const w = { posted: [], terminated: false };
  w.postMessage = (msg, transfer) => w.posted.push({ msg, transfer });
  w.terminate = () => (w.terminated = true);
  w.reply = (data) => w.onmessage({ data });
  return w;
}

/** HashWorker-shaped stand-ins: start() keeps the callbacks for the test to call. */
function manualPair() {
  const role = () => ({ start(message, transfer, onPart, onDone, onError) {
    Object.assign(this, { message, transfer, onPart, onDone, onError });
  } });
  return { crc: role(), sha: role() };
}

test("HashWorker: verify answers the re-hashed parts, or the worker's error", async () => {
  const w = rawWorker();
  const hw = new HashWorker(w);
  const plan = { size: 10, partSize: 4, partCount: 3 };
  const verified = hw.verify("FILE", plan, [1, 3]);
  assert.deepEqual(w.posted[0].msg, { type: "verify", file: "FILE", plan, parts: [1, 3] });
  w.reply({ type: "verified", results: { 1: "a", 3: "c" } });
  assert.deepEqual(await verified, { 1: "a", 3: "c" });

  const refused = hw.verify("FILE", plan, [1]);
  w.reply({ type: "error", message: "NotReadableError" });
  await assert.rejects(refused, { message: "NotReadableError" });
  const crashed = hw.verify("FILE", plan, [1]);
  w.onerror({});
  await assert.rejects(crashed, { message: "hashing worker failed" });
  hw.stop();
  assert.equal(w.terminated, true);
});

test("HashWorker: a pass's messages go to part, done and error; the transfer list goes along", () => {
  const w = rawWorker();
  const heard = [];
  new HashWorker(w).start({ type: "crc" }, ["port"], (p) => heard.push(["part", p.number]), (d) => heard.push(["done", d.crc64nvme]),
    (e) => heard.push(["error", e.message]));
  assert.deepEqual(w.posted, [{ msg: { type: "crc" }, transfer: ["port"] }]);
  w.reply({ type: "part", number: 1 });
  w.reply({ type: "done", crc64nvme: "X" });
  w.reply({ type: "error", message: "boom" });
  w.onerror({ message: "" });
  assert.deepEqual(heard, [["part", 1], ["done", "X"], ["error", "boom"], ["error", "hashing worker failed"]]);
});

test("a second Worker that cannot start does not leave the first one running", () => {
  const first = rawWorker();
  let calls = 0;
  assert.throws(() => hashWorkers(() => {
    if (calls++) throw new Error("CSP");
    return first;
  }), /CSP/);
  assert.equal(first.terminated, true);
});

test("a pass starts both workers from the saved states, joined by a channel, and merges their results", async () => {
  const pair = manualPair();
  const seen = [];
  const marks = [];
  const result = hashPass(pair, { file: "FILE", plan: "PLAN", from: 3, crcState: "crc@2", shaState: "sha@2",
    onPart: (n, sum) => seen.push([n, sum]), onSave: () => {}, onCrcDone: () => marks.push("crc"), onShaDone: () => marks.push("sha") });
  const { port, ...crcMessage } = pair.crc.message;
  assert.deepEqual(crcMessage, { type: "crc", file: "FILE", plan: "PLAN", from: 3, crcState: "crc@2" });
  assert.deepEqual(pair.crc.transfer, [port]);
  assert.equal(pair.sha.message.shaState, "sha@2");
  assert.deepEqual(pair.sha.transfer, [pair.sha.message.port]);
  assert.notEqual(pair.sha.message.port, port, "the two ends of one channel");
  for (const n of [3, 4, 5]) pair.crc.onPart({ type: "part", number: n, checksum: `c${n}`, crcState: `s${n}` });
  pair.sha.onDone({ type: "done", sha256: "SHA" }); // SHA-256 may finish first
  let settled = false;
  result.then(() => (settled = true));
  await new Promise((r) => setTimeout(r));
  assert.equal(settled, false, "not before both are done");
  pair.crc.onDone({ type: "done", crc64nvme: "CRC" });
  const final = await result;
  assert.equal(final.crc64nvme, "CRC");
  assert.equal(final.sha256, "SHA");
  assert.deepEqual(seen, [[3, "c3"], [4, "c4"], [5, "c5"]], "in the reader's order");
  assert.deepEqual(marks, ["sha", "crc"]);
});

test("a worker's error reaches onError and rejects the pass, though the other worker finished", async () => {
  const pair = manualPair();
  const errors = [];
  const result = hashPass(pair, { from: 1, onPart: () => {}, onSave: () => {}, onError: (e) => errors.push(e.message) });
  pair.crc.onDone({ crc64nvme: "CRC" });
  pair.sha.onError(new Error("out of memory"));
  await assert.rejects(result, { message: "out of memory" });
  assert.deepEqual(errors, ["out of memory"]);
});

test("the save point is the last part both workers passed, with the reader's state after that part", () => {
  const saves = [];
  const p = new SavePoints(3, (...a) => saves.push(a));
  p.crc(3, "c3");
  p.crc(4, "c4");
  assert.deepEqual(saves, [], "SHA-256 has passed nothing yet");
  p.sha(3, "s3");
  p.sha(4, "s4");
  p.sha(5, "s5"); // ahead of the reader: kept until the reader gets there
  assert.deepEqual(saves, [[3, "c3", "s3"], [4, "c4", "s4"]]);
  p.crc(5, "c5");
  assert.deepEqual(saves.at(-1), [5, "c5", "s5"]);
  assert.deepEqual([...p.crcStates.keys()], [5], "older reader states are let go");
});

test("a part the uploader refuses (changed file) is never a save point", () => {
  const pair = manualPair();
  const saves = [];
  hashPass(pair, { from: 1, onPart: (n) => n !== 2, onSave: (k) => saves.push(k) }).catch(() => {});
  pair.crc.onPart({ number: 1, checksum: "c1", crcState: "s1" });
  pair.crc.onPart({ number: 2, checksum: "other", crcState: "s2" });
  pair.sha.onPart({ number: 1, shaState: "h1" });
  pair.sha.onPart({ number: 2, shaState: "h2" });
  assert.deepEqual(saves, [1]);
});

test("without SHA-256 in the browser: part workers as the machine's cores allow, no SHA-256 worker", () => {
  const made = [];
  const workers = hashWorkers(() => (made.push(rawWorker()), made.at(-1)), { sha256: false, parallel: 3 });
  assert.equal(workers.sha, null);
  assert.equal(workers.crcs.length, 3);
  assert.equal(workers.crcs[0], workers.crc, "the first one also re-hashes sampled parts on resume");
  assert.deepEqual([partWorkers(1), partWorkers(2), partWorkers(4), partWorkers(16)], [1, 1, 3, 4]);
  assert.equal(hashWorkers(() => rawWorker(), { sha256: true, parallel: 3 }).crcs.length, 1);
});

/** HashWorker-shaped part hashers whose answers the test releases, in any order. */
function partHashers(count, sums) {
  const asked = [];
  const workers = Array.from({ length: count }, () => ({
    verify(file, plan, parts) {
      return new Promise((resolve, reject) => asked.push({ part: parts[0], answer: () => resolve({ [parts[0]]: sums[parts[0]] }), reject }));
    },
  }));
  const release = (part) => {
    const i = asked.findIndex((a) => a.part === part);
    asked.splice(i, 1)[0].answer();
  };
  return { workers, asked, release };
}

const settle = () => new Promise((r) => setTimeout(r));

test("PartHasher: parts hashed in parallel are handed on in order, and the combined CRC is the file's", async () => {
  const bytes = new Uint8Array(5 * 1000 + 321).map((_, i) => (i * 7919) % 251);
  const plan = checkPlan({ size: bytes.length, part_size: 1000, part_count: 6 });
  const sums = {};
  for (let n = 1; n <= 6; n++) {
    const r = partRange(plan, n);
    sums[n] = await blobCrc64(hw, new Blob([bytes.subarray(r.start, r.end)]));
  }
  const { workers, asked, release } = partHashers(3, sums);
  const handed = [];
  const saves = [];
  const hasher = new PartHasher(workers, { file: "FILE", plan, from: 1, crcState: null,
    onPart: (n, sum) => handed.push([n, sum]), onSave: (n, crc) => saves.push(n) });
  const done = hasher.start();
  assert.deepEqual(asked.map((a) => a.part), [1, 2, 3], "one part per worker");
  release(3);
  release(2);
  await settle();
  assert.deepEqual(handed, [], "part 1 first");
  release(1);
  await settle();
  assert.deepEqual(handed.map(([n]) => n), [1, 2, 3]);
  for (const n of [4, 5, 6]) {
    await settle();
    release(n);
  }
  const final = await done;
  assert.deepEqual(handed, Object.entries(sums).map(([n, s]) => [Number(n), s]));
  assert.deepEqual(saves, [1, 2, 3, 4, 5, 6], "every part a save point");
  assert.deepEqual(final, { crc64nvme: await blobCrc64(hw, new Blob([bytes])), sha256: null });
});

test("PartHasher: reads no more than `ahead` parts beyond what is still to be sent, and resumes on pump", async () => {
  const plan = checkPlan({ size: 10_000, part_size: 1000, part_count: 10 });
  const sums = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [i + 1, "AAAAAAAAAAE="]));
  const { workers, asked, release } = partHashers(4, sums);
  let backlog = 0;
  const hasher = new PartHasher(workers, { file: "FILE", plan, from: 3, crcState: "AAAAAAAAAAA=",
    onPart: () => backlog++, onSave: () => {}, backlog: () => backlog, ahead: 3 });
  hasher.start();
  assert.deepEqual(asked.map((a) => a.part), [3, 4, 5], "from the saved state on, three ahead");
  for (const n of [3, 4, 5]) release(n);
  await settle();
  assert.equal(backlog, 3);
  assert.deepEqual(asked, [], "three handed on and not sent: nothing more is read");
  backlog--; // a part was sent
  hasher.pump();
  assert.deepEqual(asked.map((a) => a.part), [6]);
});

test("PartHasher: a changed part stops it; a worker's error fails it once", async () => {
  const plan = checkPlan({ size: 4000, part_size: 1000, part_count: 4 });
  const sums = { 1: "AAAAAAAAAAE=", 2: "AAAAAAAAAAI=", 3: "AAAAAAAAAAM=", 4: "AAAAAAAAAAQ=" };
  const one = partHashers(1, sums);
  const handed = [];
  new PartHasher(one.workers, { file: "F", plan, from: 1, onPart: (n) => (handed.push(n), n !== 2), onSave: () => {} }).start();
  for (const n of [1, 2]) {
    one.release(n);
    await settle();
  }
  assert.deepEqual(handed, [1, 2]);
  assert.deepEqual(one.asked, [], "nothing read after the changed part");

  const two = partHashers(2, sums);
  const errors = [];
  const failed = new PartHasher(two.workers, { file: "F", plan, from: 1, onPart: () => true, onSave: () => {},
    onError: (e) => errors.push(e.message) }).start();
  two.asked[0].reject(new Error("NotReadableError"));
  two.asked[1].reject(new Error("also"));
  await assert.rejects(failed, { message: "NotReadableError" });
  assert.deepEqual(errors, ["NotReadableError"]);
});
