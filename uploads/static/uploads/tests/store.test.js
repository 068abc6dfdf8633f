import assert from "node:assert/strict";
import { test } from "node:test";
import { Heartbeat } from "../heartbeat.js";
import { ConnectionBudget, PartPool } from "../queue.js";
import { MemoryStore, ThrottledWriter, toRecord } from "../store.js";

test("credentials never reach the state store", async () => {
  const store = new MemoryStore();
  await store.put({ uploadId: "u1", hashedThrough: 3, accessKeyId: "AKIA", secretAccessKey: "s", sessionToken: "t",
    credentials: { secretAccessKey: "s" } });
  const got = await store.get("u1");
  assert.equal(got.hashedThrough, 3);
  assert.deepEqual(Object.keys(got).sort(), ["hashedThrough", "uploadId"]);
  assert.ok(!JSON.stringify(toRecord({ uploadId: "x", secretAccessKey: "s" })).includes("s\""));
});

test("the store lists every saved upload, with the project and the file's handle it was saved with", async () => {
  const store = new MemoryStore();
  await store.put({ uploadId: "u1", projectId: 7, name: "a.dmp", handle: { kind: "file", name: "a.dmp" }, sessionToken: "t" });
  await store.put({ uploadId: "u2", projectId: 8, name: "b.dmp" });
  const all = await store.list();
  assert.deepEqual(all.map((r) => [r.uploadId, r.projectId, r.handle?.name ?? null]), [["u1", 7, "a.dmp"], ["u2", 8, null]]);
  assert.ok(all.every((r) => !("sessionToken" in r)));
});

test("state writes are coalesced: the latest snapshot wins", async () => {
  const store = new MemoryStore();
  let writes = 0;
  const orig = store.put.bind(store);
  store.put = async (s) => {
    writes++;
    return orig(s);
  };
  const w = new ThrottledWriter(store, { intervalMs: 50 });
  for (let i = 1; i <= 100; i++) w.schedule({ uploadId: "u", hashedThrough: i });
  await w.flush();
  assert.equal(writes, 1);
  assert.equal((await store.get("u")).hashedThrough, 100);
});

test("progress goes to the portal at most once per interval, with unreported part checksums", async () => {
  let t = 0;
  const sent = [];
  const hb = new Heartbeat(async (b) => {
    sent.push(b);
    return { accepted: true, retry_after: 30 };
  }, { intervalMs: 30_000, now: () => t });
  hb.partDone(1, "c1");
  assert.equal(await hb.tick(10), true);
  hb.partDone(2, "c2");
  for (let i = 0; i < 50; i++) {
    t += 500;
    await hb.tick(20 + i);
  }
  assert.equal(sent.length, 1);
  t = 30_000;
  await hb.tick(99);
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1], { bytes_done: 99, parts: [{ number: 2, checksum_crc64nvme: "c2" }] });
});

test("the part pool keeps at most `concurrency` parts in flight and caps it at 6", async () => {
  let active = 0;
  let peak = 0;
  const pool = new PartPool(async () => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 2));
    active--;
  }, { concurrency: 4 });
  for (let n = 1; n <= 20; n++) pool.push(n);
  pool.close();
  await pool.done();
  assert.equal(peak, 4);
  assert.equal(new PartPool(async () => {}, { concurrency: 50 }).concurrency, 6);
});

test("files on one page share six connections: two pools of 5 never have more than 6 parts in flight", async () => {
  const budget = new ConnectionBudget();
  let active = 0;
  let peak = 0;
  const perPool = [0, 0];
  const pools = [0, 1].map((k) => new PartPool(async () => {
    active++;
    perPool[k]++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 1 + k));
    active--;
  }, { concurrency: 5, budget }));
  for (const pool of pools) for (let n = 1; n <= 30; n++) pool.push(n);
  for (const pool of pools) pool.close();
  await Promise.all(pools.map((p) => p.done()));
  assert.equal(peak, 6);
  assert.deepEqual(perPool, [30, 30]);
  assert.equal(budget.inUse, 0);
  assert.equal(budget.waiting.size, 0);
});

test("a failed pool gives its slots back to the page's other files", async () => {
  const budget = new ConnectionBudget({ max: 2 });
  const runs = [];
  const failing = new PartPool((n) => {
    const run = new Promise((r) => setTimeout(r, n)).then(() => {
      throw new Error("refused");
    });
    runs.push(run.catch(() => {}));
    return run;
  }, { concurrency: 2, budget });
  let ran = 0;
  const other = new PartPool(async () => {
    ran++;
  }, { concurrency: 2, budget });
  for (let n = 1; n <= 4; n++) failing.push(n);
  for (let n = 1; n <= 4; n++) other.push(n);
  other.close();
  await assert.rejects(failing.done(), /refused/);
  await other.done();
  await Promise.all(runs); // the failed file's other part in flight ends too
  await new Promise((r) => setImmediate(r));
  assert.equal(ran, 4);
  assert.equal(budget.inUse, 0);
});
