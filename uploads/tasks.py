"""Celery tasks. Each is a thin trigger: the database says what is left to do, the work is
idempotent and keyed by the upload, and a database lease (uploads.leases) decides which
worker runs it. Losing or duplicating a message therefore loses or duplicates nothing."""

import logging

from celery import shared_task
from django.db import transaction

log = logging.getLogger(__name__)

# Transient failures (S3 unreachable, database restarting) are retried with exponential
# backoff; the sweep picks up anything that exhausts its retries.
RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="uploads.verify_upload", **RETRY)
def verify_upload(upload_id: str) -> str:
    from uploads import verification

    outcome = verification.verify(upload_id)
    return outcome


@shared_task(name="uploads.deliver_notification", **RETRY)
def deliver_notification(notification_id: int) -> str:
    from uploads import notifications

    return notifications.deliver(notification_id)


@shared_task(name="uploads.sweep")
def sweep() -> dict[str, int]:
    """Re-queue what the database says is unfinished: uploads waiting for verification,
    and notifications whose time has come. Runs every SWEEP_INTERVAL_SECONDS."""
    from uploads import notifications, verification

    upload_ids = verification.pending_upload_ids()
    for upload_id in upload_ids:
        verify_upload.delay(str(upload_id))
    notification_ids = notifications.due_ids()
    for notification_id in notification_ids:
        deliver_notification.delay(notification_id)
    return {"verifications": len(upload_ids), "notifications": len(notification_ids)}


@shared_task(name="uploads.reconcile")
def reconcile() -> dict[str, int]:
    from uploads import notifications, reconciliation

    counts = reconciliation.run()
    # Stalled and tampering notices are due at once; do not wait for the next sweep.
    for notification_id in notifications.due_ids():
        deliver_notification.delay(notification_id)
    return counts


def queue_verification(upload_id: str) -> None:
    """Trigger verification once the surrounding transaction commits (the worker must see
    the committed row; if the message is lost, the sweep re-queues it)."""
    transaction.on_commit(lambda: verify_upload.delay(str(upload_id)))


def queue_notifications(ids: list[int]) -> None:
    for notification_id in ids:
        transaction.on_commit(lambda n=notification_id: deliver_notification.delay(n))
