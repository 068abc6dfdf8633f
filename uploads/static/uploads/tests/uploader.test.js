import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, FAST_RETRY, FILE_UNREADABLE, FileChanged, fakeApi, fakeS3, fakeUpload, fakeWorkers, makeFile, s3Error, serverUpload,
  stoppedBy } from "./fakes.js";
import { MemoryStore } from "../store.js";
import { workerError } from "../hash-workers.js";

const CHANGED = new FileChanged().message;
const ran = (w) => w.made.length === 2 && w.made.every((x) => x.terminated);
/** An unfinished upload of makeFile() on the server, S3 holding `held` (number: recorded CRC). */
const unfinished = (held, extra = {}) => fakeApi({
  listUploads: () => ({ uploads: [serverUpload(makeFile(), { status: "uploading" })] }),
  parts: () => ({ parts: Object.entries(held).map(([n, sum]) => ({ number: Number(n), size: n === "3" ? 2 : 4,
    recorded_checksum_crc64nvme: sum })) }),
  ...extra,
});

test("prepare: a new file is created as it is on disk, and no resume state is asked for", async () => {
  const store = new MemoryStore();
  store.get = () => assert.fail("a new upload has no saved state");
  const { upload, api, s3, shown, workers } = fakeUpload({ store, batchId: "b1" });
  await upload.run();
  assert.deepEqual(api.calls[1], ["createUpload", 7, { name: "db.dmp", relative_path: "", size: 10,
    content_type: "application/octet-stream", last_modified: 5, batch_id: "b1", declared_sha256: null }]);
  assert.deepEqual(api.names(), ["listUploads", "createUpload", "credentials", "complete"]);
  assert.deepEqual(api.calls[0], ["listUploads", 7, "all", 10]);
  assert.deepEqual(shown, [["starting", "Preparing…"], ["uploading", ""], ["completing", "Finishing…"],
    ["completing", "Finishing…"], ["done", ""]]);
  assert.deepEqual(s3.sent.map((s) => [s.part, s.bytes, s.checksum]), [[1, 4, "crc1"], [2, 4, "crc2"], [3, 2, "crc3"]]);
  assert.ok(ran(workers), "both workers started and stopped");
});

test("prepare: the unfinished upload of the same file is continued, not created again", async () => {
  const { upload, api } = fakeUpload({ api: unfinished({}) });
  await upload.run();
  assert.deepEqual(api.names(), ["listUploads", "credentials", "parts", "complete"]);
});

test("prepare: a file already received is not sent again until the customer says so", async () => {
  const api = fakeApi({ listUploads: () => ({ uploads: [serverUpload(makeFile(), { status: "verified",
    completed_at: "2026-01-02T03:04:05Z" })] }) });
  const { upload, shown, workers } = fakeUpload({ api });
  await upload.run();
  assert.equal(upload.status, "duplicate");
  assert.match(upload.message, /^This file was already uploaded on .+ "Upload again" only if you mean to send a second copy\.$/);
  assert.deepEqual(api.names(), ["listUploads"]);
  assert.ok(ran(workers), "the workers started early are stopped");
  await upload.restart();
  assert.deepEqual(api.names(), ["listUploads", "listUploads", "createUpload", "credentials", "complete"]);
  assert.deepEqual(shown.at(-1), ["done", ""]);
});

