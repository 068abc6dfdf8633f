// Keeps the project page true while it is open: asks the portal for the page's changing
// sections (space used, uploads in progress, completed uploads, activity) and swaps in the
// ones that changed, and shows each finished upload's verification as it happens. Polls often
// only while something is still changing, pauses while the tab is hidden, and is asked to look
// at once when an upload on this page finishes (the "uploads:changed" event).

const MAX_BACKOFF_MS = 5 * 60_000;

export class LivePage {
  constructor(root, { fetchFn = (...a) => globalThis.fetch(...a), doc = document,
    setTimer = (fn, ms) => setTimeout(fn, ms), clearTimer = (t) => clearTimeout(t) } = {}) {
    Object.assign(this, { root, fetchFn, doc, setTimer, clearTimer });
    this.url = root.dataset.liveUrl;
    this.intervalMs = Number(root.dataset.pollSeconds || 10) * 1000;
    this.unsettled = true;
    this.failures = 0;
    this.timer = null;
    this.stopped = false;
    this.sections = new Map();
    for (const el of root.querySelectorAll("[data-live-section]")) this.sections.set(el.dataset.liveSection, el);
    this.last = new Map([...this.sections].map(([name, el]) => [name, el.innerHTML.trim()]));
  }

  start() {
    this.doc.addEventListener("uploads:changed", () => this.soon(500));
    this.doc.addEventListener("visibilitychange", () => {
      if (!this.doc.hidden) this.soon(0);
    });
    this.schedule();
  }

  /** Poll in `ms`, unless a poll is due sooner anyway. */
  soon(ms) {
    if (this.stopped) return;
    this.clearTimer(this.timer);
    this.timer = this.setTimer(() => this.refresh(), ms);
  }

  schedule() {
    if (this.stopped) return;
    const busy = this.unsettled || globalThis.uploader?.manager?.active;
    let ms = busy ? this.intervalMs : this.intervalMs * 4;
    if (this.failures) ms = Math.min(MAX_BACKOFF_MS, this.intervalMs * 2 ** this.failures);
    this.soon(ms);
  }

  async refresh() {
    if (this.doc.hidden) return; // visibilitychange polls again when the tab is shown
    try {
      const res = await this.fetchFn(this.url, { credentials: "same-origin", cache: "no-store",
        headers: { Accept: "application/json" } });
      if (res.status === 401 || res.status === 403 || res.status === 404 || res.redirected) {
        this.stopped = true; // signed out or access removed: the next navigation says why
        return;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.apply(await res.json());
      this.failures = 0;
    } catch {
      this.failures = Math.min(this.failures + 1, 10);
    }
    this.schedule();
  }

  apply({ sections = {}, uploads = {}, unsettled = false }) {
    this.unsettled = unsettled;
    for (const [name, html] of Object.entries(sections)) {
      const el = this.sections.get(name);
      const fresh = html.trim();
      if (!el || this.last.get(name) === fresh) continue;
      // Never pull the section out from under a keyboard user's focus: it is swapped on the
      // next poll after focus leaves.
      if (el.contains(this.doc.activeElement)) continue;
      el.innerHTML = fresh;
      this.last.set(name, fresh);
    }
    for (const row of this.root.querySelectorAll("[data-verification]")) {
      const info = uploads[row.dataset.verification];
      if (!info) continue;
      const text = info.status === "failed" ? `Verification failed: ${info.reason || "see the completed list"}` : info.label;
      if (row.textContent !== text) row.textContent = text;
      row.className = `badge status-${info.status}`;
    }
    for (const code of this.root.querySelectorAll("[data-sha256-for]")) {
      const sha = uploads[code.dataset.sha256For]?.sha256;
      if (sha && code.textContent !== sha) code.textContent = sha;
    }
  }
}

const root = globalThis.document?.getElementById("project-live");
if (root?.dataset.liveUrl) {
  window.livePage = new LivePage(root);
  window.livePage.start();
}
