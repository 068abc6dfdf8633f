"""Benchmark: the portal's browser uploader against peer browser uploaders (Uppy 6 and the AWS
SDK for JavaScript v3) and boto3 upload_file, on one moto server, one generated file, in one
run, so the ratios between them come from the same machine state.

Run (a 1 GiB file, 3 rounds; BENCH_SIZE_MIB and BENCH_ROUNDS change them):
  DATABASE_URL=... CELERY_BROKER_URL=... CACHE_URL=... .venv/bin/python -m pytest -q \
    -p no:cacheprovider bench/peers_bench.py -o python_files=peers_bench.py -s
Writes bench/results/peers-<UTC time>.json and prints it. Builds bench/peers/dist first
(bench/peers/build.sh: npm ci and esbuild) when it is missing.

The clients, each in turn in every round (the order rotates from round to round), with an
empty moto and bucket before each run:
- portal: the project's uploader on its project page (bench/uploader_bench.run_uploader), as
  a project has it by default: per-part CRC64NVME (the signed header S3 checks) combined into
  the whole file's CRC64NVME (which S3 checks at complete), in one worker; the whole file's
  SHA-256 is left to the portal's verification, which is not part of the upload.
- portal_sha256_in_browser: the same page for a project that has the browser compute the
  SHA-256 too (a second worker, fed the same bytes).
- uppy: @uppy/core + @uppy/aws-s3 6.3.1 with its defaults (one part in flight per file, parts
  of 5 MiB or size / 10,000), no checksums; every request presigned in the page (aws4fetch).
- sdk_v3: @aws-sdk/lib-storage Upload, queueSize 4, 8 MiB parts, ChecksumAlgorithm CRC32.
- boto3: upload_file with its default config (bench/uploader_bench.run_boto3).

The browser clients run in headless Chromium driven by Playwright with its network
instrumentation on, as uploader_bench does. The portal and Uppy send parts as Blob slices,
which that instrumentation does not copy; lib-storage sends each part as an in-memory
Uint8Array, which Playwright's events do copy (an extra cost in the SDK's figures).

The peer page is served on the live server's origin (a Playwright route for /bench-peer/
only, removed before the file is picked), so the bucket's CORS rule for the portal applies
to it. The bucket's rule gets the headers the SDK sends in a browser (amz-sdk-*, the CRC32
checksum) for the peer runs. moto sends no CORS headers on responses to POST and DELETE
object requests (create, complete, abort multipart upload), which real S3 does; the peers
send those few requests through CorsShim, a forwarder in this process that adds them. Part
PUTs go from the page to moto directly; the result counts the requests each path carried.
"""

import http.client
import json
import os
import shutil
import statistics
import subprocess
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from uploader_bench import GIB, CpuMeter, fresh_storage, run_boto3, run_uploader

from uploads import s3
from uploads.tests.browser import MIB, make_file, storage  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]
HERE = Path(__file__).parent
RESULTS = HERE / "results"
PEERS = HERE / "peers"
DIST = PEERS / "dist"
DIST_FILES = ("index.html", "uppy.js", "sdk.js")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SIZE = int(os.environ.get("BENCH_SIZE_MIB", "1024")) * MIB
# portal: the project default (the portal computes the whole file's SHA-256 from the stored
# object); portal_sha256_in_browser: a project that has the browser compute it too.
CLIENTS = ("portal", "portal_sha256_in_browser", "uppy", "sdk_v3", "boto3")
# What the AWS SDK v3 sends on a part PUT from a browser, beyond the portal's own list.
PEER_ALLOWED_HEADERS = ["amz-sdk-invocation-id", "amz-sdk-request", "x-amz-checksum-crc32"]
PEER_EXPOSE_HEADERS = ["x-amz-checksum-crc32"]
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


