"""Finishing an upload: the parts checked against the plan, the multipart upload completed
with the browser's full-object CRC64NVME, the value storage computed compared with it, the
version recorded and its verification queued. Also the recovery of a complete whose web
process died midway."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import NoReturn

from django.utils import timezone

import audit
from uploads import dispatch, s3
from uploads.lifecycle import revocation, rules
from uploads.models import Upload
from uploads.refusals import STORAGE_UNAVAILABLE, UploadRefused, refuse

logger = logging.getLogger(__name__)

# The checksums a complete claimed are kept only while it runs (see recover_interrupted_complete).
UNCLAIMED = {"checksum_crc64nvme": "", "checksum_sha256": ""}
CHANGED_ON_THE_WAY = (
    "The file changed while it was being uploaded, or some bytes were damaged on the way. "
    "Please start the upload again."
)
BackOff = Callable[..., NoReturn]


def complete_upload(
    user, upload: Upload, checksum_crc64nvme: str | None, checksum_sha256: str | None
) -> Upload:
    """Finish the upload on the server: check the parts against the plan, complete with the
    client's full-object CRC64NVME, compare what S3 computed, record the version."""
    rules.require_own_upload_in_open_project(user, upload, "complete")
    crc, sha = _checked_claim(user, upload, checksum_crc64nvme, checksum_sha256)
    if upload.status in Upload.RECEIVED and (crc, sha) == (upload.checksum_crc64nvme, upload.checksum_sha256):
        # The same complete again because the first reply was lost (a dropped connection, a
        # proxy's timeout): answer as the first did. Nothing changes, so nothing is audited.
        return upload
    # The checksums claimed are kept, so an interrupted complete can be recovered by them.
    previous = upload.transition(
        Upload.Status.COMPLETING,
        allowed=Upload.ACTIVE,
        actor=user,
        refuse_otherwise=True,
        checksum_crc64nvme=crc,
        checksum_sha256=sha,
    )

    def back_off(code: str, message: str, status: int = 409, **data) -> NoReturn:
        # Nothing happened in S3: the customer can fix the parts and try again.
        upload.transition(previous, allowed={Upload.Status.COMPLETING}, **UNCLAIMED)
        refuse(code, message, status, user=user, target=upload, **data)

    try:
        if upload.source == Upload.Source.CLI:
            stored = _complete_cli(upload, crc, back_off)
        else:
            stored = _complete_multipart(user, upload, crc, back_off)
    except s3.StorageError as exc:
        logger.error("completing %s failed: %s", upload.pk, exc.code)
        back_off("storage_unavailable", STORAGE_UNAVAILABLE, 503)
    # S3 confirmed the object: record it even if a slow complete was meanwhile taken for dead
    # and handed back (recover_interrupted_complete).
    if record_completed(upload, stored, sha, actor=user, also_from=Upload.ACTIVE):
        revocation.revoke_cli_credentials(upload)
    return upload


def _checked_claim(
    user, upload: Upload, checksum_crc64nvme: str | None, checksum_sha256: str | None
) -> tuple[str, str]:
    """The whole-file checksums the client claims, well formed; the browser must give the
    CRC64NVME, which storage checks. Its SHA-256 is optional: without one, verification
    computes it from the stored object."""
    sha = rules.checked_sha256(checksum_sha256, user=user, target=upload)
    crc = checksum_crc64nvme or ""
    if crc and not rules.valid_crc64nvme(crc):
        refuse("invalid_checksum", "The CRC64NVME must be 8 bytes in base64.", 400, user=user, target=upload)
    if upload.source == Upload.Source.BROWSER:
        if not crc:
            refuse(
                "invalid_checksum",
                "The CRC64NVME of the whole file is needed.",
                400,
                user=user,
                target=upload,
            )
        if sha and upload.declared_sha256 and sha != upload.declared_sha256:
            _refuse_declared_mismatch(user, upload, sha)
    return crc, sha


def _refuse_declared_mismatch(user, upload: Upload, sha: str) -> NoReturn:
    """The file the browser read is not the one the customer declared: keep none of it."""
    if upload.status in Upload.ACTIVE and upload.multipart_upload_id:
        try:
            s3.abort_multipart_upload(upload.object_key, upload.multipart_upload_id)
        except s3.StorageError as exc:
            logger.error("aborting %s after a declared SHA-256 mismatch failed: %s", upload.pk, exc.code)
        message = (
            f"This file's SHA-256 ({sha}) is not the one you declared ({upload.declared_sha256}): "
            "it is not the file you meant to send, so nothing was kept. Check the file and upload it again."
        )
        fail(upload, message, actor=user, code="declared_checksum_mismatch")
    refuse(
        "declared_checksum_mismatch",
        upload.status_reason or "This file's SHA-256 is not the one you declared.",
        user=user,
        target=upload,
    )


def fail(upload: Upload, reason: str, action: str = "upload.failed", actor=None, **data) -> None:
    """A complete failed for good: say why, and drop the checksums it claimed."""
    upload.transition(
        Upload.Status.FAILED,
        allowed=Upload.IN_PROGRESS,
        action=action,
        actor=actor,
        audit_data={"reason": reason, **data},
        status_reason=reason,
        **UNCLAIMED,
    )


