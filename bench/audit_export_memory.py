"""Memory and time of exporting every audit event (CSV and JSON Lines) through the admin
export view, in a fresh process per format so peak RSS means something.

Prints and writes bench/results/audit_export_memory.json: rows, bytes, seconds, the RSS
before the export, the peak RSS during it (sampled every 20 ms and ru_maxrss), and the
growth.

  DATABASE_URL=postgres://.../portal_h7 .venv/bin/python bench/audit_export_memory.py
"""

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(fmt: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    client = Client()
    client.force_login(User.objects.get(username="bench-root@example.com"))
    client.get("/admin/audit/auditevent/")  # warm imports and templates
    before = rss_mib()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mib())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    response = client.get(f"/admin/audit/auditevent/export/{fmt}/")
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "format": fmt,
                "lines": lines,
                "bytes": size,
                "seconds": round(elapsed, 1),
                "rows_per_second": round(lines / elapsed),
                "rss_before_mib": round(before, 1),
                "rss_peak_mib": round(max(peak[0], maxrss), 1),
                "rss_growth_mib": round(max(peak[0], maxrss) - before, 1),
            }
        )
    )


def main() -> None:
    results = []
    for fmt in ("csv", "jsonl"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", fmt],
            capture_output=True,
            text=True,
            check=True,
            timeout=3600,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(row)
        print(
            f"{fmt:5s} {row['lines']:>9,} lines {row['bytes'] / 2**20:8.1f} MiB in {row['seconds']:6.1f} s "
            f"({row['rows_per_second']:,} rows/s); "
            f"RSS {row['rss_before_mib']} -> peak {row['rss_peak_mib']} MiB "
            f"(+{row['rss_growth_mib']} MiB)"
        )
    (ROOT / "bench" / "results" / "audit_export_memory.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main()
