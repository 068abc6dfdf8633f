"""Benchmark: what Chromium itself costs, in CPU seconds per GiB, for the pieces the uploader
is made of, with no S3 stand-in competing for the cores: reading a File in a Web Worker (8 MiB
arrayBuffer slices versus streams), hash-wasm's CRC64NVME and SHA-256 in a worker, and
PUTting Blob slices (4 at a time, with XMLHttpRequest) to a local sink that discards them.

On a small machine these floors say how fast the uploader can be at best: sending plus
hashing must fit in the cores left over by the S3 endpoint.

Run:  .venv/bin/pytest bench/browser_floor.py -o python_files=browser_floor.py -s -q
Writes bench/results/browser-floor-<UTC time>.json.
"""

import json
import os
import shutil
import threading
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MIB = 1024 * 1024
RESULTS = Path(__file__).parent / "results"
HASH_WASM = Path(__file__).parent.parent / "node_modules" / "hash-wasm" / "dist" / "index.esm.js"

PAGE = """<!doctype html><input type=file id=f><script type=module src=page.js></script>"""

PAGE_JS = """
window.inWorker = (job) => new Promise((resolve) => {
  const w = new Worker("worker.js", { type: "module" });
  w.onmessage = (e) => { w.terminate(); resolve(e.data); };
  w.postMessage({ job, file: document.getElementById("f").files[0] });
});
window.put = async () => {
  const file = document.getElementById("f").files[0];
  const part = 8 * 1048576;
  const t = performance.now();
  let next = 0;
  const send = (body) => new Promise((done) => {
    const x = new XMLHttpRequest();
    x.open("PUT", "/sink");
    x.onload = x.onerror = done;
    x.send(body);
  });
  const lane = async () => {
    for (let i = next++; i * part < file.size; i = next++) {
      await send(file.slice(i * part, Math.min((i + 1) * part, file.size)));
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  return { seconds: (performance.now() - t) / 1000 };
};
window.ready = true;
"""

WORKER_JS = """
import * as hw from "./hash-wasm.js";
async function* slices(file) {
  for (let p = 0; p < file.size; p += 8 * 1048576) {
    yield new Uint8Array(await file.slice(p, p + 8 * 1048576).arrayBuffer());
  }
}
async function* stream(file) {
  const reader = file.stream().getReader();
  for (;;) { const { done, value } = await reader.read(); if (done) return; yield value; }
}
self.onmessage = async ({ data: { job, file } }) => {
  const hashers = [];
  if (job.includes("crc")) hashers.push(await hw.createCRC64("9a6c9329ac4bc9b5"));
  if (job.includes("sha")) hashers.push(await hw.createSHA256());
  for (const h of hashers) h.init();
  const t = performance.now();
  for await (const chunk of (job.startsWith("slices") ? slices(file) : stream(file))) {
    for (const h of hashers) h.update(chunk);
  }
  self.postMessage({ seconds: (performance.now() - t) / 1000 });
};
"""


class Site(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def end_headers(self):
        if self.path.endswith(".js"):
            self.send_header("Content-Type", "text/javascript")
        super().end_headers()

    def do_PUT(self):
        left = int(self.headers["Content-Length"])
        while left:
            left -= len(self.rfile.read(min(left, MIB)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def chromium_cpu(cdp) -> dict[str, float]:
    out: dict[str, float] = {}
    for proc in cdp.send("SystemInfo.getProcessInfo")["processInfo"]:
        out[proc["type"]] = out.get(proc["type"], 0.0) + float(proc["cpuTime"])
    return out


def test_browser_floor(browser, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(PAGE)
    (site / "page.js").write_text(PAGE_JS)
    (site / "worker.js").write_text(WORKER_JS)
    shutil.copy(HASH_WASM, site / "hash-wasm.js")
    size = 1024 * MIB
    data = tmp_path / "one-gib.bin"
    with data.open("wb") as f:
        for _ in range(size // (64 * MIB)):
            f.write(os.urandom(64 * MIB))

    server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: Site(*a, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page()
    cdp = browser.new_browser_cdp_session()
    page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
    page.wait_for_function("() => window.ready")
    page.set_input_files("#f", str(data))

    out: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(), "gib": 1}
    jobs = [
        ("read, 8 MiB arrayBuffer slices", "() => inWorker('slices')"),
        ("read, stream", "() => inWorker('stream')"),
        ("read + CRC64NVME", "() => inWorker('stream crc')"),
        ("read + SHA-256", "() => inWorker('stream sha')"),
        ("read + CRC64NVME + SHA-256", "() => inWorker('stream crc sha')"),
        ("PUT Blob slices, 4 at a time", "() => put()"),
    ]
    page.evaluate("() => inWorker('stream')")  # warm the page cache and the worker code
    for name, call in jobs:
        before = chromium_cpu(cdp)
        seconds = page.evaluate(call)["seconds"]
        after = chromium_cpu(cdp)
        cpu = {
            k: round(after[k] - before.get(k, 0.0), 2) for k in after if after[k] - before.get(k, 0.0) >= 0.01
        }
        out[name] = {
            "mib_s": round(size / MIB / seconds),
            "cpu_seconds": cpu,
            "cpu_total": round(sum(cpu.values()), 2),
        }
    server.shutdown()

    RESULTS.mkdir(exist_ok=True)
    name = RESULTS / f"browser-floor-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    name.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