def record_completed(
    upload: Upload, stored: s3.StoredVersion, sha: str, actor=None, also_from: Iterable[str] = ()
) -> bool:
    """The upload (in `completing`, or one of `also_from`) is now the object version `stored`:
    record it, audit it and queue its verification. False when it was not."""
    moved = upload.transition(
        Upload.Status.UPLOADED,
        allowed={Upload.Status.COMPLETING, *also_from},
        action="upload.completed",
        actor=actor,
        audit_data={
            "version_id": stored.version_id,
            "etag": stored.etag,
            "checksum_crc64nvme": stored.checksum_crc64nvme,
            "checksum_sha256": sha,
            "size": upload.size,
        },
        version_id=stored.version_id,
        etag=stored.etag,
        checksum_crc64nvme=stored.checksum_crc64nvme,
        checksum_sha256=sha,
        bytes_confirmed=upload.size,
        completed_at=timezone.now(),
        status_reason="",
    )
    upload.refresh_from_db()
    if moved is None:
        return False
    dispatch.verify_after_commit(upload.id)
    return True


def recover_interrupted_complete(upload: Upload) -> str:
    """A complete whose web process died midway leaves the upload `completing` for good. Ask
    S3 what happened: if it completed the object with the checksum the browser sent, record
    that; if the multipart upload is still open, hand the upload back so the customer's next
    complete runs again; anything else fails it. Returns the outcome."""
    still_open = True
    if upload.source == Upload.Source.BROWSER:
        try:
            s3.list_parts(upload.object_key, upload.multipart_upload_id)
        except s3.StorageError as exc:
            if exc.code != "NoSuchUpload":
                raise
            still_open = False
    if still_open:
        handed_back = upload.transition(
            Upload.Status.UPLOADING,
            allowed={Upload.Status.COMPLETING},
            status_reason="The last attempt to finish was interrupted; finishing again will work.",
            **UNCLAIMED,
        )
        outcome = "handed_back" if handed_back else "unchanged"
    else:
        outcome = _recorded_from_storage(upload)
    if outcome != "unchanged":
        audit.record("upload.complete_interrupted", target=upload, outcome=outcome)
    return outcome


def _recorded_from_storage(upload: Upload) -> str:
    """The multipart upload is gone: the object version with the claimed checksum, if S3 has it."""
    for version in s3.list_object_versions(upload.object_key):
        if version.delete_marker:
            continue
        head = s3.head_object(upload.object_key, version.version_id or None)
        if head.checksum_crc64nvme == upload.checksum_crc64nvme and head.size == upload.size:
            recorded = record_completed(upload, head.stored_version(), upload.checksum_sha256)
            return "completed" if recorded else "unchanged"
    fail(upload, "The upload was finished outside the portal, or not with this file's checksum.")
    return "failed"


def _complete_multipart(user, upload: Upload, crc: str, back_off: BackOff) -> s3.StoredVersion:
    try:
        parts = s3.list_parts(upload.object_key, upload.multipart_upload_id)
    except s3.StorageError as exc:
        if exc.code != "NoSuchUpload":
            raise
        # Only the portal completes or aborts: a vanished upload means someone used the
        # credentials to do it themselves.
        fail(
            upload,
            "The upload was completed or cancelled outside the portal.",
            "upload.tampering_detected",
            actor=user,
            detail="multipart upload missing at complete",
        )
        raise UploadRefused(
            "upload_missing", "This upload was changed outside the portal; start it again."
        ) from None
    problems = rules.describe_mismatch(upload, parts)
    if problems:
        back_off(
            "parts_mismatch", f"The parts received do not match the plan: {problems}.", problems=problems
        )
    try:
        stored = s3.complete_multipart_upload(upload.object_key, upload.multipart_upload_id, parts, crc)
    except s3.StorageError as exc:
        if exc.code not in ("BadDigest", "InvalidRequest", "InvalidPart"):
            raise
        s3.abort_multipart_upload(upload.object_key, upload.multipart_upload_id)
        fail(
            upload, "The file's checksum did not match what storage received.", actor=user, s3_error=exc.code
        )
        raise UploadRefused("checksum_mismatch", CHANGED_ON_THE_WAY) from None
    return _checked_against_storage(user, upload, stored, crc)


def _checked_against_storage(user, upload: Upload, stored: s3.StoredVersion, crc: str) -> s3.StoredVersion:
    """moto does not check the checksum sent to complete, and no server must be trusted to:
    compare the value S3 stored for the object's bytes with the browser's. (moto's complete
    reply omits it, so HeadObject of the new version is the source.)"""
    head = s3.head_object(upload.object_key, stored.version_id or None)
    kept = head.checksum_crc64nvme or stored.checksum_crc64nvme
    if kept == crc and head.size == upload.size:
        return s3.StoredVersion(stored.version_id, stored.etag, kept)
    # A store that does not check at complete kept bytes the portal refuses: remove them, so
    # nothing unverified stays under the key (and no later check calls it foreign).
    removed = head.version_id or stored.version_id
    if removed:
        s3.delete_object_version(upload.object_key, removed)
    if kept != crc:
        fail(
            upload,
            "The file's checksum did not match what storage received.",
            actor=user,
            expected=crc,
            received=kept,
            removed_version=removed,
        )
        raise UploadRefused("checksum_mismatch", CHANGED_ON_THE_WAY)
    fail(
        upload,
        f"Storage holds {head.size:,} bytes, not {upload.size:,}.",
        actor=user,
        removed_version=removed,
    )
    raise UploadRefused("size_mismatch", "The stored file does not have the declared size; start again.")


def _complete_cli(upload: Upload, crc: str, back_off: BackOff) -> s3.StoredVersion:
    try:
        head = s3.head_object(upload.object_key)
    except s3.StorageError as exc:
        if not exc.missing:
            raise
        back_off(
            "object_missing",
            "The file has not arrived yet. Run the command, wait for it to finish, then try again.",
        )
    if head.size != upload.size:
        back_off(
            "size_mismatch",
            f"The file received has {head.size:,} bytes, but you declared {upload.size:,}.",
        )
    if crc and head.checksum_crc64nvme and head.checksum_crc64nvme != crc:
        back_off("checksum_mismatch", "The file received does not have the checksum you gave.")
    return head.stored_version()
