"""Benchmark: how close the customer's speed limit holds over a minute, on an unshaped link.

The customer types a limit into "Use at most N Mbit/s" and picks a 1 GiB file; the page
uploads to moto over the loopback (which alone goes far faster than the limit). The rate is
counted on the wire side: the part PUTs the browser saw answered 200, by the time each
answer arrived, over the window from the first answer after a warm-up to the last one a
minute later (bytes of the parts answered inside the window, over the window's length).
The limiter's own log is reported beside it.

Run:  .venv/bin/pytest bench/speed_limit_bench.py -o python_files=speed_limit_bench.py -s -q
Writes bench/results/speed-limit-<UTC time>.json and prints it.
"""

import json
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from uploads.models import Upload
from uploads.tests.browser import make_file, sign_in, storage  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]
RESULTS = Path(__file__).parent / "results"
LIMIT_MBIT = float(os.environ.get("BENCH_LIMIT_MBIT", "100"))
WARMUP_S = 10
WINDOW_S = 60
PART = re.compile(r"[?&]partNumber=(\d+)")


def test_speed_limit_holds_over_a_minute(browser, live_server, tenants, tmp_path):
    size = int((WARMUP_S + WINDOW_S + 15) * LIMIT_MBIT * 125_000)  # outlasts the window
    path = tmp_path / "limited.bin"
    make_file(path, size)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    sign_in(page, live_server, tenants.alice)
    page.goto(f"{live_server.url}/projects/{tenants.project_a.pk}/")
    page.wait_for_function("() => window.uploader?.manager !== undefined")
    field = page.get_by_label("Use at most")
    field.fill(f"{LIMIT_MBIT:g}")
    field.dispatch_event("change")

    answered: list[tuple[float, int]] = []  # (monotonic time of the 200, part number)

    def on_response(response):
        m = PART.search(response.url)
        if response.request.method == "PUT" and m and response.status == 200:
            answered.append((time.monotonic(), int(m.group(1))))

    page.on("response", on_response)
    t0 = time.monotonic()
    page.set_input_files("input[data-files]", str(path))
    while time.monotonic() - t0 < WARMUP_S + WINDOW_S + 2:
        page.wait_for_timeout(50)
    admitted = page.evaluate(
        "() => { const l = window.uploader.manager.limiter; return {rate: l.bytesPerSecond, log: l.log}; }"
    )
    context.close()
    path.unlink()
    # Every part inside the window is a whole one (the file outlasts it): Blob bodies are
    # not copied into Playwright's events, so their size comes from the upload's plan.
    part_size = Upload.objects.get(original_name=path.name).part_size

    after_warmup = [(t, n) for t, n in answered if t - t0 >= WARMUP_S]
    start_t = after_warmup[0][0]
    inside = [(t, n) for t, n in after_warmup[1:] if t - start_t <= WINDOW_S]
    window_s = inside[-1][0] - start_t
    wire_bytes_s = len(inside) * part_size / window_s
    log = admitted["log"]  # [performance.now() ms, bytes]
    log_window = [e for e in log if log[-1][0] - e[0] <= WINDOW_S * 1000]
    limiter_bytes_s = sum(b for _, b in log_window[1:]) / ((log_window[-1][0] - log_window[0][0]) / 1000)
    limit_bytes_s = LIMIT_MBIT * 125_000
    out = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "limit_mbit_s": LIMIT_MBIT,
        "part_size": part_size,
        "window_seconds": round(window_s, 2),
        "parts_in_window": len(inside),
        "wire_mbit_s": round(wire_bytes_s / 125_000, 2),
        "wire_vs_limit_percent": round(100 * (wire_bytes_s / limit_bytes_s - 1), 2),
        "limiter_admitted_mbit_s": round(limiter_bytes_s / 125_000, 2),
    }
    RESULTS.mkdir(exist_ok=True)
    name = RESULTS / f"speed-limit-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    name.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
