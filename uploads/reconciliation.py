"""Periodic reconciliation of the database with S3 (the `uploads.reconcile` task).

Each step is idempotent and audited, and runs on its own so one failing S3 call does not
stop the others:
- uploads with no heartbeat for UPLOAD_STALLED_AFTER_SECONDS become `stalled` (staff told once);
- unfinished uploads past the project's limit (abandon_after_hours, or the deadline plus the
  grace period) are aborted on S3 and marked `aborted`, and S3 multipart uploads no row
  knows about are aborted too;
- objects that arrived through the AWS CLI are picked up and verified;
- a version on a received upload's key other than the recorded one, or any object on an
  aborted upload's key, is flagged to staff as tampering (the recorded version still counts),
  early while credentials live and finally through the storage layer's foreign-write check;
- open projects past their deadline (plus grace) are closed;
- the bucket policy is rewritten with current credential revocations."""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

import audit
from uploads import delivery, dispatch, integrity, leases, lifecycle, notifications, s3
from uploads.models import NotificationItem, Upload, UploadProject

log = logging.getLogger(__name__)

# S3 multipart uploads no row knows about are left alone this long (one may be mid-create).
ORPHAN_MULTIPART_AGE = timedelta(hours=24)


def run() -> dict[str, int]:
    """One reconciliation pass. A lease keeps two beat schedulers from overlapping."""
    with leases.lease("reconcile") as holder:
        if holder is None:
            return {"skipped": 1}
        counts: dict[str, int] = {}
        steps: list[tuple[str, Callable[[], int]]] = [
            ("projects_closed", close_projects_past_deadline),
            ("stalled", mark_stalled),
            ("interrupted_completes", recover_interrupted_completes),
            ("aborted", abort_abandoned),
            ("orphan_multipart_aborted", abort_orphan_multipart_uploads),
            ("cli_picked_up", pick_up_cli_uploads),
            ("tampering", detect_tampering),
            ("missing_from_storage", integrity.sweep),
            ("datapump_logs_read", delivery.delivery_read_missed_logs),
            ("bucket_policy_written", apply_bucket_policy),
        ]
        for name, step in steps:
            try:
                counts[name] = step()
            except Exception:  # noqa: BLE001 - one step's failure must not stop the rest
                log.exception("Reconciliation step %s failed", name)
                counts[name] = -1
        return counts


def apply_bucket_policy() -> int:
    """Keep revocations in the bucket policy and drop expired ones (the storage layer's rule).
    Only when revocation rows exist: otherwise setup_storage's policy is already current."""
    from uploads.models import CredentialRevocation

    if not CredentialRevocation.objects.exists():
        return 0
    return int(lifecycle.apply_bucket_policy())


def close_projects_past_deadline(now=None) -> int:
    """Close open projects once their deadline and grace period have passed. Between the
    two no new upload can start (is_accepting_uploads checks the deadline) but uploads
    already running may still finish, refresh credentials and complete."""

    now = now or timezone.now()
    closed = 0
    candidates = UploadProject.objects.filter(status=UploadProject.Status.OPEN, open_until__lt=now)
    for project in candidates.select_related("organization"):
        if now < project.open_until + timedelta(hours=project.grace_period_hours):
            continue
        with transaction.atomic():
            # closed_at starts the retention period (uploads.retention), as a close in admin does.
            changed = UploadProject.objects.filter(pk=project.pk, status=UploadProject.Status.OPEN).update(
                status=UploadProject.Status.CLOSED, closed_at=now
            )
            if changed:
                audit.record(
                    "project.closed_by_deadline",
                    target=project,
                    open_until=project.open_until.isoformat(),
                    grace_period_hours=project.grace_period_hours,
                )
                # Credentials vended before the close must stop working too.
                lifecycle.revoke_project_credentials(project, "Deadline and grace period passed.")
                closed += 1
    return closed


def mark_stalled(now=None) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.UPLOAD_STALLED_AFTER_SECONDS)
    candidates = (
        Upload.objects.filter(status__in=Upload.HEARTBEATING)
        .exclude(source=Upload.Source.CLI)  # the CLI sends no heartbeats
        .annotate(heartbeat=Coalesce(F("last_progress_at"), F("created_at")))
        .filter(heartbeat__lt=cutoff)
        .select_related("project__organization")
    )
    stalled = 0
    for upload in candidates:
        with transaction.atomic():
            moved = upload.transition(
                Upload.Status.STALLED,
                allowed=Upload.HEARTBEATING,
                action="upload.stalled",
                audit_data={
                    "bytes_confirmed": upload.bytes_confirmed,
                    "last_heartbeat": upload.heartbeat.isoformat(),
                },
                status_reason="No progress reported since the last heartbeat.",
            )
            if moved is None:
                continue
            notifications.notify_stalled(upload)
            stalled += 1
    return stalled


def recover_interrupted_completes(now=None) -> int:
    """Uploads left `completing` longer than any complete takes: their web process died."""

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.UPLOAD_COMPLETE_TIMEOUT_SECONDS)
    stuck = Upload.objects.filter(status=Upload.Status.COMPLETING, updated_at__lt=cutoff)
    return sum(lifecycle.recover_interrupted_complete(u) != "unchanged" for u in stuck)