test("prepare: an empty file the portal stored at create is done without credentials or hashing", async () => {
  const api = fakeApi({ createUpload: () => ({ id: "u0", size: 0, part_size: 4, part_count: 0, status: "uploaded" }) });
  const { upload, workers } = fakeUpload({ api, file: new File([], "empty.txt") });
  await upload.run();
  assert.deepEqual(api.names(), ["listUploads", "createUpload"]);
  assert.equal(upload.status, "done");
  assert.deepEqual(upload.result, { id: "u0", status: "uploaded" });
  assert.equal(upload.final.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(upload.final.crc64nvme, "AAAAAAAAAAA=");
  assert.ok(workers.made.every((w) => w.terminated && !w.posted.length));
});

test("prepare: refusals the customer cannot retry away are 'refused', other portal errors 'failed'", async (t) => {
  const logged = t.mock.method(console, "error", () => {});
  const cases = [
    [{ createUpload: () => { throw new ApiError(400, "quota_exceeded", "Over quota."); } }, "refused", "Over quota."],
    [{ createUpload: () => { throw new ApiError(503, "http_503", "The portal answered 503."); } }, "failed", "The portal answered 503."],
    [{ credentials: () => { throw new ApiError(409, "upload_not_active", "Not active."); } }, "refused", "Not active."],
    [{ createUpload: () => { throw new TypeError("x is undefined"); } }, "failed", "Something went wrong: x is undefined"],
  ];
  for (const [handlers, status, message] of cases) {
    const { upload, workers } = fakeUpload({ api: fakeApi(handlers) });
    await upload.run();
    assert.deepEqual([upload.status, upload.message], [status, message]);
    assert.ok(ran(workers));
  }
  assert.equal(logged.mock.callCount(), 1, "only the unexpected error is logged");
});

test("resume plan: parts S3 holds are skipped, the rest sent with the reader's checksums", async () => {
  const { upload, s3, workers } = fakeUpload({ api: unfinished({ 1: "crc1", 3: "crc3" }) });
  await upload.run();
  assert.deepEqual(s3.sent.map((s) => [s.part, s.checksum]), [[2, "crc2"]]);
  assert.deepEqual(workers.posted(), ["crc", "sha"], "no saved state: the reader checks held parts as it passes");
  assert.equal(workers.made[0].posted[0].from, 1);
  assert.equal(upload.status, "done");
});

test("resume plan: saved hash states are continued from, after re-hashing sampled finished parts", async () => {
  const store = new MemoryStore();
  await store.put({ uploadId: "u1", hashedThrough: 3, crcState: "crcState3", shaState: "shaState3",
    partChecksums: { 1: "crc1", 2: "crc2", 3: "saved3" }, doneParts: [1, 2] });
  const { upload, s3, workers, shown } = fakeUpload({ store, api: unfinished({ 1: "crc1", 2: null }) });
  await upload.run();
  const [verify, crc] = workers.made[0].posted;
  assert.deepEqual(verify.parts, [1, 2], "the server's record or, without one, the saved checksum");
  assert.deepEqual([crc.type, crc.from, crc.crcState], ["crc", 4, "crcState3"]);
  assert.equal(workers.made[1].posted[0].shaState, "shaState3");
  assert.deepEqual(s3.sent.map((s) => [s.part, s.checksum]), [[3, "saved3"]], "hashed before, never sent: not read again");
  assert.deepEqual(shown.slice(0, 3), [["starting", "Preparing…"], ["starting", "Checking the file matches the unfinished upload…"],
    ["uploading", ""]]);
  assert.equal(upload.status, "done");
});

test("resume plan: a sampled part that hashes differently now is a changed file; nothing is sent", async () => {
  const store = new MemoryStore();
  await store.put({ uploadId: "u1", hashedThrough: 2, crcState: "crcState2", shaState: "shaState2",
    partChecksums: { 1: "crc1", 2: "crc2" } });
  const workers = fakeWorkers({ verified: (n) => (n === 2 ? "edited" : `crc${n}`) });
  const { upload, s3 } = fakeUpload({ store, workers, api: unfinished({ 1: "crc1", 2: "crc2" }) });
  await upload.run();
  assert.deepEqual([upload.status, upload.message], ["changed", CHANGED]);
  assert.deepEqual(s3.sent, []);
  assert.deepEqual(workers.posted(), ["verify"]);
  assert.ok(ran(workers));
});

test("resume plan: a finished part the reader hashes differently is a changed file", async () => {
  const workers = fakeWorkers({ sums: (n) => (n === 1 ? "edited" : `crc${n}`) });
  const { upload, s3, api } = fakeUpload({ workers, api: unfinished({ 1: "crc1" }) });
  await upload.run();
  assert.deepEqual([upload.status, upload.message], ["changed", CHANGED]);
  assert.deepEqual(s3.sent, []);
  assert.ok(!api.names().includes("complete"));
});

test("hashing: a worker's error or crash fails the run with its message and stops both workers", async (t) => {
  t.mock.method(console, "error", () => {});
  for (const [workers, message] of [[fakeWorkers({ error: "sha" }), "sha worker out of memory"],
    [fakeWorkers({ crash: "crc" }), "hashing worker failed"]]) {
    const { upload, api } = fakeUpload({ workers });
    await upload.run();
    assert.deepEqual([upload.status, upload.message], ["failed", `Something went wrong: ${message}`]);
    assert.ok(ran(workers));
    assert.ok(!api.names().includes("complete"));
  }
});

test("send: stale credentials are refreshed once and the part signed again with the new ones", async () => {
  const s3 = fakeS3((part, attempt) => (part === 2 && attempt === 1 ? s3Error(400, "ExpiredToken") : { status: 200 }));
  const { upload, api } = fakeUpload({ s3 });
  const retries = [];
  upload.addEventListener("retry", (e) => retries.push(e.detail));
  await upload.run();
  assert.deepEqual(s3.sent.map((s) => [s.part, s.keyId]), [[1, "AKIA1"], [2, "AKIA1"], [2, "AKIA2"], [3, "AKIA2"]]);
  assert.deepEqual(retries, [{ part: 2, kind: "refresh", status: 400, code: "ExpiredToken" }]);
  assert.equal(api.names().filter((n) => n === "credentials").length, 2);
  assert.equal(upload.status, "done");
});

test("send: a 503 is tried again after a backoff", async () => {
  const s3 = fakeS3((part, attempt) => (part === 1 && attempt === 1 ? { status: 503 } : { status: 200 }));
  const { upload } = fakeUpload({ s3 });
  const retries = [];
  upload.addEventListener("retry", (e) => retries.push(e.detail));
  await upload.run();
  assert.deepEqual(retries, [{ part: 1, kind: "retry", status: 503, code: "", failures: 1 }]);
  assert.deepEqual(s3.parts(), [1, 1, 2, 3]);
  assert.equal(upload.status, "done");
});

test("send: what S3 refuses for good decides the row's state", async () => {
  const cases = [
    [s3Error(403, "AccessDenied"), "paused", "The storage service refused this upload's permission. Please reload the page and try again."],
    [s3Error(404, "NoSuchUpload"), "paused", "This upload was cancelled or expired on the server. Start it again."],
    [s3Error(400, "BadDigest"), "changed", CHANGED],
  ];
  for (const [answer, status, message] of cases) {
    const { upload, api } = fakeUpload({ s3: fakeS3(() => answer) });
    await upload.run();
    assert.deepEqual([upload.status, upload.message], [status, message]);
    assert.ok(!api.names().includes("complete"));
  }
});

test("send: a part that fails for good stops the others, even one waiting out a backoff", async () => {
  const s3 = fakeS3((part) => (part === 1 ? { status: 503 } : s3Error(400, "BadDigest")));
  const { upload } = fakeUpload({ s3, concurrency: 2, retryPolicy: { ...FAST_RETRY, baseMs: 200, capMs: 200 } });
  await upload.run();
  assert.equal(upload.status, "changed");
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(s3.parts().sort(), [1, 2], "part 1 is not sent again after its backoff");
});

test("send: pause stops sending, saves what was done, and Resume sends only the rest", async () => {
  const store = new MemoryStore();
  let paused;
  const s3 = fakeS3((part, attempt, signal) => {
    if (part !== 2 || paused) return { status: 200 };
    paused = new Promise((resolve) => signal.addEventListener("abort", () => resolve({ status: 0 })));
    upload.pause();
    return paused;
  });
  const { upload, api, workers } = fakeUpload({ store, s3, api: fakeApi({ parts: () => ({ parts: [{ number: 1, size: 4 }] }) }) });
  await upload.run();
  assert.deepEqual([upload.status, upload.message], ["paused", "Paused."]);
  const saved = await store.get("u1");
  assert.deepEqual([saved.doneParts, saved.hashedThrough, saved.crcState, saved.shaState], [[1], 3, "crcState3", "shaState3"]);
  assert.equal(upload.bytesDone(), 4);
  assert.ok(ran(workers));
  await upload.run();
  assert.equal(workers.made[2].posted[0].from, 4, "the file is not hashed again");
  assert.deepEqual(s3.parts(), [1, 2, 2, 3]);
  assert.deepEqual(s3.sent.slice(2).map((s) => s.checksum), ["crc2", "crc3"]);
  assert.deepEqual(api.names(), ["listUploads", "createUpload", "credentials", "parts", "complete"]);
  assert.equal(upload.status, "done");
});

test("finish: the complete request carries both checksums, after a last progress report", async () => {
  const store = new MemoryStore();
  const { upload, api } = fakeUpload({ store });
  await upload.run();
  const [last, complete] = api.calls.slice(-2);
  assert.deepEqual(last[0], "progress");
  assert.equal(last[2].bytes_done, 10);
  assert.deepEqual(complete, ["complete", "u1", { checksum_crc64nvme: "CRC-OF-FILE", checksum_sha256: "SHA-OF-FILE" }]);
  assert.equal(await store.get("u1"), null, "the resume record is dropped");
  assert.equal(upload.result.checksum_crc64nvme, "CRC-OF-FILE");
});

test("finish: a lost complete reply is asked again, and the upload is done", async () => {
  let replies = 0;
  const api = fakeApi({ complete: (id) => {
    if (replies++ === 0) throw new ApiError(0, "network", "The portal could not be reached. Check your connection.");
    return { id, status: "uploaded" };
  } });
  const { upload, s3, shown } = fakeUpload({ api });
  await upload.run();
  const completes = api.calls.filter(([n]) => n === "complete");
  assert.equal(completes.length, 2);
  assert.deepEqual(completes[1], completes[0]);
  assert.deepEqual(shown.slice(-2), [["completing", "Still finishing: checking with the portal that the file arrived…"], ["done", ""]]);
  assert.deepEqual(s3.parts(), [1, 2, 3]);
});

test("finish: after a complete that failed, Resume only asks to complete again", async () => {
  let replies = 0;
  const api = fakeApi({ complete: (id) => {
    if (replies++ === 0) throw new ApiError(409, "conflict", "Try again later.");
    return { id, status: "uploaded" };
  } });
  const { upload, s3, workers } = fakeUpload({ api });
  await upload.run();
  assert.deepEqual([upload.status, upload.message], ["failed", "Try again later."]);
  await upload.run();
  assert.equal(upload.status, "done");
  assert.deepEqual(api.names(), ["listUploads", "createUpload", "credentials", "complete", "complete"]);
  assert.deepEqual(s3.parts(), [1, 2, 3], "nothing sent again");
  assert.equal(workers.made.length, 2, "nothing hashed again");
});

test("send: every part attempt, a retry too, is admitted by the page's speed limit before it is signed", async () => {
  const admitted = [];
  const limiter = { admit: async (bytes) => admitted.push(bytes) };
  const s3 = fakeS3((part, attempt) => (part === 2 && attempt === 1 ? s3Error(503, "SlowDown") : { status: 200 }));
  const { upload } = fakeUpload({ s3, limiter, concurrency: 4 });
  await upload.run();
  assert.equal(upload.status, "done");
  assert.deepEqual(admitted.sort(), [2, 4, 4, 4], "parts of 4, 4 and 2 bytes, part 2 twice");
  assert.deepEqual(upload.controller.history.map(([, n, why]) => [n, why]), [[4, "start"], [2, "down"]],
    "SlowDown halved the parts in flight");
});

test("send: a pause while a part waits for the speed limit stops it before anything is sent", async () => {
  const { RateLimiter } = await import("../ratelimit.js");
  const limiter = new RateLimiter({ bytesPerSecond: 1, setTimer: () => 0, clearTimer: () => {} }); // never refills
  const { upload, s3 } = fakeUpload({ limiter });
  const running = upload.run();
  while (!limiter.waiting.length) await new Promise((r) => setTimeout(r, 1));
  upload.pause();
  await running;
  assert.deepEqual([upload.status, s3.sent.length, limiter.waiting.length], ["paused", 0, 0]);
});

test("sha256=false: one hashing worker, and the complete leaves the SHA-256 to the portal", async () => {
  const { upload, api, workers } = fakeUpload({ sha256: false });
  await upload.run();
  assert.equal(upload.status, "done");
  assert.equal(workers.made.length, 1, "one core free in Node's stand-in: one part worker");
  assert.deepEqual(workers.posted(), ["verify", "verify", "verify", "verify", "verify"].slice(0, upload.plan.partCount),
    "each part hashed on its own");
  const complete = api.calls.at(-1);
  assert.deepEqual(complete.slice(0, 2), ["complete", "u1"]);
  assert.equal(complete[2].checksum_sha256, null);
  assert.match(complete[2].checksum_crc64nvme, /^[A-Za-z0-9+/]{11}=$/, "combined from the part CRCs");
});

test("sha256=false: a saved state without a SHA-256 state is resumed from", async () => {
  const store = new MemoryStore();
  await store.put({ uploadId: "u1", hashedThrough: 3, crcState: "AAAAAAAAAAM=", shaState: null,
    partChecksums: { 1: "crc1", 2: "crc2", 3: "saved3" }, doneParts: [1, 2] });
  const { upload, s3, workers, api } = fakeUpload({ store, api: unfinished({ 1: "crc1", 2: null }), sha256: false });
  await upload.run();
  assert.equal(upload.plan.partCount, 3);
  assert.deepEqual(workers.made[0].posted.map((m) => [m.type, m.parts]), [["verify", [1, 2]]],
    "only the sampled finished parts are read: the saved state covers all three");
  assert.deepEqual(s3.sent.map((s) => [s.part, s.checksum]), [[3, "saved3"]]);
  assert.equal(api.calls.at(-1)[2].checksum_crc64nvme, "AAAAAAAAAAM=", "the saved whole-file CRC, continued");
  assert.equal(upload.status, "done");
});

test("a file that can no longer be read ends the run as 'failed' saying so, and nothing sent is lost", async () => {
  for (const err of [Object.assign(new Error("A requested file could not be found"), { name: "NotFoundError" }),
    Object.assign(new Error("The requested file could not be read"), { name: "NotReadableError" }),
    new TypeError("network error")]) {
    assert.deepEqual(stoppedBy(err), ["failed", FILE_UNREADABLE], err.name);
  }
  assert.equal(stoppedBy(new TypeError("x is undefined")), null, "a bug is not a vanished file");
  assert.equal(workerError({ name: "NotReadableError", message: "gone" }).name, "NotReadableError");

  // The send fails without an answer, and the file behind it can no longer be read.
  const file = makeFile();
  const gone = () => Promise.reject(Object.assign(new Error("A requested file could not be found"), { name: "NotFoundError" }));
  const vanishing = { size: file.size, name: file.name, lastModified: file.lastModified, type: file.type,
    slice: (a, b) => Object.assign(file.slice(a, b), { slice: () => ({ arrayBuffer: gone }) }) };
  const { upload, s3 } = fakeUpload({ file: vanishing, s3: fakeS3(() => ({ status: 0 })) });
  await upload.run();
  assert.deepEqual([upload.status, upload.message], ["failed", FILE_UNREADABLE]);
  assert.equal(s3.sent.length, 1, "not retried against a file that is gone");
});
