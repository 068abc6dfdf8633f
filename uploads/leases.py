"""Database leases: at most one worker works on a unit of work at a time.

The broker may deliver a task twice (acks_late, a worker killed mid-task, the sweep
re-queueing); the lease, not the broker, decides who runs. A lease that is not renewed
expires, so a dead worker never blocks work for longer than TASK_LEASE_SECONDS."""

import os
import socket
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from uploads.models import TaskLease


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def acquire(key: str, holder: str, seconds: int | None = None) -> bool:
    """Take the lease if it is free or expired. True when `holder` now holds it."""
    seconds = seconds or settings.TASK_LEASE_SECONDS
    now = timezone.now()
    expires = now + timedelta(seconds=seconds)
    for _ in range(2):
        try:
            with transaction.atomic():
                lease = TaskLease.objects.select_for_update().filter(key=key).first()
                if lease is None:
                    TaskLease.objects.create(
                        key=key, holder=holder, expires_at=expires, acquired_at=now, runs=1
                    )
                    return True
                if lease.holder != holder and lease.expires_at > now:
                    return False
                lease.holder, lease.expires_at, lease.acquired_at = holder, expires, now
                lease.runs += 1
                lease.save(update_fields=["holder", "expires_at", "acquired_at", "runs"])
                return True
        except IntegrityError:
            # Another worker created the row between our read and insert: read it again.
            continue
    return False


def renew(key: str, holder: str, seconds: int | None = None) -> bool:
    """Extend a lease we hold; False if it was lost (expired and taken by another)."""
    seconds = seconds or settings.TASK_LEASE_SECONDS
    expires = timezone.now() + timedelta(seconds=seconds)
    return TaskLease.objects.filter(key=key, holder=holder).update(expires_at=expires) == 1


def release(key: str, holder: str) -> None:
    TaskLease.objects.filter(key=key, holder=holder).delete()


@contextmanager
def lease(key: str, seconds: int | None = None):
    """Yields the holder id, or None when someone else holds the lease."""
    holder = new_holder()
    if not acquire(key, holder, seconds):
        yield None
        return
    try:
        yield holder
    finally:
        release(key, holder)


def checkpoint(name: str) -> None:
    """Test hook, off unless TASK_TEST_CHECKPOINT_DIR is set: announce reaching `name`
    and wait while `<name>.hold` exists, so a test can kill the worker exactly here."""
    folder = settings.TASK_TEST_CHECKPOINT_DIR
    if not folder:
        return
    path = Path(folder)
    (path / f"{name}.reached").write_text(str(os.getpid()))
    while (path / f"{name}.hold").exists():
        time.sleep(0.05)
