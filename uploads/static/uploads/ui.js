// The uploader's page UI: drop zone and pickers, one row per file with <progress>, speed and
// time left, an overall bar, pause/resume/cancel, an aria-live status line and a warning on
// leaving mid-upload. Rows are repainted on a timer, not per progress event, so hundreds of
// queued files do not freeze the page.

import { humanDuration, humanSize, SpeedMeter } from "./format.js";
import { filesFromDataTransfer } from "./drop.js";
import { FileUpload, UploadManager } from "./uploader.js";

const STATUS_TEXT = {
  queued: "Waiting", waiting: "Waiting", starting: "Preparing", uploading: "Uploading", paused: "Paused",
  completing: "Finishing", done: "Completed", failed: "Failed", changed: "File changed", duplicate: "Already uploaded",
  cancelled: "Cancelled",
};

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
    this.speed = new SpeedMeter();
    this._bind();
    // Files picked before this module ran (a slow connection, a quick customer) fired their
    // `change` with no one listening: take them now.
    for (const input of root.querySelectorAll("input[type=file]")) {
      if (input.files.length) input.dispatchEvent(new Event("change"));
    }
    setInterval(() => this.paint(), 500);
    window.addEventListener("beforeunload", (e) => {
      if (this.manager.active) {
        e.preventDefault();
        e.returnValue = "";
      }
    });
  }

  _bind() {
    const zone = this.root.querySelector("[data-dropzone]");
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
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

  say(text) {
    this.status.textContent = text;
  }

  addFiles(items) {
    const batchId = items.length > 1 ? crypto.randomUUID() : null;
    for (const { file, relativePath } of items) {
      const u = new FileUpload({ file, relativePath, projectId: this.projectId, api: this.api, store: this.store, batchId, ...this.options });
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
    const li = el("li", { class: "upload-row", "data-name": label },
      el("span", { class: "name" }, label), " ", el("span", { class: "size muted" }, humanSize(u.size)),
      bar, state, " ", detail, " ", pause, cancel, again);
    li.refs = { bar, state, detail, pause, cancel, again, meter: new SpeedMeter() };
    this.rows.set(u, li);
    this.list.append(li);
  }

  _toggle(u) {
    if (u.status === "paused" || u.status === "failed") this.manager.start(u);
    else u.pause();
  }

  _onChange(u) {
    const li = this.rows.get(u);
    li.dataset.status = u.status;
    const { state, pause, cancel, again, detail } = li.refs;
    state.textContent = STATUS_TEXT[u.status] || u.status;
    pause.textContent = u.status === "paused" || u.status === "failed" ? "Resume" : "Pause";
    pause.hidden = ["done", "cancelled", "changed", "duplicate", "completing"].includes(u.status);
    cancel.hidden = ["done", "cancelled", "completing"].includes(u.status);
    again.hidden = !["changed", "duplicate"].includes(u.status);
    again.textContent = u.status === "duplicate" ? "Upload again" : "Start again";
    if (u.message) detail.textContent = u.message;
    const label = u.relativePath || u.file.name;
    if (u.status === "done") {
      detail.textContent = "";
      li.remove();
      this.completed.append(el("li", { class: "completed-row", "data-name": label },
        `${label} · ${humanSize(u.size)} · CRC64NVME ${u.result?.checksum_crc64nvme || u.final?.crc64nvme} · SHA-256 `,
        el("code", {}, u.final?.sha256 || "")));
      this.say(`${label} is uploaded.`);
    } else if (["paused", "failed", "changed", "duplicate", "cancelled"].includes(u.status)) {
      this.say(`${label}: ${u.message || STATUS_TEXT[u.status]}`);
    }
    this.paint();
  }

  paint() {
    const now = performance.now();
    let total = 0;
    let done = 0;
    for (const [u, li] of this.rows) {
      if (u.status === "cancelled") continue;
      const b = u.status === "done" ? u.size : u.bytesDone();
      total += u.size;
      done += b;
      if (!li.isConnected) continue;
      const { bar, detail, meter } = li.refs;
      bar.value = b;
      if (u.status === "uploading") {
        meter.add(now, b);
        const rate = meter.rate();
        const left = rate > 0 ? (u.size - b) / rate : NaN;
        detail.textContent = `${humanSize(b)} of ${humanSize(u.size)}${rate ? ` · ${humanSize(rate)}/s · ${humanDuration(left)} left` : ""}`;
      } else {
        meter.reset();
      }
    }
    this.overall.max = total || 1;
    this.overall.value = done;
    this.speed.add(now, done);
    const rate = this.speed.rate();
    this.overallText.textContent = total
      ? `${humanSize(done)} of ${humanSize(total)}${rate && this.manager.active ? ` · ${humanSize(rate)}/s · ${humanDuration((total - done) / rate)} left` : ""}`
      : "";
  }
}
