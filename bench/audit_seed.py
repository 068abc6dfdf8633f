"""Fill the audit log of the database in DATABASE_URL with N chained events (default
1,000,000) for the audit benchmarks, with COPY (record() one by one would take an hour).

Events spread over a year, 50 organisations (4 projects each), 500 customers; every hash
is computed exactly as audit.chain does, so verify_audit passes on the result.

  DATABASE_URL=postgres://.../portal_h7 .venv/bin/python bench/audit_seed.py 1000000
"""

import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts.models import Membership, Organization  # noqa: E402
from audit.chain import HASHED_FIELDS, compute_hash, normalise_data  # noqa: E402
from audit.models import GENESIS_HASH, AuditChainHead  # noqa: E402
from uploads.models import UploadProject  # noqa: E402

ORGS, PROJECTS_PER_ORG, CUSTOMERS = 50, 4, 500
ACTIONS = [
    ("upload.created", 30),
    ("upload.credentials_issued", 30),
    ("upload.completed", 12),
    ("upload.verified", 10),
    ("auth.login.succeeded", 8),
    ("auth.login.failed", 3),
    ("upload.aborted", 2),
    ("request.refused", 2),
    ("membership.added", 1),
    ("admin.uploadproject.changed", 1),
    ("upload.failed", 1),
]
COLUMNS = (*HASHED_FIELDS, "hash")


def tenants():
    with transaction.atomic():
        consultant, _ = User.objects.get_or_create(
            username="bench-consultant@example.com",
            defaults={"email": "bench-consultant@example.com", "is_staff": True},
        )
        root, _ = User.objects.get_or_create(
            username="bench-root@example.com",
            defaults={"email": "bench-root@example.com", "is_staff": True, "is_superuser": True},
        )
        orgs, projects, customers = [], [], []
        for i in range(ORGS):
            org, _ = Organization.objects.get_or_create(
                slug=f"bench-{i:02d}", defaults={"name": f"Bench {i:02d}"}
            )
            if i < 5:
                org.account_team.add(consultant)
            orgs.append(org)
            for j in range(PROJECTS_PER_ORG):
                p, _ = UploadProject.objects.get_or_create(
                    organization=org, slug=f"p{j}", defaults={"name": f"P{j}"}
                )
                projects.append(p)
        for k in range(CUSTOMERS):
            email = f"bench-user{k}@example.com"
            u, created = User.objects.get_or_create(username=email, defaults={"email": email})
            if created:
                Membership.objects.create(user=u, organization=orgs[k % ORGS], role="uploader")
            customers.append(u)
    return orgs, projects, customers


def main(n: int) -> None:
    started = time.monotonic()
    orgs, projects, customers = tenants()
    by_org = {}
    for p in projects:
        by_org.setdefault(p.organization_id, []).append(p)
    rng = random.Random(7)
    names, weights = zip(*ACTIONS, strict=True)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent RESTART IDENTITY")
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / n
    prev = GENESIS_HASH
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur, cur.copy(f"COPY audit_auditevent ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for seq in range(1, n + 1):
            action = rng.choices(names, weights)[0]
            k = rng.randrange(CUSTOMERS)
            user, org_id = customers[k], orgs[k % ORGS].pk  # as the memberships were made
            project = rng.choice(by_org[org_id])
            system = action in ("upload.verified", "upload.failed")
            no_org = action.startswith("auth.")
            data = normalise_data(
                {"name": f"export-{seq}.dmp", "size": rng.randrange(1, 1 << 40)}
                if action.startswith("upload.")
                else {"reason": "bad_credentials"}
                if action == "auth.login.failed"
                else {}
            )
            fields = {
                "seq": seq,
                "created_at": start + step * seq,
                "action": action,
                "actor_id": None if system else user.pk,
                "actor_label": "" if system else user.email,
                "ip": None if system else f"198.51.100.{seq % 250 + 1}",
                "user_agent": "" if system else "Mozilla/5.0 (X11; Linux x86_64) Chrome/156",
                "organization_id": None if no_org else org_id,
                "project_id": None if no_org else project.pk,
                "target_type": "uploads.Upload" if action.startswith("upload.") else "",
                "target_id": f"{seq:032x}" if action.startswith("upload.") else "",
                "target_label": f"export-{seq}.dmp" if action.startswith("upload.") else "",
                "data": data,
                "prev_hash": prev,
            }
            fields["hash"] = compute_hash(fields)
            prev = fields["hash"]
            row = [fields[c] for c in COLUMNS]
            row[COLUMNS.index("data")] = json.dumps(data)
            copy.write_row(row)
            if seq % 100_000 == 0:
                print(f"  {seq:,} events, {time.monotonic() - started:.0f} s", flush=True)
    raw.commit()
    AuditChainHead.objects.update_or_create(pk=1, defaults={"seq": n, "hash": prev})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    print(f"seeded {n:,} events in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    call_command("migrate", verbosity=0)
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