def abandon_reason(upload: Upload, now) -> str:
    project = upload.project
    if upload.created_at < now - timedelta(hours=project.abandon_after_hours):
        return f"Not finished within {project.abandon_after_hours} hours."
    if project.open_until and now > project.open_until + timedelta(hours=project.grace_period_hours):
        return "Not finished before the project's deadline and grace period."
    return ""


def abort_abandoned(now=None) -> int:
    now = now or timezone.now()
    aborted = 0
    candidates = Upload.objects.filter(status__in=Upload.ACTIVE).select_related("project__organization")
    for upload in candidates:
        reason = abandon_reason(upload, now)
        if not reason:
            continue
        s3_aborted = False
        if upload.multipart_upload_id:
            # S3 first: if this fails the row stays as it was and the next pass retries.
            s3_aborted = s3.abort_multipart_upload(upload.object_key, upload.multipart_upload_id)
        moved = upload.transition(
            Upload.Status.ABORTED,
            allowed={upload.status},
            action="upload.aborted_abandoned",
            audit_data={
                "reason": reason,
                "bytes_confirmed": upload.bytes_confirmed,
                "s3_multipart_aborted": s3_aborted,
            },
            status_reason=reason,
        )
        aborted += moved is not None
    return aborted


def abort_orphan_multipart_uploads(now=None) -> int:
    """S3 multipart uploads under a project's prefix that no unfinished row owns."""
    now = now or timezone.now()
    active = set(
        Upload.objects.filter(status__in=Upload.IN_PROGRESS)
        .exclude(multipart_upload_id="")
        .values_list("multipart_upload_id", flat=True)
    )
    aborted = 0
    for project in UploadProject.objects.select_related("organization"):
        for mpu in s3.list_multipart_uploads(project.key_prefix):
            initiated = mpu.initiated
            if mpu.upload_id in active or (initiated and initiated > now - ORPHAN_MULTIPART_AGE):
                continue
            # CLI copies run their own multipart uploads: leave those to the CLI while its
            # upload row is unfinished.
            if Upload.objects.filter(
                object_key=mpu.key, source=Upload.Source.CLI, status__in=Upload.IN_PROGRESS
            ).exists():
                continue
            if s3.abort_multipart_upload(mpu.key, mpu.upload_id):
                audit.record("storage.orphan_multipart_aborted", target=project, key=mpu.key)
                aborted += 1
    return aborted


def pick_up_cli_uploads() -> int:
    """CLI uploads whose object has arrived: record its version and queue verification."""
    picked = 0
    waiting = Upload.objects.filter(
        source=Upload.Source.CLI,
        status__in=Upload.ACTIVE,
    ).select_related("project__organization")
    for upload in waiting:
        try:
            head = s3.head_object(upload.object_key)
        except s3.StorageError as exc:
            if exc.missing:
                continue
            raise
        moved = upload.transition(
            Upload.Status.UPLOADED,
            allowed={upload.status},
            action="upload.received_cli",
            audit_data={"version_id": head.version_id, "size": head.size},
            version_id=head.version_id,
            etag=head.etag,
            bytes_confirmed=head.size,
            completed_at=timezone.now(),
        )
        if moved is not None:
            dispatch.verify_after_commit(upload.pk)
            picked += 1
    return picked


def detect_tampering(now=None) -> int:
    """Two passes over the keys customers could write to:
    - early, while vended credentials still live: any version other than the recorded one
      (or any object on an aborted upload's key) is reported to staff at once;
    - final, once the last credentials expired: the storage layer's one-off foreign-write
      check (integrity.check_foreign_writes: aborts foreign multipart uploads, audits), and
      staff are told about anything not already reported.
    Nothing is deleted: the recorded version stays the one that counts."""

    now = now or timezone.now()
    flagged = 0
    live = Upload.objects.filter(
        status__in=Upload.FINISHED,
        credentials_expire_at__gt=now,
    ).select_related("project__organization")
    for upload in live:
        flagged += integrity.report_written_over(upload)
    for upload in integrity.due_for_foreign_check(now).select_related("project__organization")[:500]:
        # The one listing of the key's history in its life: only a listing shows versions
        # written before the recorded one.
        versions = s3.list_object_versions(upload.object_key)
        findings = integrity.check_foreign_writes(upload, versions=versions)
        if not findings:
            continue
        upload.refresh_from_db()
        unseen = [
            (version_id, detail)
            for version_id, detail in _foreign_versions(upload, versions)
            if not NotificationItem.objects.filter(
                dedupe_key=f"staff:{upload.pk}:tampering:{version_id}"
            ).exists()
        ]
        if unseen or any("multipart" in f for f in findings):
            with transaction.atomic():
                if notifications.notify_tampering(upload, "final-check", "; ".join(findings)):
                    flagged += 1
    return flagged


def _foreign_versions(upload: Upload, versions: list[s3.Version]) -> list[tuple[str, str]]:
    recorded = upload.version_id if upload.status != Upload.Status.ABORTED else None
    if upload.status != Upload.Status.ABORTED and not recorded:
        return []
    found = []
    for version in versions:
        if version.version_id == recorded:
            continue
        if upload.status == Upload.Status.ABORTED:
            detail = "An object was stored on the key of an aborted upload."
        elif version.delete_marker:
            detail = "The file was deleted (a delete marker was added)."
        else:
            detail = "A different version of the file was written after it was received."
        found.append((version.version_id or "null", detail))
    return found
