"""Benchmark: the browser uploader in headless Chromium versus boto3 upload_file (default
config) versus `aws s3 cp`, one moto server, one 1 GiB generated file, in one run; the
uploader with hashing on and off; and the renderer's memory for a 256 MiB and a 2 GiB file.

Run:  .venv/bin/pytest bench/uploader_bench.py -o python_files=uploader_bench.py -s -q
Writes bench/results/uploader-<UTC time>.json and prints a summary.

The uploader page is driven by Playwright (network instrumentation on, no routes); parts are
Blob slices, which that instrumentation does not copy. Memory, through the Chrome DevTools
Protocol: the JS memory of the page and of each hashing worker (Runtime.getHeapUsage: heap
plus ArrayBuffer backing stores), and the RSS of Chromium's renderer processes from /proc
(page, workers and Blink together: an upper bound). CPU: seconds used by moto, by each kind
of Chromium process and by the portal over each run, since on a small machine they share
the cores.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, set_up_bucket, sign_in, storage  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]
RESULTS = Path(__file__).parent / "results"
GIB = 1024 * MIB
# BENCH_QUICK=1: the 1 GiB comparison only (no aws s3 cp, no memory runs), for trying changes.
QUICK = os.environ.get("BENCH_QUICK") == "1"
# The uplink for the network-limited run (about 840 Mbit/s, a fast office line).
UPLINK_MIB_S = 100
# The link both the uploader and boto3 share in the tc-shaped run.
SHARED_UPLINK_MBIT = 800


class MemorySampler:
    """JS memory of the page and of its Web Workers (the hashing workers), through the Chrome
    DevTools Protocol: Runtime.getHeapUsage for each, counting the JS heap, the ArrayBuffer
    backing stores (where file bytes live) and the embedder's heap. The workers are reached
    with Target.setAutoAttach and Target.sendMessageToTarget on the page's session."""

    def __init__(self, browser, page):
        self.page = page
        self.cdp_browser = browser.new_browser_cdp_session()
        self.cdp_page = page.context.new_cdp_session(page)
        self.workers: set[str] = set()
        self.replies: dict[int, dict] = {}
        self.next_id = 0
        self.cdp_page.on("Target.attachedToTarget", self._attached)
        self.cdp_page.on("Target.detachedFromTarget", lambda e: self.workers.discard(e["sessionId"]))
        self.cdp_page.on("Target.receivedMessageFromTarget", self._reply)
        self.cdp_page.send(
            "Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": False}
        )
        # (t, page JS heap MB, page total MB, workers total MB, renderer RSS MB)
        self.samples: list[tuple[float, float, float, float, float]] = []

    def _attached(self, event: dict) -> None:
        if event["targetInfo"]["type"] == "worker":
            self.workers.add(event["sessionId"])

    def _reply(self, event: dict) -> None:
        message = json.loads(event["message"])
        if "id" in message:
            self.replies[message["id"]] = message.get("result", {})

    @staticmethod
    def total_mb(usage: dict) -> float:
        extra = usage.get("backingStorageSize", 0) + usage.get("embedderHeapUsedSize", 0)
        return (usage["usedSize"] + extra) / MIB

    def renderer_rss_mb(self) -> float:
        info = self.cdp_browser.send("SystemInfo.getProcessInfo")
        total = 0
        for proc in info["processInfo"]:
            if proc["type"] != "renderer":
                continue
            try:
                for line in Path(f"/proc/{proc['id']}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
            except OSError:
                pass
        return total

    def sample(self) -> None:
        asked = []
        for session in list(self.workers):
            self.next_id += 1
            asked.append(self.next_id)
            message = json.dumps({"id": self.next_id, "method": "Runtime.getHeapUsage"})
            self.cdp_page.send("Target.sendMessageToTarget", {"sessionId": session, "message": message})
        page_usage = self.cdp_page.send("Runtime.getHeapUsage")
        self.page.wait_for_timeout(100)  # the sync API delivers the workers' replies while it waits
        workers = sum(self.total_mb(self.replies.pop(i)) for i in asked if i in self.replies)
        self.samples.append(
            (
                time.monotonic(),
                page_usage["usedSize"] / MIB,
                self.total_mb(page_usage),
                workers,
                self.renderer_rss_mb(),
            )
        )

    def summary(self) -> dict:
        def peak(i: int) -> float:
            return round(max(s[i] for s in self.samples), 1)

        rss = sorted(s[4] for s in self.samples)
        both = [s[2] + s[3] for s in self.samples]
        # While the hashing workers run (they end before the complete call).
        hashing = [s[2] + s[3] for s in self.samples if s[3] > 0] or [0.0]
        half = len(hashing) // 2
        return {
            "samples": len(self.samples),
            "js_heap_mb_peak": peak(1),
            "page_js_memory_mb_peak": peak(2),
            "workers_js_memory_mb_peak": peak(3),
            "page_plus_workers_mb_peak": round(max(both), 1),
            "hashing_samples": len(hashing),
            "page_plus_workers_mb_median_while_hashing": round(sorted(hashing)[half], 1),
            # Growth shows as a second half above the first.
            "page_plus_workers_mb_peak_first_half": round(max(hashing[:half] or [0.0]), 1),
            "page_plus_workers_mb_peak_second_half": round(max(hashing[half:]), 1),
            "renderer_rss_mb_peak": round(rss[-1], 1),
            "renderer_rss_mb_median": round(rss[len(rss) // 2], 1),
        }


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc (clock ticks)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds used by moto, by Chromium's processes (by type) and by this test process
    (the Django live server) over one run: on a 2-core machine this says who had the CPU."""

    def __init__(self, browser, moto):
        self.cdp = browser.new_browser_cdp_session()
        self.moto_pid = moto.process.pid
        self.start = self.read()

    def read(self) -> dict[str, float]:
        out = {"moto": cpu_seconds(self.moto_pid), "portal (pytest process)": cpu_seconds(os.getpid())}
        for proc in self.cdp.send("SystemInfo.getProcessInfo")["processInfo"]:
            name = f"chromium {proc['type']}"
            out[name] = out.get(name, 0.0) + float(proc["cpuTime"])
        return out

    def used(self) -> dict[str, float]:
        end = self.read()
        return {k: round(v - self.start.get(k, 0.0), 2) for k, v in end.items()}


def run_uploader(
    browser,
    live_server,
    tenants,
    moto,
    path: Path,
    *,
    checksums: bool = True,
    memory: bool = False,
    uplink_mib_s: int | None = None,
    sha256_in_browser: bool = False,
) -> dict:
    # The project's choice: the whole file's SHA-256 in the browser, or (the default) by the portal.
    tenants.project_a.sha256_in_browser = sha256_in_browser
    tenants.project_a.save(update_fields=["sha256_in_browser"])
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    if uplink_mib_s:
        # A customer's uplink, not the loopback: Chromium's own network throttling.
        net = context.new_cdp_session(page)
        net.send("Network.enable")
        conditions = {"offline": False, "latency": 0, "downloadThroughput": -1}
        net.send("Network.emulateNetworkConditions", {**conditions, "uploadThroughput": uplink_mib_s * MIB})
    sign_in(page, live_server, tenants.alice)
    query = "" if checksums else "?checksums=off"
    page.goto(f"{live_server.url}/projects/{tenants.project_a.pk}/{query}")
    # window.uploader is the section element (id="uploader") until main.js replaces it.
    page.wait_for_function("() => window.uploader?.manager !== undefined")
    sampler = MemorySampler(browser, page) if memory else None
    cpu = CpuMeter(browser, moto)
    t0 = time.monotonic()
    page.evaluate("window.benchStart = performance.now()")
    page.set_input_files("input[data-files]", str(path))
    final = "done" if checksums else "refused"  # the portal refuses to complete without checksums
    progress, stalled_since = -1, time.monotonic()
    while True:
        status, done = page.evaluate(
            "(() => { const u = window.uploader.manager.uploads[0]; return [u?.status, u?.bytesDone()]; })"
        )
        if status in ("done", "failed", "changed", "paused", "refused", "duplicate", "cancelled"):
            break
        if done != progress:
            progress, stalled_since = done, time.monotonic()
        elif time.monotonic() - stalled_since > 120:
            row = page.locator("li.upload-row, li.completed-row").first.inner_text()
            raise AssertionError(f"no progress for 2 min at {done} bytes, status {status}: {row}")
        if sampler:
            sampler.sample()
        page.wait_for_timeout(100 if sampler else 500)
    total_s = time.monotonic() - t0
    parts_s = page.evaluate("(window.uploader.manager.uploads[0].timings.hashed - window.benchStart) / 1000")
    marks = page.evaluate("window.uploader.manager.uploads[0].timings")
    # [time, parts in flight, why] each time the per-file controller changed its limit.
    history = page.evaluate("window.uploader.manager.uploads[0].controller?.history || []")
    phases = {name: round((at - marks["start"]) / 1000, 2) for name, at in marks.items()}
    assert status == final, page.locator("li.upload-row, li.completed-row").first.inner_text()
    result = {
        "size": path.stat().st_size,
        "checksums": checksums,
        "sha256_in_browser": sha256_in_browser,
        "parts_seconds": round(parts_s, 2),
        "parts_mib_s": round(path.stat().st_size / MIB / parts_s, 1),
    }
    if checksums:
        result["end_to_end_seconds"] = round(total_s, 2)
        result["end_to_end_mib_s"] = round(path.stat().st_size / MIB / total_s, 1)
    result["phases_seconds_from_start"] = phases
    result["concurrency"] = [[round((t - marks["start"]) / 1000, 1), n, why] for t, n, why in history]
    result["cpu_seconds"] = cpu.used()
    if sampler:
        result["memory"] = sampler.summary()
    context.close()
    return result


class SharedUplink:
    """Traffic to one TCP port on the loopback shaped with tc (HTB) to `mbit`: a link the
    uploader and boto3 share in turn, as a customer's line would. Needs root and tc."""

    def __init__(self, port: int, mbit: int):
        self.port, self.mbit = port, mbit

    @staticmethod
    def available() -> bool:
        return os.geteuid() == 0 and shutil.which("tc") is not None

    def _tc(self, *args: str, check: bool = True) -> None:
        subprocess.run(["tc", *args], check=check, capture_output=True)

    def __enter__(self) -> "SharedUplink":
        self._tc("qdisc", "del", "dev", "lo", "root", check=False)
        self._tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10")
        self._tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb", "rate", "50gbit")
        rate = f"{self.mbit}mbit"
        self._tc(
            "class", "add", "dev", "lo", "parent", "1:", "classid", "1:20", "htb",
            "rate", rate, "ceil", rate, "burst", "1m", "cburst", "1m",
        )  # fmt: skip
        self._tc(
            "filter", "add", "dev", "lo", "protocol", "ip", "parent", "1:0", "prio", "1",
            "u32", "match", "ip", "dport", str(self.port), "0xffff", "flowid", "1:20",
        )  # fmt: skip
        return self

    def __exit__(self, *exc) -> None:
        self._tc("qdisc", "del", "dev", "lo", "root", check=False)


def run_boto3(moto, bucket: str, path: Path, endpoint_url: str | None = None) -> dict:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url or moto.url,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    marks: dict[str, float] = {}

    def mark_complete(**kwargs) -> None:
        marks["completing"] = time.monotonic()  # a handler that returns a value replaces the call

    def mark_first_part(**kwargs) -> None:
        marks.setdefault("sending", time.monotonic())

    client.meta.events.register("before-call.s3.CompleteMultipartUpload", mark_complete)
    client.meta.events.register("before-call.s3.UploadPart", mark_first_part)
    moto_cpu = cpu_seconds(moto.process.pid)
    t0 = time.monotonic()
    client.upload_file(str(path), bucket, "bench/boto3.bin")
    s = time.monotonic() - t0
    return {
        "seconds": round(s, 2),
        "mib_s": round(path.stat().st_size / MIB / s, 1),
        "parts_seconds": round(marks["completing"] - t0, 2),
        "sending_seconds": round(marks["completing"] - marks["sending"], 2),  # first part to complete
        "complete_seconds": round(t0 + s - marks["completing"], 2),
        "moto_cpu_seconds": round(cpu_seconds(moto.process.pid) - moto_cpu, 2),
    }


def run_cli(moto, bucket: str, path: Path) -> dict:
    aws = str(Path(sys.executable).parent / "aws")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    t0 = time.monotonic()
    subprocess.run(
        [
            aws,
            "s3",
            "cp",
            str(path),
            f"s3://{bucket}/bench/cli.bin",
            "--endpoint-url",
            moto.url,
            "--only-show-errors",
        ],
        check=True,
        env=env,
    )
    s = time.monotonic() - t0
    return {"seconds": round(s, 2), "mib_s": round(path.stat().st_size / MIB / s, 1)}


def fresh_storage(moto) -> None:
    """An empty moto and bucket, and no uploads, between runs (moto keeps objects in RAM)."""
    moto.reset()
    set_up_bucket()
    Upload.objects.all().delete()


def test_uploader_benchmark(browser, live_server, moto, tenants, tmp_path, settings):
    from uploads import s3

    bucket = s3.bucket()
    one = tmp_path / "one-gib.bin"
    make_file(one, GIB)
    out: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count()}

    out["uploader_hashing_on"] = run_uploader(browser, live_server, tenants, moto, one)
    Upload.objects.all().delete()
    out["uploader_hashing_off"] = run_uploader(browser, live_server, tenants, moto, one, checksums=False)
    Upload.objects.all().delete()
    out["boto3_upload_file"] = run_boto3(moto, bucket, one)
    if not QUICK:
        out["aws_s3_cp"] = run_cli(moto, bucket, one)
    on, off = out["uploader_hashing_on"], out["uploader_hashing_off"]
    out["uploader_vs_boto3"] = round(on["end_to_end_mib_s"] / out["boto3_upload_file"]["mib_s"], 2)
    out["hashing_cost_percent"] = round(100 * (1 - on["parts_mib_s"] / off["parts_mib_s"]), 1)
    one.unlink()

    # The same comparison where the network, not this machine's two cores, is the limit.
    half = tmp_path / "half-gib.bin"
    make_file(half, GIB // 2)
    limited: dict = {"uplink_mib_s": UPLINK_MIB_S, "size": half.stat().st_size}
    for label, checksums in (("hashing_on", True), ("hashing_off", False)):
        fresh_storage(moto)
        run = run_uploader(
            browser, live_server, tenants, moto, half, checksums=checksums, uplink_mib_s=UPLINK_MIB_S
        )
        keep = ("parts_seconds", "parts_mib_s", "phases_seconds_from_start", "cpu_seconds")
        limited[label] = {k: run[k] for k in keep}
    limited["hashing_cost_percent"] = round(
        100 * (1 - limited["hashing_on"]["parts_mib_s"] / limited["hashing_off"]["parts_mib_s"]), 1
    )
    out["network_limited"] = limited

    # Both clients over the same shaped link to moto (tc on the loopback, root only).
    if SharedUplink.available():
        fresh_storage(moto)
        with SharedUplink(moto.port, SHARED_UPLINK_MBIT):
            up = run_uploader(browser, live_server, tenants, moto, half)
            boto = run_boto3(moto, bucket, half)
        out["shared_uplink"] = {
            "mbit": SHARED_UPLINK_MBIT,
            "size": half.stat().st_size,
            "uploader": {
                k: up[k] for k in ("parts_seconds", "parts_mib_s", "end_to_end_seconds", "end_to_end_mib_s")
            },
            "boto3": boto,
            "uploader_vs_boto3_transfer": round(boto["parts_seconds"] / up["parts_seconds"], 2),
            "uploader_vs_boto3_end_to_end": round(up["end_to_end_mib_s"] / boto["mib_s"], 2),
        }
    else:
        out["shared_uplink"] = {"skipped": "needs root and tc to shape the loopback"}
    half.unlink()

    sizes = () if QUICK else (("memory_256_mib", 256 * MIB), ("memory_2_gib", 2 * GIB))
    for label, size in sizes:
        fresh_storage(moto)
        f = tmp_path / f"{label}.bin"
        make_file(f, size)
        out[label] = run_uploader(browser, live_server, tenants, moto, f, memory=True)
        f.unlink()

    RESULTS.mkdir(exist_ok=True)
    name = RESULTS / f"uploader-{'quick-' if QUICK else ''}{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    name.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
