"""Staff fetching a received file: a short presigned GET of the recorded version only."""

from __future__ import annotations

from django.conf import settings

import audit
from uploads import integrity, s3
from uploads.models import Upload
from uploads.refusals import UploadRefused


def staff_download_url(staff_user, upload: Upload) -> str:
    """A presigned GET of the recorded version only, valid at most 15 minutes. The caller
    (admin) has already scoped the upload to the consultant's teams."""
    if upload.status not in Upload.RECEIVED or not upload.version_id:
        raise UploadRefused("not_received", "Only received files can be downloaded.")
    # Storage is asked first, so a lost file is said in the portal's words (and flagged),
    # never as S3's XML error behind a link.
    if integrity.check_stored(upload) is not True:
        raise UploadRefused(
            "missing_from_storage",
            f"This file cannot be downloaded: {upload.status_reason} Staff have been told.",
        )
    seconds = min(settings.STAFF_DOWNLOAD_SECONDS, 900)
    url = s3.presigned_get(upload.object_key, upload.version_id, seconds, upload.original_name)
    audit.record(
        "upload.download_link_issued",
        actor=staff_user,
        target=upload,
        version_id=upload.version_id,
        expires_in=seconds,
    )
    return url
