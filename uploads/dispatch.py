"""Asking for background work. Services and periodic jobs call these; only uploads.tasks
knows the work runs on Celery: it connects its tasks here when it is loaded (UploadsConfig.ready).

Each request waits for the surrounding transaction to commit, so the worker sees the
committed row. A lost message loses nothing: the sweep re-queues what the database says
is unfinished."""

from collections.abc import Callable
from uuid import UUID

from django.db import transaction

_senders: dict[str, Callable[..., object]] = {}


def connect(*, verify: Callable[[str], object], deliver: Callable[[int], object]) -> None:
    _senders.update(verify=verify, deliver=deliver)


def verify_after_commit(upload_id: UUID | str) -> None:
    """Verify this upload once the current transaction commits."""
    upload_id = str(upload_id)
    transaction.on_commit(lambda: _senders["verify"](upload_id))


def deliver_now(notification_ids: list[int]) -> None:
    """Send these notifications now (they are committed already)."""
    for notification_id in notification_ids:
        _senders["deliver"](notification_id)
