"""Cancelling an upload at the customer's request."""

from __future__ import annotations

import logging

import audit
from uploads import s3
from uploads.lifecycle import rules
from uploads.models import Upload

logger = logging.getLogger(__name__)


def abort_upload(user, upload: Upload) -> Upload:
    rules.require_own_upload(user, upload, "cancel")
    if upload.status == Upload.Status.ABORTED:
        return upload
    upload.transition(
        Upload.Status.ABORTED,
        allowed=Upload.ACTIVE,
        actor=user,
        refuse_otherwise=True,
        status_reason="Cancelled by the customer.",
    )
    upload.refresh_from_db()
    if upload.multipart_upload_id:
        try:
            s3.abort_multipart_upload(upload.object_key, upload.multipart_upload_id)
        except s3.StorageError as exc:
            # The bucket's lifecycle rule removes the parts in the end.
            logger.warning("AbortMultipartUpload failed for %s: %s", upload.pk, exc.code)
    audit.record("upload.aborted", actor=user, target=upload, by="customer")
    return upload
