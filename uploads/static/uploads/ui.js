// The uploader's page UI: drop zone and pickers, one row per file with <progress>, speed and
// time left, an overall bar, pause/resume/cancel, an aria-live status line and a warning on
// leaving mid-upload. Rows are repainted on a timer, not per progress event, so hundreds of
// queued files do not freeze the page.

import { humanDuration, humanRate, humanSize, SpeedMeter } from "./format.js";
import { filesFromDataTransfer } from "./drop.js";
import { parseLimit, STORAGE_KEY } from "./ratelimit.js";
import { DISMISSIBLE, detailText, OUT_OF_TOTAL, STATUS_TEXT } from "./status.js";
import { FileUpload, UploadManager } from "./uploader.js";

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

export class UploaderUI {
  constructor(root, { api, store, projectId, options = {} }) {
    Object.assign(this, { root, api, store, projectId, options });
    this.manager = new UploadManager();
    this.rows = new Map();
    this.list = root.querySelector("[data-list]");
    this.status = root.querySelector("[data-status]");
    this.overall = root.querySelector("[data-overall]");
    this.overallText = root.querySelector("[data-overall-text]");
    this.completed = root.querySelector("[data-completed]");
    // Bytes of files finished on this page (their rows move to the completed list).
    this.doneBytes = 0;
    this._bind();
    this._bindSpeedLimit();
    // Files picked before this module ran (a slow connection, a quick customer) fired their
    // `change` with no one listening: take them now.
    for (const input of root.querySelectorAll("input[type=file]")) {
      if (input.files.length) input.dispatchEvent(new Event("change"));
    }
    this._offerContinue();
    setInterval(() => this.paint(), 500);
    window.addEventListener("beforeunload", (e) => {
      if (this.manager.active) {
        e.preventDefault();
        e.returnValue = "";
      }
    });
  }

