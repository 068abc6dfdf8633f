"""Celery tasks. Each is a thin trigger: the database says what is left to do, the work is
idempotent and keyed by the upload, and a database lease (uploads.leases) decides which
worker runs it. Losing or duplicating a message therefore loses or duplicates nothing."""

import logging

from celery import shared_task

from uploads import dispatch, notifications, reconciliation, retention, verification

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
    outcome = verification.verify(upload_id)
    return outcome


@shared_task(name="uploads.deliver_notification", **RETRY)
def deliver_notification(notification_id: int) -> str:
    return notifications.deliver(notification_id)


@shared_task(name="uploads.sweep")
def sweep() -> dict[str, int]:
    """Re-queue what the database says is unfinished: uploads waiting for verification,
    and notifications whose time has come. Runs every SWEEP_INTERVAL_SECONDS."""
    upload_ids = verification.pending_upload_ids()
    for upload_id in upload_ids:
        verify_upload.delay(str(upload_id))
    notification_ids = notifications.due_ids()
    dispatch.deliver_now(notification_ids)
    return {"verifications": len(upload_ids), "notifications": len(notification_ids)}


@shared_task(name="uploads.reconcile")
def reconcile() -> dict[str, int]:
    counts = reconciliation.run()
    # Stalled and tampering notices are due at once; do not wait for the next sweep.
    dispatch.deliver_now(notifications.due_ids())
    return counts


@shared_task(name="uploads.apply_retention")
def apply_retention() -> int:
    """Delete, and certify the deletion of, every closed project whose retention is due. A
    run stopped half-way is finished by the next: the open certificate is resumed."""
    return retention.apply_retention()


dispatch.connect(
    verify=lambda upload_id: verify_upload.delay(upload_id),
    deliver=lambda notification_id: deliver_notification.delay(notification_id),
)
