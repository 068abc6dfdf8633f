"""Does storage still hold what the portal recorded? The periodic integrity sweep looks at
each received file's recorded version (one HeadObject, no bytes read) and flags a file
whose version is gone or holds other data: a lifecycle rule, a deletion in the console, or
a local S3 that lost its data on restart. A flagged file is audited once, staff are told
once, the project page and the admin say "Missing from storage", and no download link is
issued for it. A file found again is unflagged (and audited).

Also the one check for foreign writes, once an upload's last credentials have expired:
PutObject let their holder write over the key, so anything there but the recorded version
is found and reported."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

import audit
from uploads import notifications, s3
from uploads.models import Upload


def due_for_sweep(now: datetime | None = None) -> QuerySet[Upload]:
    """Received files not looked at within INTEGRITY_SWEEP_HOURS, the longest unseen first."""
    now = now or timezone.now()
    stale = now - timedelta(hours=settings.INTEGRITY_SWEEP_HOURS)
    return (
        Upload.objects.filter(status__in=Upload.RECEIVED)
        .exclude(version_id="")
        .filter(Q(integrity_checked_at__isnull=True) | Q(integrity_checked_at__lt=stale))
        .order_by(F("integrity_checked_at").asc(nulls_first=True), "pk")
    )


def sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """One pass over the files due. Returns how many were newly found missing."""
    now = now or timezone.now()
    flagged = 0
    for upload in due_for_sweep(now).select_related("project__organization")[:limit]:
        if check_stored(upload, now=now) is False:
            flagged += 1
    return flagged


def recheck_all() -> int:
    """Make every received file due at once, for when storage is known to have lost data
    (the local S3 came back without its bucket)."""
    return Upload.objects.filter(status__in=Upload.RECEIVED).update(integrity_checked_at=None)


def check_stored(upload: Upload, *, now: datetime | None = None) -> bool | None:
    """True when the recorded version is there with the recorded size and CRC64NVME; False
    when this check newly found it missing or changed; None when it was already flagged."""
    now = now or timezone.now()
    problem = _problem(upload)
    if problem is None:
        with transaction.atomic():
            restored = Upload.objects.filter(pk=upload.pk, missing_since__isnull=False).update(
                missing_since=None, status_reason="", integrity_checked_at=now
            )
            if restored:
                audit.record("upload.object_restored", target=upload, version_id=upload.version_id)
            else:
                Upload.objects.filter(pk=upload.pk).update(integrity_checked_at=now)
        upload.missing_since = None
        report_written_over(upload)
        return True
    with transaction.atomic():
        newly = Upload.objects.filter(pk=upload.pk, missing_since__isnull=True).update(
            missing_since=now, status_reason=problem, integrity_checked_at=now
        )
        if not newly:
            Upload.objects.filter(pk=upload.pk).update(integrity_checked_at=now)
            return None
        upload.missing_since, upload.status_reason = now, problem
        audit.record("upload.object_missing", target=upload, version_id=upload.version_id, detail=problem)
        notifications.notify_missing(upload, problem)
    return False


def report_written_over(upload: Upload) -> int:
    """Tell staff (once per version) and audit anything current on the key other than the
    recorded version. Reconciliation asks while credentials live; afterwards only someone
    with bucket access (a console click, a lifecycle rule) can write here, and the sweep is
    what notices. Returns how many findings were new."""
    new = 0
    for version_id, detail in written_over(upload):
        with transaction.atomic():
            if notifications.notify_tampering(upload, version_id, detail):
                audit.record(
                    "upload.tampering_detected",
                    target=upload,
                    recorded_version=upload.version_id,
                    found_version=version_id,
                    detail=detail,
                )
                new += 1
    return new


def _problem(upload: Upload) -> str | None:
    try:
        head = s3.head_object(upload.object_key, upload.version_id or None)
    except s3.StorageError as exc:
        if not exc.missing:
            raise
        return "Storage no longer has this file: the recorded version is gone."
    if head.size != upload.size:
        return f"Storage holds {head.size:,} bytes at the recorded version; the file had {upload.size:,}."
    recorded = upload.checksum_crc64nvme
    if recorded and head.checksum_crc64nvme and head.checksum_crc64nvme != recorded:
        return "Storage holds other data at the recorded version (its CRC64NVME differs)."
    return None


def written_over(upload: Upload) -> list[tuple[str, str]]:
    """(version id, what happened) for anything current on the key other than the recorded
    version: a write or a delete after it makes something else current. One HeadObject,
    so reconciliation can ask on every pass while credentials live."""
    recorded = upload.version_id if upload.status != Upload.Status.ABORTED else None
    if upload.status != Upload.Status.ABORTED and not recorded:
        return []
    latest = s3.head_latest(upload.object_key)
    if upload.status == Upload.Status.ABORTED:
        if latest.exists:
            return [(latest.version_id or "null", "An object was stored on the key of an aborted upload.")]
        return []
    if latest.delete_marker:
        return [(latest.version_id or "null", "The file was deleted (a delete marker was added).")]
    if latest.exists and latest.version_id != recorded:
        detail = "A different version of the file was written after it was received."
        return [(latest.version_id or "null", detail)]
    return []


# Foreign writes -----------------------------------------------------------------------


def due_for_foreign_check(now: datetime | None = None) -> QuerySet[Upload]:
    """Uploads whose last vended credentials have expired and that were not checked since:
    from now on nobody but the portal can write to their key."""
    now = now or timezone.now()
    return (
        Upload.objects.filter(credentials_expire_at__lte=now)
        .exclude(status=Upload.Status.COMPLETING)
        .filter(
            Q(foreign_checked_at__isnull=True) | Q(foreign_checked_at__lt=models.F("credentials_expire_at"))
        )
    )


def check_foreign_writes(upload: Upload, *, versions: list[s3.Version] | None = None) -> list[str]:
    """The one server-side check after the credentials expired. PutObject let the holder
    start and complete multipart uploads and PUT over the key; anything on the key other
    than the portal's own multipart upload (while in progress) and the recorded version is
    foreign: unfinished multipart uploads are aborted, extra versions are flagged (kept as
    evidence; downloads and verification use the recorded version only). `versions` is the
    key's listing when the caller already has it."""
    key = upload.object_key
    findings: list[str] = []
    for mpu in s3.list_multipart_uploads(key):
        if mpu.key != key:
            continue
        if upload.status in Upload.IN_PROGRESS and mpu.upload_id == upload.multipart_upload_id:
            continue
        s3.abort_multipart_upload(key, mpu.upload_id)
        findings.append(f"aborted a multipart upload the portal did not start ({mpu.upload_id[:16]}…)")
    recorded = upload.version_id if upload.status in Upload.RECEIVED else None
    for version in s3.list_object_versions(key) if versions is None else versions:
        if version.version_id != recorded:
            kind = "delete marker" if version.delete_marker else f"{version.size:,}-byte version"
            findings.append(f"a {kind} written outside the portal ({version.version_id})")
    Upload.objects.filter(pk=upload.pk).update(foreign_checked_at=timezone.now())
    if findings:
        reason = "Data was written to this file's storage key outside the portal."
        Upload.objects.filter(pk=upload.pk).update(status_reason=reason)
        audit.record("upload.tampering_detected", target=upload, actor_label="system", findings=findings)
    return findings