class CorsShim:
    """A forwarder to moto on its own port that adds the CORS headers moto leaves off POST
    and DELETE object responses, and answers their preflights. Only the peers' create,
    complete and abort calls are sent here; `counts` says how many of each it carried."""

    def __init__(self, target_url: str, origin: str):
        target = urlsplit(target_url)
        shim = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _cors(self) -> None:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Access-Control-Expose-Headers", "ETag, x-amz-version-id, x-amz-request-id")
                self.send_header("Vary", "Origin")

            def do_OPTIONS(self) -> None:
                shim.count("OPTIONS")
                self.send_response(200 if self.headers.get("Origin") == origin else 403)
                self._cors()
                self.send_header("Access-Control-Allow-Methods", "POST, DELETE, GET, PUT")
                asked = self.headers.get("Access-Control-Request-Headers", "")
                self.send_header("Access-Control-Allow-Headers", asked)
                self.send_header("Access-Control-Max-Age", "600")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _forward(self) -> None:
                shim.count(self.command)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                skip = {"host", "origin", "connection", "referer"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=900)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                self.send_response(resp.status)
                drop = {"connection", "transfer-encoding", "content-length", "server", "date"}
                for k, v in resp.getheaders():
                    if k.lower() not in drop and not k.lower().startswith("access-control-"):
                        self.send_header(k, v)
                self._cors()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_DELETE = do_GET = do_PUT = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def count(self, method: str) -> None:
        with self._lock:
            self.counts[method] = self.counts.get(method, 0) + 1

    def take_counts(self) -> dict[str, int]:
        with self._lock:
            out, self.counts = self.counts, {}
        return out

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def build_peers() -> None:
    if not all((DIST / name).exists() for name in DIST_FILES):
        subprocess.run([str(PEERS / "build.sh")], check=True)


def peer_cors(bucket: str) -> None:
    """The bucket's own CORS rule (as fresh_storage left it) plus the SDK's browser headers."""
    client = s3.client()
    rules = client.get_bucket_cors(Bucket=bucket)["CORSRules"]
    for rule in rules:
        rule["AllowedHeaders"] = [*rule.get("AllowedHeaders", []), *PEER_ALLOWED_HEADERS]
        rule["ExposeHeaders"] = [*rule.get("ExposeHeaders", []), *PEER_EXPOSE_HEADERS]
        rule.pop("ID", None)
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})


def stored_sizes(bucket: str) -> list[int]:
    listing = s3.client().list_objects_v2(Bucket=bucket)
    return [o["Size"] for o in listing.get("Contents", [])]


def browser_cpu(cpu: dict[str, float]) -> float:
    return round(sum(v for k, v in cpu.items() if k.startswith("chromium ")), 2)