  _bind() {
    for (const button of this.root.querySelectorAll("[data-pick]")) {
      const input = this.root.querySelector(button.dataset.pick === "folder" ? "[data-folder]" : "[data-files]");
      button.addEventListener("click", () => input.click());
      // Chromium opens no file chooser for a click that Enter's keydown makes (Space's, made
      // on keyup, works): open it on Enter's keyup instead.
      button.addEventListener("keydown", (e) => {
        if (e.key === "Enter") e.preventDefault();
      });
      button.addEventListener("keyup", (e) => {
        if (e.key === "Enter") input.click();
      });
    }
    // A file dropped anywhere else would be opened by the browser in this tab, ending every
    // upload on the page.
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => {
      e.preventDefault();
      if (!e.target.closest?.("[data-dropzone]")) this.say("Drop files on the “Upload files” area to upload them.");
    });
    const zone = this.root.querySelector("[data-dropzone]");
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", (e) => {
      if (!zone.contains(e.relatedTarget)) zone.classList.remove("over");
    });
    zone.addEventListener("drop", async (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      this.addFiles(await filesFromDataTransfer(e.dataTransfer));
    });
    for (const input of this.root.querySelectorAll("input[type=file]")) {
      input.addEventListener("change", () => {
        this.addFiles([...input.files].map((file) => ({ file, relativePath: file.webkitRelativePath || "" })));
        input.value = "";
      });
    }
    window.addEventListener("offline", () => this.say("You are offline. Uploads will continue when the connection is back."));
    window.addEventListener("online", () => {
      const paused = this.manager.uploads.some((u) => u.status === "paused");
      this.say(paused && !this.manager.active ? "Back online. Press Resume to continue the paused uploads." : "Back online. Uploads continue.");
    });
  }

  /** "Use at most N Mbit/s": the page's one limiter, set as the customer types, kept in localStorage. */
  _bindSpeedLimit() {
    const input = this.root.querySelector("[data-speed-limit]");
    if (!input) return;
    const storage = (() => {
      try {
        return window.localStorage;
      } catch {
        return null; // storage refused (private modes, policies): the limit lasts for this page only
      }
    })();
    try {
      const saved = storage?.getItem(STORAGE_KEY);
      if (saved && parseLimit(saved)) input.value = saved;
    } catch {
      // ignore an unreadable entry
    }
    const apply = () => {
      const rate = parseLimit(input.value);
      this.manager.limiter.setRate(rate);
      try {
        if (rate) storage?.setItem(STORAGE_KEY, input.value.trim());
        else storage?.removeItem(STORAGE_KEY);
      } catch {
        // full or refused: the limit still holds on this page
      }
      return rate;
    };
    apply();
    input.addEventListener("input", apply);
    input.addEventListener("change", () => {
      const rate = apply();
      this.say(rate ? `Uploads on this page now use at most ${input.value.trim()} Mbit/s.` : "Uploads on this page have no speed limit.");
    });
  }

  say(text) {
    this.status.textContent = text;
  }

  /**
   * Unfinished uploads of this project whose file this browser holds a handle to (dropped in
   * Chromium on an earlier page): a "Continue" row each, so the customer grants access
   * instead of finding the file again. The usual resume checks run once the file is read.
   */
  async _offerContinue() {
    let records;
    let open;
    try {
      records = (await this.store.list?.() ?? []).filter((r) => r.handle && r.projectId === this.projectId);
      if (!records.length) return;
      open = new Set((await this.api.listUploads(this.projectId, "in_progress")).uploads.map((u) => u.id));
    } catch {
      return; // nothing to offer: picking the file again still resumes it
    }
    for (const record of records) {
      if (!open.has(record.uploadId)) continue;
      const label = record.relativePath || record.name;
      const button = el("button", { type: "button", class: "continue" }, "Continue");
      const li = el("li", { class: "continue-row", "data-name": label },
        el("span", { class: "name" }, label), " ", el("span", { class: "size muted" }, humanSize(record.size)), " ",
        el("span", { class: "detail muted" }, "Unfinished: continue where it stopped, without choosing the file again."),
        " ", button);
      button.addEventListener("click", () => this._continue(record, li, button));
      this.list.append(li);
    }
  }

  async _continue(record, li, button) {
    const label = record.relativePath || record.name;
    button.disabled = true;
    try {
      // The browser asks the customer again after a restart; a reload keeps the grant.
      let permission = await record.handle.queryPermission({ mode: "read" });
      if (permission !== "granted") permission = await record.handle.requestPermission({ mode: "read" });
      if (permission !== "granted") {
        this.say(`${label}: reading it was not allowed. Choose the file again to continue.`);
        button.disabled = false;
        return;
      }
      const file = await record.handle.getFile();
      li.remove();
      this.addFiles([{ file, relativePath: record.relativePath || "", handle: record.handle }]);
    } catch {
      // NotFoundError and the like: moved, renamed or deleted since.
      this.say(`${label} could not be opened (moved, renamed or deleted?). Choose it again to continue.`);
      button.disabled = false;
    }
  }

  addFiles(items) {
    const batchId = items.length > 1 ? crypto.randomUUID() : null;
    for (const { file, relativePath, handle = null } of items) {
      // The same file chosen by hand: its "Continue" offer is this upload now.
      for (const row of this.list.querySelectorAll("li.continue-row")) {
        if (row.dataset.name === (relativePath || file.name)) row.remove();
      }
      const u = new FileUpload({ file, relativePath, projectId: this.projectId, api: this.api, store: this.store, batchId,
        limiter: this.manager.limiter, budget: this.manager.connections, handle, ...this.options });
      this._row(u);
      u.addEventListener("change", () => this._onChange(u));
      u.addEventListener("retry", (e) => console.warn("retrying part", JSON.stringify(e.detail)));
      this.manager.add(u);
    }
    this.say(`${items.length} file${items.length === 1 ? "" : "s"} added.`);
  }

  _row(u) {
    const label = u.relativePath || u.file.name;
    const bar = el("progress", { max: String(u.size || 1), value: "0", "aria-label": `Progress of ${label}` });
    const state = el("span", { class: "state" }, "Waiting");
    const detail = el("span", { class: "detail muted" });
    const pause = el("button", { type: "button", class: "pause", onclick: () => this._toggle(u) }, "Pause");
    const cancel = el("button", { type: "button", class: "cancel", onclick: () => u.cancel() }, "Cancel");
    const again = el("button", { type: "button", class: "restart", hidden: "", onclick: () => this.manager.start(u, () => u.restart()) }, "Start again");
    const dismiss = el("button", { type: "button", class: "dismiss secondary", hidden: "", "aria-label": `Dismiss ${label}`,
      onclick: () => this._dismiss(u) }, "Dismiss");
    const li = el("li", { class: "upload-row", "data-name": label },
      el("span", { class: "name" }, label), " ", el("span", { class: "size muted" }, humanSize(u.size)),
      bar, state, " ", detail, " ", pause, cancel, again, dismiss);
    li.refs = { bar, state, detail, pause, cancel, again, dismiss, meter: new SpeedMeter() };
    this.rows.set(u, li);
    this.list.append(li);
  }

  _dismiss(u) {
    const li = this.rows.get(u);
    const next = li.nextElementSibling?.querySelector("button:not([hidden])") || this.root.querySelector("[data-pick]");
    li.remove();
    this.rows.delete(u);
    this.manager.uploads = this.manager.uploads.filter((x) => x !== u);
    next?.focus();
    this.paint();
  }

  _toggle(u) {
    if (u.status === "paused" || u.status === "failed") this.manager.start(u);
    else u.pause();
  }

  _onChange(u) {
    const li = this.rows.get(u);
    if (!li) return;
    const before = li.dataset.status;
    li.dataset.status = u.status;
    const { state, pause, cancel, again, dismiss, detail } = li.refs;
    state.textContent = STATUS_TEXT[u.status] || u.status;
    li.classList.toggle("error", ["failed", "refused", "changed"].includes(u.status));
    pause.textContent = u.status === "paused" || u.status === "failed" ? "Resume" : "Pause";
    pause.hidden = ["done", "cancelled", "changed", "duplicate", "completing", "refused"].includes(u.status);
    cancel.hidden = ["done", "cancelled", "completing", "refused"].includes(u.status);
    again.hidden = !["changed", "duplicate"].includes(u.status);
    again.textContent = u.status === "duplicate" ? "Upload again" : "Start again";
    dismiss.hidden = !DISMISSIBLE.includes(u.status);
    detail.textContent = u.status === "uploading" ? detail.textContent : detailText(u.status, u.message);
    const label = u.relativePath || u.file.name;
    if (u.status === "done") {
      li.remove();
      this.rows.delete(u);
      this.doneBytes += u.size;
      const id = u.upload?.id || u.result?.id || "";
      const verification = el("span", { class: "badge status-uploaded", "data-verification": id }, "Uploaded, verifying soon");
      this.completed.append(el("li", { class: "completed-row", "data-name": label, "data-upload-id": id },
        `${label} · ${humanSize(u.size)} · `, verification,
        ` · CRC64NVME ${u.result?.checksum_crc64nvme || u.final?.crc64nvme} · SHA-256 `,
        // Left to the portal: live.js fills it in once the portal has recomputed it.
        u.final?.sha256 ? el("code", {}, u.final.sha256)
          : el("code", { "data-sha256-for": id, title: "The portal computes it from the stored file as it verifies it." },
            "computed by the portal as it verifies the file")));
      this.say(`${label} is uploaded; the portal is verifying it.`);
      document.dispatchEvent(new CustomEvent("uploads:changed"));
    } else if (["paused", "failed", "refused", "changed", "duplicate", "cancelled"].includes(u.status)) {
      this.say(`${label}: ${u.message || STATUS_TEXT[u.status]}`);
      if (u.status === "cancelled") document.dispatchEvent(new CustomEvent("uploads:changed"));
    } else if (["starting", "uploading"].includes(u.status) && ["paused", "failed"].includes(before)) {
      this.say(`${label}: uploading again.`);
    }
    this.paint();
  }

  paint() {
    const now = performance.now();
    const online = navigator.onLine !== false;
    let total = this.doneBytes;
    let done = this.doneBytes;
    let rate = 0;
    let sending = false;
    for (const [u, li] of this.rows) {
      if (OUT_OF_TOTAL.includes(u.status)) continue;
      const b = u.bytesDone();
      total += u.size;
      done += b;
      const { bar, detail, meter } = li.refs;
      bar.value = b;
      if (u.status !== "uploading") {
        meter.reset();
        continue;
      }
      sending = true;
      if (!online) {
        meter.reset();
        detail.textContent = `${humanSize(b)} of ${humanSize(u.size)} · waiting for a connection`;
        continue;
      }
      meter.add(now, b);
      const r = meter.rate();
      rate += r;
      detail.textContent = `${humanSize(b)} of ${humanSize(u.size)}${r ? ` · ${humanRate(r)} · ${humanDuration((u.size - b) / r)} left` : ""}`;
    }
    this.overall.max = total || 1;
    this.overall.value = done;
    let tail = "";
    if (sending && !online) tail = " · waiting for a connection";
    else if (sending && rate) tail = ` · ${humanRate(rate)} · ${humanDuration((total - done) / rate)} left`;
    this.overallText.textContent = total || this.rows.size ? `${humanSize(done)} of ${humanSize(total)}${tail}` : "";
  }
}
