// Entry point: wires the uploader into the project page.

import { Api } from "./api.js";
import { openStore } from "./store.js";
import { UploaderUI } from "./ui.js";

const root = document.getElementById("uploader");
if (root) {
  const api = new Api({ csrfToken: root.dataset.csrf });
  window.uploader = new UploaderUI(root, { api, store: openStore(), projectId: Number(root.dataset.project) });
}