def run_peer(
    browser, live_server, moto, shim: CorsShim, peer: str, path: Path, bucket: str, s3_url: str | None = None
) -> dict:
    """One peer's upload of `path`; its part PUTs go to `s3_url` (moto itself by default)."""
    # A page from a route has no address, so Chromium's Local Network Access counts it as
    # public and blocks its requests to 127.0.0.1 unless the context has the permission (the
    # portal's page comes from the live server on the loopback and needs none).
    context = browser.new_context(permissions=["local-network-access"])
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def serve(route) -> None:
        name = urlsplit(route.request.url).path.removeprefix("/bench-peer/") or "index.html"
        file = DIST / name
        if name not in DIST_FILES:
            route.fulfill(status=404, body="not found")
            return
        route.fulfill(status=200, body=file.read_bytes(), content_type=CONTENT_TYPES[file.suffix])

    page.route(f"{live_server.url}/bench-peer/**", serve)
    entry = "sdk" if peer == "sdk_v3" else peer
    query = urlencode({"peer": entry, "s3": s3_url or moto.url, "shim": shim.url, "bucket": bucket})
    page.goto(f"{live_server.url}/bench-peer/index.html?{query}")
    page.wait_for_function("() => window.benchReady === true")
    page.unroute_all()  # nothing intercepted while the file goes up
    shim.take_counts()
    size = path.stat().st_size
    cpu = CpuMeter(browser, moto)
    t0 = time.monotonic()
    page.evaluate("window.benchStart = performance.now()")
    page.set_input_files("#file", str(path))
    timeout_ms = max(300_000, size // MIB * 2_000)
    page.wait_for_function("() => window.benchResult !== null", polling=100, timeout=timeout_ms)
    wall_s = time.monotonic() - t0
    used = cpu.used()
    marks = page.evaluate(
        "({...window.benchResult, start: window.benchStart, completing: window.benchCompleting})"
    )
    context.close()
    assert not marks["error"], f"{peer}: {marks['error']}\nconsole: {errors}"
    assert stored_sizes(bucket) == [size], f"{peer}: stored {stored_sizes(bucket)}, expected [{size}]"
    parts_s = (marks["partsDoneMs"] - marks["start"]) / 1000
    total_s = (marks["completeDoneMs"] - marks["start"]) / 1000
    return {
        "end_to_end_seconds": round(total_s, 2),
        "end_to_end_mib_s": round(size / MIB / total_s, 1),
        "parts_seconds": round(parts_s, 2),
        "parts_mib_s": round(size / MIB / parts_s, 1),
        "complete_seconds": round((marks["completeDoneMs"] - marks["completing"]) / 1000, 2),
        "parts": marks["parts"],
        "wall_seconds": round(wall_s, 2),
        "browser_cpu_seconds": browser_cpu(used),
        "browser_cpu_seconds_per_gib": round(browser_cpu(used) / (size / GIB), 2),
        "cpu_seconds": used,
        "via_cors_shim": shim.take_counts(),
    }


def run_portal(
    browser, live_server, tenants, moto, path: Path, bucket: str, *, sha256_in_browser: bool
) -> dict:
    size = path.stat().st_size
    r = run_uploader(browser, live_server, tenants, moto, path, sha256_in_browser=sha256_in_browser)
    phases = r["phases_seconds_from_start"]
    # parts_seconds runs from benchStart (just before the pick) to the "hashed" mark; the
    # phases run from the uploader's own "start" mark: shift them onto benchStart.
    total_s = r["parts_seconds"] - phases["hashed"] + phases["completed"]
    assert stored_sizes(bucket) == [size], f"portal: stored {stored_sizes(bucket)}, expected [{size}]"
    return {
        "end_to_end_seconds": round(total_s, 2),
        "end_to_end_mib_s": round(size / MIB / total_s, 1),
        "parts_seconds": r["parts_seconds"],
        "parts_mib_s": r["parts_mib_s"],
        "complete_seconds": round(phases["completed"] - phases["completing"], 2),
        "wall_seconds": r["end_to_end_seconds"],  # polled every 0.5 s
        "browser_cpu_seconds": browser_cpu(r["cpu_seconds"]),
        "browser_cpu_seconds_per_gib": round(browser_cpu(r["cpu_seconds"]) / (size / GIB), 2),
        "cpu_seconds": r["cpu_seconds"],
        "phases_seconds_from_start": phases,
    }


def run_boto(moto, path: Path, bucket: str) -> dict:
    size = path.stat().st_size
    r = run_boto3(moto, bucket, path)
    assert stored_sizes(bucket) == [size], f"boto3: stored {stored_sizes(bucket)}, expected [{size}]"
    return {
        "end_to_end_seconds": r["seconds"],
        "end_to_end_mib_s": r["mib_s"],
        "parts_seconds": r["parts_seconds"],
        "parts_mib_s": round(size / MIB / r["parts_seconds"], 1),
        "complete_seconds": r["complete_seconds"],
        "moto_cpu_seconds": r["moto_cpu_seconds"],
    }


def medians(runs: list[dict]) -> dict:
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
    return {k: round(statistics.median(r[k] for r in runs), 2) for k in keys}


def test_peers_benchmark(browser, live_server, moto, tenants, tmp_path):
    build_peers()
    bucket = s3.bucket()
    free = shutil.disk_usage(tmp_path).free
    # The file, and moto's copy of its parts in its temporary files.
    assert free > 3 * SIZE + GIB, f"only {free / GIB:.1f} GiB free under {tmp_path}"
    path = tmp_path / "peers-bench.bin"
    make_file(path, SIZE)
    shim = CorsShim(moto.url, live_server.url)
    runs: dict[str, list[dict]] = {c: [] for c in CLIENTS}
    order: list[list[str]] = []
    try:
        for rnd in range(ROUNDS):
            turn = [*CLIENTS[rnd % len(CLIENTS) :], *CLIENTS[: rnd % len(CLIENTS)]]
            order.append(turn)
            for client in turn:
                fresh_storage(moto)
                if client.startswith("portal"):
                    run = run_portal(
                        browser,
                        live_server,
                        tenants,
                        moto,
                        path,
                        bucket,
                        sha256_in_browser=client != "portal",
                    )
                elif client == "boto3":
                    run = run_boto(moto, path, bucket)
                else:
                    peer_cors(bucket)
                    run = run_peer(browser, live_server, moto, shim, client, path, bucket)
                print(f"round {rnd + 1} {client}: {json.dumps(run)}", flush=True)
                runs[client].append(run)
    finally:
        shim.stop()
        path.unlink(missing_ok=True)

    med = {c: medians(r) for c, r in runs.items()}
    portal = med["portal"]

    def speed(other: str, key: str) -> float:
        # The portal's speed over the other's: above 1, the portal is faster.
        return round(med[other][key] / portal[key], 2)

    ratios = {
        "meaning": "portal speed / other's speed (other's seconds / portal's); above 1 the portal is faster",
        "portal_vs_uppy_end_to_end": speed("uppy", "end_to_end_seconds"),
        "portal_vs_uppy_parts": speed("uppy", "parts_seconds"),
        "portal_vs_sdk_v3_end_to_end": speed("sdk_v3", "end_to_end_seconds"),
        "portal_vs_sdk_v3_parts": speed("sdk_v3", "parts_seconds"),
        "portal_vs_boto3_end_to_end": speed("boto3", "end_to_end_seconds"),
        "portal_vs_boto3_parts": speed("boto3", "parts_seconds"),
        "browser_cpu_per_gib_portal_over_uppy": round(
            portal["browser_cpu_seconds_per_gib"] / med["uppy"]["browser_cpu_seconds_per_gib"], 2
        ),
        "portal_sha256_in_browser_vs_uppy_end_to_end": round(
            med["uppy"]["end_to_end_seconds"] / med["portal_sha256_in_browser"]["end_to_end_seconds"], 2
        ),
        "portal_sha256_in_browser_vs_boto3_end_to_end": round(
            med["boto3"]["end_to_end_seconds"] / med["portal_sha256_in_browser"]["end_to_end_seconds"], 2
        ),
        "browser_cpu_per_gib_portal_sha256_in_browser_over_uppy": round(
            med["portal_sha256_in_browser"]["browser_cpu_seconds_per_gib"]
            / med["uppy"]["browser_cpu_seconds_per_gib"],
            2,
        ),
        "browser_cpu_per_gib_portal_over_sdk_v3": round(
            portal["browser_cpu_seconds_per_gib"] / med["sdk_v3"]["browser_cpu_seconds_per_gib"], 2
        ),
    }
    versions = json.loads((PEERS / "package.json").read_text())["dependencies"]
    out = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "size": SIZE,
        "rounds": ROUNDS,
        "order": order,
        "peer_versions": versions,
        "notes": [
            "end_to_end and parts seconds of the browser clients are performance.now marks in the page, "
            "from just before the file is picked; boto3's are wall clock around upload_file",
            "parts_seconds: until the last part's response (the portal: until its hashes are done too)",
            "browser CPU: all of Chromium's processes (CDP SystemInfo.getProcessInfo), over the run",
            "Playwright network instrumentation on for all browser clients; the SDK's parts are in-memory "
            "bytes, which it copies",
            "uppy and sdk_v3 send create/complete/abort through a CORS shim (moto omits CORS on POST/DELETE)",
        ],
        "medians": med,
        "ratios": ratios,
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    name = RESULTS / f"peers-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    name.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
