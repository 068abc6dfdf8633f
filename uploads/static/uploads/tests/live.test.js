import assert from "node:assert/strict";
import { test } from "node:test";
import { LivePage } from "../live.js";
import { detailText } from "../status.js";

// A stand-in page: sections with innerHTML, verification badges, a focus, a fake clock.
function fakePage({ sections = {}, badges = {} } = {}) {
  const els = Object.entries(sections).map(([name, html]) => ({
    dataset: { liveSection: name },
    innerHTML: html,
    contains: (x) => x === focusInside[name],
  }));
  const badgeEls = Object.entries(badges).map(([id, text]) => ({ dataset: { verification: id }, textContent: text, className: "" }));
  const focusInside = {};
  const root = {
    dataset: { liveUrl: "/projects/1/live", pollSeconds: "10" },
    querySelectorAll: (sel) => (sel === "[data-live-section]" ? els : badgeEls),
  };
  const timers = [];
  const listeners = {};
  const doc = { hidden: false, activeElement: null, addEventListener: (t, fn) => (listeners[t] = fn) };
  return { els, badgeEls, focusInside, root, doc, timers, listeners,
    setTimer: (fn, ms) => timers.push({ fn, ms }) && timers.length, clearTimer: () => {} };
}

const reply = (body, status = 200) => async () => ({ ok: status < 400, status, redirected: false, json: async () => body });

test("changed sections are swapped in, unchanged ones and the one holding focus are left alone", async () => {
  const p = fakePage({ sections: { space: "0 B of 1.0 GiB", completed: "none", activity: "old" } });
  const focus = {};
  p.focusInside.activity = focus;
  p.doc.activeElement = focus;
  const live = new LivePage(p.root, { ...p, fetchFn: reply({ sections: { space: "5.0 MiB of 1.0 GiB", completed: "none", activity: "new" }, unsettled: true }) });
  await live.refresh();
  assert.deepEqual(p.els.map((e) => e.innerHTML), ["5.0 MiB of 1.0 GiB", "none", "old"]);
  p.doc.activeElement = null;
  await live.refresh();
  assert.equal(p.els[2].innerHTML, "new");
});

test("verification shows as it happens, in words, with the reason when it fails", async () => {
  const p = fakePage({ badges: { a: "Uploaded, verifying soon", b: "Uploaded, verifying soon" } });
  const live = new LivePage(p.root, { ...p, fetchFn: reply({ uploads: {
    a: { status: "verified", label: "Verified" },
    b: { status: "failed", label: "Failed", reason: "The stored file has 3 bytes; the file had 4." },
  } }) });
  await live.refresh();
  assert.equal(p.badgeEls[0].textContent, "Verified");
  assert.equal(p.badgeEls[1].textContent, "Verification failed: The stored file has 3 bytes; the file had 4.");
  assert.equal(p.badgeEls[1].className, "badge status-failed");
});

test("it polls at its interval while something changes, four times slower when nothing does, and backs off on errors", async () => {
  const p = fakePage();
  let body = { unsettled: true };
  let status = 200;
  const live = new LivePage(p.root, { ...p, fetchFn: async () => ({ ok: status < 400, status, redirected: false, json: async () => body }) });
  await live.refresh();
  assert.equal(p.timers.at(-1).ms, 10_000);
  body = { unsettled: false };
  await live.refresh();
  assert.equal(p.timers.at(-1).ms, 40_000);
  status = 502;
  await live.refresh();
  await live.refresh();
  assert.equal(p.timers.at(-1).ms, 40_000); // 10 s doubled twice
  status = 403; // signed out: stop
  const before = p.timers.length;
  await live.refresh();
  assert.equal(live.stopped, true);
  assert.equal(p.timers.length, before);
});

test("a hidden tab does not poll", async () => {
  const p = fakePage();
  let calls = 0;
  p.doc.hidden = true;
  const live = new LivePage(p.root, { ...p, fetchFn: async () => { calls++; return { ok: true, status: 200, json: async () => ({}) }; } });
  await live.refresh();
  assert.equal(calls, 0);
});

test("a row never repeats its state word", () => {
  assert.equal(detailText("paused", "Paused."), "");
  assert.equal(detailText("starting", "Preparing…"), "");
  assert.equal(detailText("completing", "Finishing…"), "");
  assert.equal(detailText("paused", "The connection has been down for a while."), "The connection has been down for a while.");
  assert.equal(detailText("refused", "This project accepts only these file types: dmp."), "This project accepts only these file types: dmp.");
});
