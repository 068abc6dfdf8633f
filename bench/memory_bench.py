"""Benchmark: the page's and hashing workers' memory while a 1 GiB and an 8 GiB file go
through the parts phase, against a local sink that reads every part PUT and discards it
(moto keeps objects in RAM and cannot hold 8 GiB beside Chromium here).

The portal, the database and moto run as in the tests; only the browser's S3 endpoint
(AWS_PUBLIC_ENDPOINT_URL, which the page signs for and the CSP allows) is the sink. The
sink answers part PUTs as S3 does (200, an ETag, the part's checksum header echoed back)
and the CORS preflights before them. The whole file is read, hashed (CRC64NVME per part,
SHA-256 of the whole file) and sent; the run ends when every part has been answered and
both hashes are done: the complete then fails on moto, which holds no parts, and is not
measured. The files are sparse (no disk space used): Chromium reads zeros, and hashing and
sending them costs what any bytes cost.

Memory through the DevTools Protocol (bench/uploader_bench.MemorySampler): JS heap plus
ArrayBuffer stores of the page and of each hashing worker, every ~200 ms, and Chromium's
renderer RSS from /proc. The sink counts the bytes it received.

Run:  DATABASE_URL=... .venv/bin/python -m pytest -q -p no:cacheprovider \
        bench/memory_bench.py -o python_files=memory_bench.py -s
(BENCH_SIZES_GIB=1,8 by default). Writes bench/results/memory-<UTC time>.json.
"""

import json
import os
import re
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from uploader_bench import GIB, MemorySampler

from uploads.models import Upload
from uploads.tests.browser import MIB, sign_in, storage  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]
RESULTS = Path(__file__).parent / "results"
SIZES_GIB = [int(s) for s in os.environ.get("BENCH_SIZES_GIB", "1,8").split(",")]
PART = re.compile(r"[?&]partNumber=(\d+)")


class PartSink:
    """An S3 stand-in for part PUTs only: reads each body to the end and forgets it."""

    def __init__(self):
        sink = self
        self.received = 0
        self.parts: set[int] = set()
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _cors(self) -> None:
                self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin", "*"))
                self.send_header("Access-Control-Expose-Headers", "ETag, x-amz-checksum-crc64nvme")

            def do_OPTIONS(self) -> None:
                self.send_response(200)
                self._cors()
                self.send_header("Access-Control-Allow-Methods", "PUT")
                self.send_header(
                    "Access-Control-Allow-Headers", self.headers.get("Access-Control-Request-Headers", "")
                )
                self.send_header("Access-Control-Max-Age", "3000")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_PUT(self) -> None:
                left = int(self.headers["Content-Length"])
                got = 0
                while left:
                    chunk = self.rfile.read(min(left, MIB))
                    if not chunk:
                        return
                    got += len(chunk)
                    left -= len(chunk)
                m = PART.search(self.path)
                with sink.lock:
                    sink.received += got
                    if m:
                        sink.parts.add(int(m.group(1)))
                self.send_response(200)
                self._cors()
                self.send_header("ETag", f'"{int(m.group(1)) if m else 0:032x}"')
                checksum = self.headers.get("x-amz-checksum-crc64nvme")
                if checksum:
                    self.send_header("x-amz-checksum-crc64nvme", checksum)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "PartSink":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_parts_phase(
    browser, live_server, tenants, path: Path, sink: PartSink, *, sha256_in_browser: bool
) -> dict:
    tenants.project_a.sha256_in_browser = sha256_in_browser
    tenants.project_a.save(update_fields=["sha256_in_browser"])
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    sign_in(page, live_server, tenants.alice)
    page.goto(f"{live_server.url}/projects/{tenants.project_a.pk}/")
    page.wait_for_function("() => window.uploader?.manager !== undefined")
    sampler = MemorySampler(browser, page)
    t0 = time.monotonic()
    page.set_input_files("input[data-files]", str(path))
    progress, stalled_since = -1, time.monotonic()
    while True:
        hashed, status, done = page.evaluate(
            "(() => { const u = window.uploader.manager.uploads[0];"
            " return [u?.timings?.hashed ?? null, u?.status, u?.bytesDone()]; })"
        )
        if hashed is not None or status in ("failed", "changed", "paused", "refused", "cancelled"):
            break
        if done != progress:
            progress, stalled_since = done, time.monotonic()
        elif time.monotonic() - stalled_since > 120:
            raise AssertionError(f"no progress for 2 min at {done} bytes, status {status}")
        sampler.sample()
        page.wait_for_timeout(100)
    seconds = time.monotonic() - t0
    part_count = Upload.objects.get(original_name=path.name).part_count
    context.close()
    assert hashed is not None, f"the parts phase did not finish: {status}"
    assert sink.received == path.stat().st_size and len(sink.parts) == part_count, (
        f"sink got {sink.received} bytes in {len(sink.parts)} parts of {part_count}"
    )
    return {"size": path.stat().st_size, "parts": part_count, "parts_seconds": round(seconds, 1),
            "memory": sampler.summary()}  # fmt: skip


def test_memory_benchmark(browser, live_server, moto, tenants, tmp_path, settings):
    out: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count()}
    for gib in SIZES_GIB:
        path = tmp_path / f"sparse-{gib}-gib.bin"
        with path.open("wb") as f:
            f.truncate(gib * GIB)
        for mode, in_browser in (("sha256_by_portal", False), ("sha256_in_browser", True)):
            with PartSink() as sink:
                settings.AWS_PUBLIC_ENDPOINT_URL = sink.url
                out[f"{gib}_gib_{mode}"] = run_parts_phase(
                    browser, live_server, tenants, path, sink, sha256_in_browser=in_browser
                )
                settings.AWS_PUBLIC_ENDPOINT_URL = moto.url
            Upload.objects.all().delete()
        path.unlink()
    RESULTS.mkdir(exist_ok=True)
    name = RESULTS / f"memory-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    name.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
