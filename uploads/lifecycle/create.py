"""Starting an upload: every rule checked, the quota reserved under the project's lock, the
multipart upload opened in S3 (or, for an empty file, the object stored at once)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

import audit
from uploads import s3, selectors
from uploads.lifecycle import complete, names, rules
from uploads.models import Upload, UploadProject
from uploads.refusals import UploadRefused, refuse, storage_unavailable

logger = logging.getLogger(__name__)

# SHA-256 of no bytes: the portal writes the empty object itself, so it knows this value.
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@dataclass(frozen=True)
class _Request:
    """A create request that passed every check that needs no lock."""

    name: str
    relative_path: str
    segments: list[str]
    size: int
    part_size: int
    part_count: int
    content_type: str
    client_mtime: datetime | None
    declared_sha256: str


def create_upload(
    user,
    project: UploadProject,
    *,
    name: str,
    relative_path: str = "",
    size: int,
    content_type: str = "",
    last_modified: int | None = None,
    batch_id: uuid.UUID | None = None,
    declared_sha256: str | None = None,
    source: str = Upload.Source.BROWSER,
) -> Upload:
    """Check every rule, reserve the quota, and start the multipart upload in S3."""
    request = _checked_request(
        user,
        project,
        name=name,
        relative_path=relative_path or "",
        size=size,
        content_type=content_type,
        last_modified=last_modified,
        declared_sha256=declared_sha256,
    )
    upload = _reserve(user, project, request, batch_id=batch_id, source=source)
    if source == Upload.Source.BROWSER and size:
        _start_multipart(upload)
    audit.record(
        "upload.created",
        actor=user,
        target=upload,
        name=name,
        relative_path=request.relative_path,
        size=size,
        key=upload.object_key,
        part_size=request.part_size,
        part_count=request.part_count,
        source=source,
        batch_id=str(batch_id) if batch_id else None,
    )
    if size == 0:
        _store_empty(user, upload)
    return upload


def _checked_request(
    user,
    project: UploadProject,
    *,
    name: str,
    relative_path: str,
    size: int,
    content_type: str,
    last_modified: int | None,
    declared_sha256: str | None,
) -> _Request:
    """The checks that need no lock, in the order the customer is told about them."""
    rules.require_uploader(user, project)
    try:
        segments = names.validate_name(name, relative_path)
    except UploadRefused as exc:
        shown = str(name).encode("unicode_escape").decode()[:300]
        refuse(exc.code, exc.message, exc.status, user=user, target=project, name=shown)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        refuse(
            "invalid_size",
            "The file's size must be a whole number of bytes, zero or more.",
            400,
            user=user,
            target=project,
            size=size,
        )
    if size > s3.MAX_OBJECT_SIZE:
        refuse(
            "file_too_large",
            "Files can be at most 5 TiB (S3's limit).",
            400,
            user=user,
            target=project,
            size=size,
        )
    if not rules.extension_allowed(project, name):
        refuse(
            "extension_not_allowed",
            f"This project accepts only these file types: {', '.join(project.extension_list)}.",
            400,
            user=user,
            target=project,
            name=name,
        )
    declared = rules.checked_sha256(declared_sha256, user=user, target=project)
    # A zero-byte file has no parts: the portal stores it itself (_store_empty).
    part_size, part_count = rules.plan_parts(size) if size else (0, 0)
    return _Request(
        name=name,
        relative_path=relative_path,
        segments=segments,
        size=size,
        part_size=part_size,
        part_count=part_count,
        content_type=names.normal_content_type(name, content_type),
        client_mtime=names.client_modified_at(last_modified),
        declared_sha256=declared,
    )


def _reserve(user, project: UploadProject, request: _Request, *, batch_id, source: str) -> Upload:
    """Create the row if the project takes the file now, counting its bytes against the quota."""
    upload_id = uuid.uuid4()
    key = names.object_key(project, upload_id, request.segments)
    with transaction.atomic():
        # The project row is the lock for its quota: concurrent creates queue here, so two
        # requests cannot both take the last bytes.
        locked = UploadProject.objects.select_for_update().get(pk=project.pk)
        refusal = _project_refusal(locked, request.size)
        if refusal is None:
            return Upload.objects.create(
                id=upload_id,
                project=locked,
                uploaded_by=user,
                batch_id=batch_id,
                original_name=request.name,
                relative_path=request.relative_path,
                object_key=key,
                size=request.size,
                content_type=request.content_type,
                client_last_modified=request.client_mtime,
                part_size=request.part_size,
                part_count=request.part_count,
                declared_sha256=request.declared_sha256,
                source=source,
            )
    refuse(refusal[0], refusal[1], user=user, target=project, size=request.size)


def _project_refusal(project: UploadProject, size: int) -> tuple[str, str] | None:
    if not project.is_accepting_uploads():
        return "project_closed", "This project is closed or past its deadline; no new uploads can start."
    if size > project.max_file_size:
        return "file_too_large", f"Files in this project can be at most {project.max_file_size:,} bytes."
    used = selectors.quota_used(project)
    if used + size > project.quota_bytes:
        free = max(0, project.quota_bytes - used)
        return "quota_exceeded", f"Not enough space left in this project: {free:,} bytes are free."
    return None


def _start_multipart(upload: Upload) -> None:
    try:
        upload.multipart_upload_id = s3.create_multipart_upload(upload.object_key, upload.content_type)
    except s3.StorageError as exc:
        upload.transition(
            Upload.Status.FAILED,
            allowed={Upload.Status.CREATED},
            status_reason="Storage did not accept the upload.",
        )
        logger.error("CreateMultipartUpload failed for %s: %s", upload.pk, exc.code)
        raise storage_unavailable() from None
    Upload.objects.filter(pk=upload.pk).update(multipart_upload_id=upload.multipart_upload_id)


def _store_empty(user, upload: Upload) -> None:
    """Zero-byte files (folders of database exports have them) are real files: the portal puts
    the empty object itself and records it as completed, so it is verified like any other."""
    upload.transition(Upload.Status.COMPLETING, allowed={Upload.Status.CREATED})
    try:
        stored = s3.put_empty_object(upload.object_key, upload.content_type)
    except s3.StorageError as exc:
        complete.fail(upload, "Storage did not accept the empty file.", actor=user, code=exc.code)
        raise storage_unavailable() from None
    complete.record_completed(upload, stored, EMPTY_SHA256, actor=user)
