import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../api.js";
import { completeWithRetry, Connectivity, sendWithRetry, UploadStopped } from "../queue.js";
import { backoffDelay, classify } from "../retry.js";

const xml = (code) => `<?xml version="1.0"?><Error><Code>${code}</Code><Message>m</Message></Error>`;

test("transient failures are retried, credential failures refreshed, the rest fatal", () => {
  assert.equal(classify(200), "ok");
  assert.equal(classify(0), "retry");
  for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(classify(s), "retry", String(s));
  assert.equal(classify(503, xml("SlowDown")), "retry");
  assert.equal(classify(400, xml("RequestTimeout")), "retry");
  assert.equal(classify(400, xml("ExpiredToken")), "refresh");
  assert.equal(classify(403, xml("AccessDenied")), "refresh");
  assert.equal(classify(404, xml("NoSuchUpload")), "gone");
  assert.equal(classify(400, xml("InvalidPart")), "fatal");
  assert.equal(classify(400, xml("BadDigest")), "changed");
});

test("backoff grows exponentially, is capped, and is jittered within half the window", () => {
  const lo = (a) => backoffDelay(a, { baseMs: 500, capMs: 30_000, random: () => 0 });
  const hi = (a) => backoffDelay(a, { baseMs: 500, capMs: 30_000, random: () => 0.999999 });
  assert.equal(lo(1), 250);
  assert.equal(lo(2), 500);
  assert.equal(lo(3), 1000);
  assert.ok(hi(3) > 1999 && hi(3) < 2000);
  assert.equal(lo(20), 15_000);
  assert.ok(hi(20) < 30_000);
});

class FakeCreds {
  constructor() {
    this.gen = 1;
    this.refreshes = 0;
  }
  async get() {
    return { generation: this.gen };
  }
  async invalidate() {
    this.refreshes++;
    this.gen++;
  }
}

const online = { online: true, waitOnline: async () => {} };

function scripted(answers) {
  const seen = [];
  const attempt = async (creds) => {
    seen.push(creds.generation);
    return answers.shift();
  };
  return { attempt, seen };
}

test("503 SlowDown and network errors are retried with growing waits until S3 accepts", async () => {
  const { attempt } = scripted([{ status: 503, body: xml("SlowDown") }, { status: 0 }, { status: 500 }, { status: 200, etag: '"x"' }]);
  const waits = [];
  const res = await sendWithRetry(attempt, { credentials: new FakeCreds(), connectivity: online, random: () => 0,
    wait: async (ms) => waits.push(ms) });
  assert.equal(res.etag, '"x"');
  assert.deepEqual(waits, [250, 500, 1000]);
});

test("ExpiredToken gets exactly one refresh, then the retry uses the new credentials", async () => {
  const creds = new FakeCreds();
  const { attempt, seen } = scripted([{ status: 400, body: xml("ExpiredToken") }, { status: 200 }]);
  await sendWithRetry(attempt, { credentials: creds, connectivity: online, wait: async () => {} });
  assert.equal(creds.refreshes, 1);
  assert.deepEqual(seen, [1, 2]);
});

test("a second 403 after a refresh stops the part instead of looping", async () => {
  const { attempt } = scripted([{ status: 403, body: xml("AccessDenied") }, { status: 403, body: xml("AccessDenied") }]);
  await assert.rejects(
    sendWithRetry(attempt, { credentials: new FakeCreds(), connectivity: online, wait: async () => {} }),
    (e) => e instanceof UploadStopped && e.code === "denied",
  );
});

test("a part S3 refuses with BadDigest stops the upload as a changed file, without retrying", async () => {
  const { attempt, seen } = scripted([{ status: 400, body: xml("BadDigest") }, { status: 200 }]);
  await assert.rejects(
    sendWithRetry(attempt, { credentials: new FakeCreds(), connectivity: online, wait: async () => {} }),
    (e) => e instanceof UploadStopped && e.code === "file_changed",
  );
  assert.equal(seen.length, 1);
});

test("after maxAttempts failures the upload pauses with a message", async () => {
  const { attempt } = scripted(Array.from({ length: 5 }, () => ({ status: 503 })));
  await assert.rejects(
    sendWithRetry(attempt, { credentials: new FakeCreds(), connectivity: online, wait: async () => {},
      policy: { maxAttempts: 3, baseMs: 1, capMs: 2, offlinePauseMs: 1000 } }),
    (e) => e.code === "network" && /Resume/.test(e.message),
  );
});

test("while offline the part waits for `online` without spending attempts", async () => {
  const target = new EventTarget();
  const nav = { onLine: true };
  const conn = new Connectivity(target, nav);
  let calls = 0;
  const attempt = async () => {
    calls++;
    if (calls <= 3) {
      nav.onLine = false; // the request died because the network went away
      setTimeout(() => {
        nav.onLine = true;
        target.dispatchEvent(new Event("online"));
      }, 5);
      return { status: 0 };
    }
    return { status: 200 };
  };
  const res = await sendWithRetry(attempt, { credentials: new FakeCreds(), connectivity: conn,
    policy: { maxAttempts: 2, baseMs: 1, capMs: 1, offlinePauseMs: 1000 }, wait: async () => assert.fail("no backoff while offline") });
  assert.equal(res.status, 200);
  assert.equal(calls, 4);
});

test("a long outage pauses the upload with a clear message", async () => {
  const conn = new Connectivity(new EventTarget(), { onLine: false });
  await assert.rejects(conn.waitOnline(20), (e) => e.code === "offline" && /paused/.test(e.message));
});

test("complete is asked again after a lost reply or while another complete runs, then answers", async () => {
  const answers = [new ApiError(0, "network", "x"), new ApiError(504, "http_504", "x"),
    new ApiError(409, "already_completing", "x"), { status: "uploaded" }];
  const waits = [];
  let retries = 0;
  const result = await completeWithRetry(async () => {
    const a = answers.shift();
    if (a instanceof Error) throw a;
    return a;
  }, { wait: async (ms) => waits.push(ms), random: () => 0, onRetry: () => retries++ });
  assert.deepEqual(result, { status: "uploaded" });
  assert.equal(retries, 3);
  assert.deepEqual(waits, [250, 500, 1000]);
});

test("a definite refusal of complete is not asked again, and asking stops after the time limit", async () => {
  let calls = 0;
  const refused = new ApiError(409, "checksum_mismatch", "changed");
  await assert.rejects(completeWithRetry(async () => {
    calls++;
    throw refused;
  }, { wait: async () => {} }), refused);
  assert.equal(calls, 1);

  let clock = 0;
  calls = 0;
  const lost = new ApiError(0, "network", "x");
  await assert.rejects(completeWithRetry(async () => {
    calls++;
    throw lost;
  }, { wait: async (ms) => (clock += ms), now: () => clock, random: () => 0,
    policy: { baseMs: 1000, capMs: 60_000, completeForMs: 10_000 } }), lost);
  // Asked at 0, 0.5, 1.5, 3.5, 7.5 and 15.5 s; the last is past the 10 s limit, so it gives up.
  assert.equal(calls, 6);
});
