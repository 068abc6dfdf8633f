"""Admin audit list latency on the events seeded by bench/audit_seed.py.

Drives the real admin views through Django's test client against DATABASE_URL (no
network server in between: this measures the view and its queries). Prints p50/p95 per
scenario and writes bench/results/audit_admin_list.json.

  DATABASE_URL=postgres://.../portal_h7 .venv/bin/python bench/audit_admin_list.py
"""

import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from accounts.models import Organization  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from uploads.models import UploadProject  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
URL = "/admin/audit/auditevent/"


def measure(client: Client, params: dict) -> list[float]:
    times = []
    for i in range(REPEAT + 3):
        t = time.perf_counter()
        response = client.get(URL, params)
        elapsed = (time.perf_counter() - t) * 1000
        assert response.status_code == 200, (params, response.status_code)
        if i >= 3:  # warm-up
            times.append(elapsed)
    return times


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    setup_test_environment()
    total = AuditEvent.objects.order_by("-id").values_list("seq", flat=True).first()
    root = User.objects.get(username="bench-root@example.com")
    consultant = User.objects.get(username="bench-consultant@example.com")
    org = Organization.objects.get(slug="bench-01")
    other_org = Organization.objects.get(slug="bench-30")
    project = UploadProject.objects.filter(organization=org).first()
    actor = User.objects.get(username="bench-user1@example.com")
    week_ago = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    month_start = (datetime.now(UTC) - timedelta(days=200)).isoformat()
    month_end = (datetime.now(UTC) - timedelta(days=170)).isoformat()
    as_root, as_consultant = Client(), Client()
    as_root.force_login(root)
    as_consultant.force_login(consultant)

    scenarios = [
        ("superuser: newest page", as_root, {}),
        ("superuser: page 50", as_root, {"p": 50}),
        ("superuser: action filter", as_root, {"action": "upload.failed"}),
        ("superuser: organisation filter", as_root, {"organization": other_org.pk}),
        ("superuser: project filter", as_root, {"project": project.pk}),
        ("superuser: actor filter", as_root, {"actor": actor.pk}),
        ("superuser: past 7 days", as_root, {"created_at__gte": week_ago}),
        (
            "superuser: a month, 6 months ago",
            as_root,
            {"created_at__gte": month_start, "created_at__lt": month_end},
        ),
        ("superuser: project + action", as_root, {"project": project.pk, "action": "upload.completed"}),
        ("superuser: search exact target id", as_root, {"q": f"{123457:032x}"}),
        ("consultant (5 of 50 orgs): newest page", as_consultant, {}),
        ("consultant: project filter", as_consultant, {"project": project.pk}),
        ("consultant: action filter", as_consultant, {"action": "upload.aborted"}),
    ]
    slow = [("superuser: free-text search (scan, not in the target)", as_root, {"q": "user42@"})]
    results = {"events": total, "repeat": REPEAT, "target_p95_ms": 300, "scenarios": []}
    print(f"{total:,} events; {REPEAT} requests per scenario after 3 warm-up")
    for name, client, params in scenarios + slow:
        times = measure(client, params) if (name, client, params) not in slow else measure_few(client, params)
        row = {
            "scenario": name,
            "params": {k: str(v) for k, v in params.items()},
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(p(times, 95), 1),
            "max_ms": round(max(times), 1),
        }
        results["scenarios"].append(row)
        print(
            f"{name:58s} p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms"
            f"  max {row['max_ms']:7.1f} ms"
        )
    worst = max(r["p95_ms"] for r in results["scenarios"][: len(scenarios)])
    results["worst_p95_ms"] = worst
    print(f"worst p95 over the indexed scenarios: {worst} ms (target 300 ms)")
    out = ROOT / "bench" / "results" / "audit_admin_list.json"
    out.write_text(json.dumps(results, indent=2) + "\n")


def measure_few(client: Client, params: dict) -> list[float]:
    times = []
    for _ in range(5):
        t = time.perf_counter()
        assert client.get(URL, params).status_code == 200
        times.append((time.perf_counter() - t) * 1000)
    return times


if __name__ == "__main__":
    main()
