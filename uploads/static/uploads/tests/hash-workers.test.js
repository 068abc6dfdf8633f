import assert from "node:assert/strict";
import { test } from "node:test";
import { HashWorker, hashPass, hashWorkers, SavePoints } from "../hash-workers.js";

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

test("without SHA-256 in the browser: one worker, every part the reader passes is a save point", async () => {
  const made = [];
  const workers = hashWorkers(() => (made.push(rawWorker()), made.at(-1)), { sha256: false });
  assert.equal(workers.sha, null);
  assert.equal(made.length, 1);

  const pair = manualPair();
  const saves = [];
  const marks = [];
  const result = hashPass({ crc: pair.crc, sha: null }, { file: "FILE", plan: "PLAN", from: 3, crcState: "crc@2",
    onPart: (n) => n !== 5, onSave: (...a) => saves.push(a), onCrcDone: () => marks.push("crc") });
  assert.equal(pair.crc.message.port, null, "no bytes handed on");
  assert.deepEqual(pair.crc.transfer, []);
  pair.crc.onPart({ number: 3, checksum: "c3", crcState: "crc@3" });
  pair.crc.onPart({ number: 4, checksum: "c4", crcState: "crc@4" });
  pair.crc.onPart({ number: 5, checksum: "c5", crcState: "crc@5" }); // refused: not saved, nor anything after
  pair.crc.onPart({ number: 6, checksum: "c6", crcState: "crc@6" });
  pair.crc.onDone({ type: "done", crc64nvme: "CRC" });
  assert.deepEqual(await result, { crc64nvme: "CRC", sha256: null });
  assert.deepEqual(saves, [[3, "crc@3", null], [4, "crc@4", null]]);
  assert.deepEqual(marks, ["crc"]);
});
