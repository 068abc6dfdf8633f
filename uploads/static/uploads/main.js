// Entry point: wires the uploader into the project page.

import { Api } from "./api.js";
import { openStore } from "./store.js";
import { UploaderUI } from "./ui.js";

const root = document.getElementById("uploader");
if (root) {
  const api = new Api({ csrfToken: root.dataset.csrf });
  // ?checksums=off is for bench/ only: it measures the cost of hashing, and such uploads
  // cannot be completed.
  const options = new URLSearchParams(location.search).get("checksums") === "off" ? { checksums: false } : {};
  // The project says who computes the whole file's SHA-256: this browser, or the portal.
  options.sha256 = root.dataset.sha256 === "browser";
  window.uploader = new UploaderUI(root, { api, store: openStore(), projectId: Number(root.dataset.project), options });
}
