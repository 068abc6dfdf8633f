import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connections, transaction

import audit
from audit.chain import canonical_bytes, event_fields
from audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from audit.verify import verify_chain

ROOT = Path(__file__).resolve().parents[2]


class TestHashChain:
    def test_it_links_each_event_to_the_previous_one(self, db):
        first = audit.record("auth.logout", actor_label="a")
        second = audit.record("auth.logout", actor_label="b")
        assert (first.seq, second.seq) == (first.seq, first.seq + 1)
        assert second.prev_hash == first.hash
        assert second.hash == hashlib.sha256(canonical_bytes(event_fields(second))).hexdigest()
        head = AuditChainHead.objects.get()
        assert (head.seq, head.hash) == (second.seq, second.hash)

    def test_the_hash_covers_what_reads_back_from_the_database(self, db, tenants):
        event = audit.record(
            "membership.added",
            actor=tenants.consultant,
            target=tenants.project_a,
            user="alice@acme.example",
            role="uploader",
        )
        stored = AuditEvent.objects.get(pk=event.pk)
        assert stored.hash == hashlib.sha256(canonical_bytes(event_fields(stored))).hexdigest()
        assert json.loads(canonical_bytes(event_fields(stored)))["organization_id"] == tenants.org_a.pk

    def test_it_starts_from_the_genesis_hash(self, db):
        event = audit.record("auth.logout", actor_label="a")
        assert event.seq == 1
        assert event.prev_hash == GENESIS_HASH

    def test_a_rolled_back_caller_leaves_a_valid_chain(self, db):
        audit.record("auth.logout", actor_label="kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            audit.record("auth.logout", actor_label="rolled back")
            raise RuntimeError("caller failed after recording")
        after = audit.record("auth.logout", actor_label="after")
        assert not AuditEvent.objects.filter(actor_label="rolled back").exists()
        assert after.seq == 2
        assert verify_chain().ok

    def test_it_keeps_only_real_ip_addresses(self, db, rf):
        from audit.context import RequestContext, current_request

        token = current_request.set(RequestContext(ip="not-an-ip, 10.0.0.1", user_agent="x"))
        try:
            event = audit.record("auth.logout", actor_label="a")
        finally:
            current_request.reset(token)
        assert event.ip is None
        assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_eight_threads_writing_a_thousand_events_each_leave_one_valid_chain():
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(1000):
                audit.record("auth.logout", actor_label=f"writer-{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert AuditEvent.objects.count() == 8000
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 8001))
    # One chain: no two events share a predecessor.
    assert AuditEvent.objects.values("prev_hash").distinct().count() == 8000
    result = verify_chain()
    assert result.ok, str(result)
    assert result.checked == 8000


def test_it_works_on_sqlite(tmp_path):
    """The embedded default: migrations, 4 concurrent writers, the ORM guard and
    verify_audit on SQLite."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run("migrate", "-v0").returncode == 0
    script = (
        "import threading\n"
        "import audit\n"
        "from django.db import connections\n"
        "from audit.models import AuditEvent, AppendOnlyError\n"
        "errors = []\n"
        "def write(n):\n"
        "    try:\n"
        "        for i in range(50): audit.record('auth.logout', actor_label=f'w{n}-{i}')\n"
        "    except Exception as exc:\n"
        "        errors.append(repr(exc))\n"
        "    finally:\n"
        "        connections.close_all()\n"
        "threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print('errors', errors)\n"
        "e = AuditEvent.objects.first()\n"
        "try:\n    e.delete()\nexcept AppendOnlyError:\n    print('refused')\n"
    )
    shell = run("shell", "-c", script)
    assert shell.returncode == 0, shell.stderr
    assert "errors []" in shell.stdout
    assert "refused" in shell.stdout
    verify = run("verify_audit", "--no-archive")
    assert verify.returncode == 0, verify.stderr
    assert "OK: 200 events" in verify.stdout
