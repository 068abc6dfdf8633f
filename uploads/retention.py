"""Retention and proven deletion: when a closed project's data is due, every version and
delete marker under its prefix and every unfinished multipart upload is deleted, the
prefix is listed again to prove it is empty, and a deletion certificate records what went;
its digest is written into the audit chain. A legal hold stops all of it. Staff can also
delete one received file on request, with a reason, certified the same way."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

import audit
from audit.models import AuditEvent
from uploads import s3
from uploads.models import DeletionCertificate, Upload, UploadProject, VerificationResult
from uploads.refusals import refuse


class DeletionIncomplete(Exception):
    """Storage still lists something under the target after deleting: try again later."""


def deletion_date(project: UploadProject) -> datetime | None:
    """When the project's files are due for deletion: its fixed date, else its closing time
    plus its retention period; None while neither applies (kept)."""
    if project.delete_on:
        return timezone.make_aware(
            datetime.combine(project.delete_on, time.min), timezone.get_default_timezone()
        )
    if project.retention_days is not None and project.closed_at:
        return project.closed_at + timedelta(days=project.retention_days)
    return None


def projects_due_for_deletion(now: datetime | None = None) -> QuerySet[UploadProject]:
    """Closed, not yet emptied, whose deletion date has come (the date itself is checked
    per project by `deletion_date`). Projects on legal hold are included: the deletion
    refuses them, and says so in the audit log."""
    now = now or timezone.now()
    candidates = UploadProject.objects.filter(
        status=UploadProject.Status.CLOSED, data_deleted_at__isnull=True
    ).filter(Q(delete_on__isnull=False) | Q(retention_days__isnull=False, closed_at__isnull=False))
    due = [p.pk for p in candidates if (when := deletion_date(p)) is not None and when <= now]
    return UploadProject.objects.filter(pk__in=due)


def _open_certificate(*, project, scope, target, rule, actor) -> DeletionCertificate:
    """The unfinished certificate for `target`, or a new one (a rerun resumes the first)."""
    open_ = DeletionCertificate.objects.filter(
        project=project, target=target, completed_at__isnull=True
    ).first()
    if open_:
        return open_
    try:
        with transaction.atomic():
            cert = DeletionCertificate.objects.create(
                project=project, scope=scope, target=target, rule=rule, requested_by=actor
            )
            audit.record("deletion.started", actor=actor, target=project, certificate=str(cert.pk), rule=rule)
            return cert
    except IntegrityError:  # another worker opened it first
        return DeletionCertificate.objects.get(project=project, target=target, completed_at__isnull=True)


def _record_versions(cert: DeletionCertificate, versions: list[s3.KeyVersion]) -> None:
    """Write what is about to go into the certificate before it goes."""
    known = {(v["key"], v["version_id"]) for v in cert.versions}
    # What the portal's own verification found for a version (never the client's claim):
    # storage's CRC64NVME, and the SHA-256 where it read the bytes back.
    checked = {
        r.version_id: r
        for r in VerificationResult.objects.filter(
            upload__project=cert.project, outcome=VerificationResult.Outcome.VERIFIED
        ).exclude(version_id="")
    }
    for v in versions:
        if (v.key, v.version_id) in known:
            continue
        cert.versions.append(
            {
                "key": v.key,
                "version_id": v.version_id,
                "size": v.size,
                "etag": v.etag.strip('"'),
                "delete_marker": v.delete_marker,
                "last_modified": v.last_modified.isoformat() if v.last_modified else None,
                "crc64nvme": checked[v.version_id].object_crc64nvme if v.version_id in checked else "",
                "sha256": checked[v.version_id].object_sha256 if v.version_id in checked else "",
            }
        )
    cert.save(update_fields=["versions"])


def _delete(cert: DeletionCertificate, *, prefix: str, only_key: str = "") -> None:
    def wanted(v: s3.KeyVersion) -> bool:
        return not only_key or v.key == only_key

    versions = [v for v in s3.list_versions_under(prefix) if wanted(v)]
    _record_versions(cert, versions)
    s3.delete_versions(prefix, versions)
    for mpu in s3.list_multipart_uploads(only_key or prefix):
        if only_key and mpu.key != only_key:
            continue
        s3.abort_multipart_upload(mpu.key, mpu.upload_id)
        cert.aborted_multipart_uploads.append({"key": mpu.key, "upload_id": mpu.upload_id})
    cert.save(update_fields=["aborted_multipart_uploads"])
    # The proof: list again. Anything still there (a write racing the deletion) fails the
    # run, which is retried; the certificate is completed only over an empty listing.
    left = [v for v in s3.list_versions_under(prefix) if wanted(v)]
    left_mpu = [m for m in s3.list_multipart_uploads(only_key or prefix) if not only_key or m.key == only_key]
    if left or left_mpu:
        raise DeletionIncomplete(
            f"{len(left)} versions and {len(left_mpu)} multipart uploads still under {cert.target}"
        )


def _complete(
    cert: DeletionCertificate, uploads: QuerySet[Upload], *, actor, action: str, **audit_data
) -> None:
    with transaction.atomic():
        cert.completed_at = timezone.now()
        cert.digest = cert.compute_digest()
        cert.save(update_fields=["completed_at", "digest"])
        for upload in uploads.exclude(status=Upload.Status.DELETED):
            # One audit event for the whole deletion (below), not one per file.
            upload.transition(Upload.Status.DELETED, allowed=set(Upload.Status) - {Upload.Status.DELETED})
        audit.record(
            action,
            actor=actor,
            target=cert.project,
            certificate=str(cert.pk),
            digest=cert.digest,
            versions=len(cert.versions),
            bytes=sum(v["size"] or 0 for v in cert.versions),
            rule=cert.rule,
            **audit_data,
        )


def project_delete_data(*, project: UploadProject, rule: str, actor=None) -> DeletionCertificate | None:
    """Delete everything under the project's prefix and certify it. None (and an audit
    event) when a legal hold stops it; raises DeletionIncomplete if storage still lists
    something afterwards (the next run finishes the same certificate)."""
    project.refresh_from_db()
    if project.legal_hold:
        # Said once a day, not at every hourly pass.
        since = timezone.now() - timedelta(days=1)
        if not AuditEvent.objects.filter(
            action="deletion.held", project=project, created_at__gte=since
        ).exists():
            audit.record("deletion.held", actor=actor, target=project, rule=rule)
        return None
    prefix = project.key_prefix
    cert = _open_certificate(
        project=project, scope=DeletionCertificate.Scope.PROJECT, target=prefix, rule=rule, actor=actor
    )
    _delete(cert, prefix=prefix)
    _complete(cert, project.uploads.all(), actor=actor, action="deletion.completed")
    UploadProject.objects.filter(pk=project.pk).update(data_deleted_at=cert.completed_at)
    return cert


def upload_delete(*, upload: Upload, actor, reason: str) -> DeletionCertificate:
    """Staff delete one received file on the customer's request, with a reason."""
    reason = reason.strip()
    if not reason:
        refuse("reason_required", "Say why the file is deleted.", user=actor, target=upload)
    project = upload.project
    project.refresh_from_db()
    if project.legal_hold:
        refuse(
            "legal_hold",
            "The project is on legal hold: nothing in it can be deleted.",
            user=actor,
            target=upload,
        )
    cert = _open_certificate(
        project=project,
        scope=DeletionCertificate.Scope.FILE,
        target=upload.object_key,
        rule=reason,
        actor=actor,
    )
    _delete(cert, prefix=project.key_prefix, only_key=upload.object_key)
    _complete(
        cert,
        Upload.objects.filter(pk=upload.pk),
        actor=actor,
        action="deletion.completed",
        upload=str(upload.pk),
    )
    return cert


def apply_retention(*, now: datetime | None = None) -> int:
    """The periodic pass: delete every project that is due. Returns how many were emptied."""
    done = 0
    for project in projects_due_for_deletion(now):
        days = project.retention_days
        rule = (
            f"deleted on {project.delete_on}"
            if project.delete_on
            else f"retention: {days} days after closing"
        )
        if project_delete_data(project=project, rule=rule):
            done += 1
    return done
