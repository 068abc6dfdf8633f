"""An 8 GiB file through the UI on `make run`: the local S3's disk and memory, sampled all along.

What a consultant trying the product does: `make run` (portal/tests/stack.py starts the real
one on free ports, its state in a temporary folder), sign in as the demo customer in Chromium,
pick the file, wait for Verified, then read the object back and compare SHA-256. Meanwhile the
local S3 process (portal/local_s3.py) is sampled every 0.5 s: resident memory, and the bytes
of the deleted-but-open temporary files where moto keeps bodies (its disk use).

Targets: disk at most 1.2x the data, memory under 2 GiB, at every moment, complete included.
The reference, measured in the same run, is the same upload's bytes and boto3's own read-back.

The disk is shared: this refuses to start unless 3x the file size is free.
Usage: .venv/bin/python bench/local_s3_big_upload.py [--gib 8]
Writes bench/results/local_s3_big_upload.json.
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from portal.local_s3 import held_on_disk  # noqa: E402
from portal.tests.stack import Stack  # noqa: E402

DEMO_PASSWORD = "portal-demo-2026"  # noqa: S105 - seed_demo's, printed by make run


def moto_pid(port: int) -> int:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"portal.local_s3" in cmd and str(port).encode() in cmd:
            return int(proc.name)
    raise RuntimeError("local S3 process not found")


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.stopped = pid, threading.Event()
        self.peak_disk = self.peak_rss = 0
        self.phase = "start"
        self.peaks: dict[str, dict[str, int]] = {}

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            try:
                disk, mem = held_on_disk(self.pid), rss(self.pid)
            except OSError:
                continue
            self.peak_disk, self.peak_rss = max(self.peak_disk, disk), max(self.peak_rss, mem)
            p = self.peaks.setdefault(self.phase, {"disk": 0, "rss": 0})
            p["disk"], p["rss"] = max(p["disk"], disk), max(p["rss"], mem)


def write_file(path: Path, size: int) -> str:
    """Random-looking bytes (a random 64 MiB block, each copy stamped with its offset),
    written fast enough to make 8 GiB in under a minute."""
    block = bytearray(os.urandom(64 * 1024**2))
    digest = hashlib.sha256()
    with path.open("wb") as f:
        offset = 0
        while offset < size:
            block[:16] = offset.to_bytes(16, "big")
            chunk = bytes(block[: min(len(block), size - offset)])
            f.write(chunk)
            digest.update(chunk)
            offset += len(chunk)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=8.0)
    args = parser.parse_args()
    size = int(args.gib * 1024**3)
    work = Path(tempfile.mkdtemp(prefix="bigupload-", dir=os.environ.get("BENCH_TMP", "/tmp")))
    try:
        free = shutil.disk_usage(work).free
        if free < 3 * size:
            sys.exit(f"refusing: {free / 1024**3:.1f} GiB free, need 3x {args.gib} GiB")
        result = run(work, size, args.gib)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (ROOT / "bench/results/local_s3_big_upload.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def run(work: Path, size: int, gib: float) -> dict:
    import boto3
    from playwright.sync_api import sync_playwright

    name = f"expdp_{gib:g}gib.dmp"
    t0 = time.monotonic()
    expected = write_file(work / name, size)
    written_s = time.monotonic() - t0
    (work / "var").mkdir()
    stack = Stack(work / "var")
    try:
        sampler = Sampler(moto_pid(stack.moto_port))
        sampler.start()
        timings: dict[str, float] = {"write_file_s": round(written_s, 1)}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{stack.url}/accounts/login/")
            page.get_by_label("Email", exact=True).fill("alice@acme.example")
            page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in", exact=True).click()
            page.get_by_role("link", name="Oracle migration").click()
            sampler.phase = "upload"
            t0 = time.monotonic()
            page.set_input_files("input[data-files]", str(work / name))
            row = page.locator("[data-live-section=completed] tr", has_text=name)
            row.wait_for(timeout=3_600_000)
            timings["upload_and_complete_s"] = round(time.monotonic() - t0, 1)
            sampler.phase = "verify"
            row.get_by_text("Verified").wait_for(timeout=600_000)
            timings["to_verified_s"] = round(time.monotonic() - t0, 1)
            browser.close()
        sampler.phase = "download"
        s3 = boto3.client(
            "s3",
            endpoint_url=stack.moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        listed = s3.list_objects_v2(Bucket="upload-portal", Prefix="acme/oracle-migration/")
        (obj,) = [o for o in listed["Contents"] if o["Key"].endswith(name)]
        t0 = time.monotonic()
        digest = hashlib.sha256()
        for chunk in s3.get_object(Bucket="upload-portal", Key=obj["Key"])["Body"].iter_chunks(8 * 1024**2):
            digest.update(chunk)
        timings["download_s"] = round(time.monotonic() - t0, 1)
        sampler.stopped.set()
        sampler.join()
        peak_hwm = 0
        for line in Path(f"/proc/{sampler.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak_hwm = int(line.split()[1]) * 1024
    finally:
        stack.stop()
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "file_bytes": size,
        "sha256_equal": digest.hexdigest() == expected,
        "object_bytes": obj["Size"],
        "local_s3_peak_disk_bytes": sampler.peak_disk,
        "local_s3_peak_disk_ratio": round(sampler.peak_disk / size, 3),
        "local_s3_peak_rss_bytes": max(sampler.peak_rss, peak_hwm),
        "local_s3_peak_rss_gib": round(max(sampler.peak_rss, peak_hwm) / 1024**3, 2),
        "targets": {"disk_ratio_max": 1.2, "rss_gib_max": 2.0},
        "met": sampler.peak_disk <= 1.2 * size and max(sampler.peak_rss, peak_hwm) < 2 * 1024**3,
        "peaks_by_phase": sampler.peaks,
        "timings": timings,
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__":
    main()
