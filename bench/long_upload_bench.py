"""Benchmark: an upload that takes an hour, over a slow uplink, finishes, with the page's
memory flat and its credentials refreshed on the way.

The uplink is Chromium's own network throttling (DevTools Network.emulateNetworkConditions,
BENCH_UPLINK_MBIT, 2 by default), so tc stays free for other benchmarks; the file is sized
to take BENCH_MINUTES (60) at that rate. Credentials live UPLOAD_CREDENTIALS_SECONDS (900 s,
STS's shortest) and the page refreshes them five minutes before they expire, about every
ten minutes. Counted: the credential requests the page made (the browser's own requests,
seen by Playwright), the memory of the page and its hashing workers (bench/uploader_bench
.MemorySampler) every BENCH_SAMPLE_S (15 s), as peaks per ten minutes, and the stored
object's size and SHA-256 against the file's.

Run:  DATABASE_URL=... .venv/bin/python -m pytest -q -p no:cacheprovider -p no:timeout \
        bench/long_upload_bench.py -o python_files=long_upload_bench.py -s
Writes bench/results/long-upload-<UTC time>.json.
"""

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from uploader_bench import MemorySampler

from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, sign_in, storage, stored_sha256  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]
RESULTS = Path(__file__).parent / "results"
MINUTES = float(os.environ.get("BENCH_MINUTES", "60"))
UPLINK_MBIT = float(os.environ.get("BENCH_UPLINK_MBIT", "2"))
SAMPLE_S = float(os.environ.get("BENCH_SAMPLE_S", "15"))


def test_long_upload(browser, live_server, moto, tenants, tmp_path, settings):
    rate = UPLINK_MBIT * 125_000  # bytes per second
    size = int(MINUTES * 60 * rate) // MIB * MIB
    path = tmp_path / "long.bin"
    expected = make_file(path, size)
    # As a project has it by default: the SHA-256 left to the portal (BENCH_SHA256_IN_BROWSER=1: not).
    in_browser = os.environ.get("BENCH_SHA256_IN_BROWSER") == "1"
    tenants.project_a.sha256_in_browser = in_browser
    tenants.project_a.save(update_fields=["sha256_in_browser"])
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    net = context.new_cdp_session(page)
    net.send("Network.enable")
    net.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": rate},
    )
    credential_calls: list[float] = []
    page.on(
        "request",
        lambda r: (
            r.method == "POST"
            and r.url.endswith("/credentials")
            and credential_calls.append(time.monotonic())
        ),
    )
    sign_in(page, live_server, tenants.alice)
    page.goto(f"{live_server.url}/projects/{tenants.project_a.pk}/")
    page.wait_for_function("() => window.uploader?.manager !== undefined")
    sampler = MemorySampler(browser, page)
    t0 = time.monotonic()
    page.set_input_files("input[data-files]", str(path))
    status = None
    while time.monotonic() - t0 < MINUTES * 60 * 2:
        status = page.evaluate("window.uploader.manager.uploads[0]?.status")
        if status in ("done", "failed", "changed", "paused", "refused", "cancelled"):
            break
        sampler.sample()
        page.wait_for_timeout(int(SAMPLE_S * 1000))
    seconds = time.monotonic() - t0
    row = page.locator("li.upload-row, li.completed-row").first.inner_text()
    context.close()
    assert status == "done", row
    upload = Upload.objects.get(original_name=path.name)
    stored = stored_sha256(upload)
    path.unlink()

    # Peaks of page plus workers per ten minutes: growth shows as later peaks above earlier ones.
    buckets: dict[int, float] = {}
    refreshes_in: dict[int, int] = {}
    for t, _heap, page_mb, workers_mb, _rss in sampler.samples:
        k = int((t - t0) // 600)
        buckets[k] = max(buckets.get(k, 0.0), page_mb + workers_mb)
    for t in credential_calls:
        k = int((t - t0) // 600)
        refreshes_in[k] = refreshes_in.get(k, 0) + 1
    out = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "uplink_mbit_s": UPLINK_MBIT,
        "sha256_in_browser": in_browser,
        "size": size,
        "seconds": round(seconds, 1),
        "status": status,
        "sha256_matches": stored == expected,
        "credential_requests": len(credential_calls),
        "credential_requests_per_10_min": refreshes_in,
        "credentials_seconds": settings.UPLOAD_CREDENTIALS_SECONDS,
        "page_plus_workers_mb_peak_per_10_min": {k: round(v, 1) for k, v in sorted(buckets.items())},
        "memory": sampler.summary(),
    }
    RESULTS.mkdir(exist_ok=True)
    name = RESULTS / f"long-upload-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    name.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    assert stored == expected
