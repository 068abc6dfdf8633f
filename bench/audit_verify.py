"""Time verify_audit's walk over the whole chain and record()'s append rate (1 and 8
writers) on the database in DATABASE_URL. Writes bench/results/audit_verify.json.

  DATABASE_URL=postgres://.../portal_h7 .venv/bin/python bench/audit_verify.py
"""

import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402

import audit  # noqa: E402
from audit.verify import verify_chain  # noqa: E402


def append_rate(writers: int, per_writer: int) -> float:
    def work() -> None:
        for i in range(per_writer):
            audit.record("auth.logout", actor_label=f"bench-{i}")
        connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(writers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return writers * per_writer / (time.perf_counter() - started)


def main() -> None:
    results = {
        "append_events_per_second_1_writer": round(append_rate(1, 2000)),
        "append_events_per_second_8_writers": round(append_rate(8, 250)),
    }
    started = time.perf_counter()
    outcome = verify_chain()
    elapsed = time.perf_counter() - started
    results |= {
        "verified_events": outcome.checked,
        "ok": outcome.ok,
        "verify_seconds": round(elapsed, 1),
        "verify_events_per_second": round(outcome.checked / elapsed),
    }
    print(json.dumps(results, indent=2))
    (ROOT / "bench" / "results" / "audit_verify.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
