import assert from "node:assert/strict";
import { test } from "node:test";
import { amzDate, CredentialSource, CredentialsError } from "../credentials.js";

const T0 = Date.parse("2026-11-24T12:00:00Z");

function portal({ clock, skewMs = 0, lifetimeS = 900 }) {
  const calls = [];
  const fetch = async () => {
    const server = clock.t + skewMs;
    calls.push(server);
    return {
      access_key_id: `AK${calls.length}`, secret_access_key: "s", session_token: "t",
      expiration: new Date(server + lifetimeS * 1000).toISOString(), server_time: new Date(server).toISOString(),
      region: "us-east-1", endpoint: "http://127.0.0.1:5000", bucket: "b", key: "k",
    };
  };
  return { fetch, calls };
}

test("credentials are reused until the margin before expiry, then refreshed ahead of time", async () => {
  const clock = { t: T0 };
  const p = portal({ clock });
  const src = new CredentialSource(p.fetch, { now: () => clock.t, marginMs: 5 * 60_000 });
  assert.equal((await src.get()).accessKeyId, "AK1");
  clock.t += 9 * 60_000; // 6 minutes left of 15
  assert.equal((await src.get()).accessKeyId, "AK1");
  clock.t += 61_000; // under 5 minutes left: refresh before they expire, not on failure
  assert.equal((await src.get()).accessKeyId, "AK2");
  assert.equal(p.calls.length, 2);
});

test("short-lived credentials use a third of their life as the margin", async () => {
  const clock = { t: T0 };
  const p = portal({ clock, lifetimeS: 60 });
  const src = new CredentialSource(p.fetch, { now: () => clock.t, marginMs: 5 * 60_000 });
  await src.get();
  clock.t += 39_000;
  assert.equal((await src.get()).accessKeyId, "AK1");
  clock.t += 2_000;
  assert.equal((await src.get()).accessKeyId, "AK2");
});

test("a local clock 20 minutes slow still signs with the portal's time and refreshes on time", async () => {
  const clock = { t: T0 - 20 * 60_000 };
  const p = portal({ clock, skewMs: 20 * 60_000 });
  const src = new CredentialSource(p.fetch, { now: () => clock.t });
  await src.get();
  assert.equal(src.amzDate(), "20261124T120000Z");
  assert.equal(amzDate(clock.t), "20261124T114000Z");
  clock.t += 11 * 60_000;
  assert.equal((await src.get()).accessKeyId, "AK2");
});

test("parallel parts share one refresh, and one ExpiredToken refreshes once", async () => {
  const clock = { t: T0 };
  const p = portal({ clock });
  const src = new CredentialSource(p.fetch, { now: () => clock.t });
  const all = await Promise.all([src.get(), src.get(), src.get()]);
  assert.equal(p.calls.length, 1);
  const used = all[0];
  await Promise.all([src.invalidate(used), src.invalidate(used)]);
  assert.equal(p.calls.length, 2);
  await src.invalidate(used); // stale report about old credentials: no new refresh
  assert.equal(p.calls.length, 2);
});

test("a failed refresh is retried with backoff; a refusal is not", async () => {
  const clock = { t: T0 };
  const p = portal({ clock });
  let failures = 2;
  const waits = [];
  const flaky = async () => {
    if (failures-- > 0) throw new Error("502");
    return p.fetch();
  };
  const src = new CredentialSource(flaky, { now: () => clock.t, wait: async (ms) => waits.push(ms), random: () => 0 });
  assert.equal((await src.get()).accessKeyId, "AK1");
  assert.equal(waits.length, 2);
  assert.ok(waits[1] > waits[0]);

  let asked = 0;
  const refused = async () => {
    asked++;
    throw new CredentialsError("not active", { code: "upload_not_active", fatal: true });
  };
  const src2 = new CredentialSource(refused, { wait: async () => {} });
  await assert.rejects(src2.get(), (e) => e.code === "upload_not_active");
  assert.equal(asked, 1);
});
