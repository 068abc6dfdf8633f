"""Helpers shared by the background-work tests (verification, notifications, reconciliation)."""

import uuid

from django.db import transaction

from uploads.models import Upload, VerificationResult


def make_upload(project, *, user=None, name="dump.dmp", size=1024, status=Upload.Status.UPLOADED, **fields):
    key = fields.pop("object_key", None) or f"{project.key_prefix}{uuid.uuid4()}/{name}"
    return Upload.objects.create(
        project=project,
        uploaded_by=user,
        original_name=name,
        object_key=key,
        size=size,
        part_size=max(size, 1),
        part_count=1,
        status=status,
        **fields,
    )


def settle(upload, outcome=VerificationResult.Outcome.VERIFIED, reason=""):
    """Record a verification outcome and queue its notifications, as verify() does."""
    from uploads import notifications

    with transaction.atomic():
        VerificationResult.objects.create(
            upload=upload, outcome=outcome, method=VerificationResult.Method.METADATA, reason=reason
        )
        upload.status = {"verified": Upload.Status.VERIFIED, "failed": Upload.Status.FAILED}.get(
            outcome, Upload.Status.UPLOADED
        )
        upload.status_reason = reason
        upload.save()
        notifications.notify_settled(upload)
