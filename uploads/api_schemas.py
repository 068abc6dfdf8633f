"""The API's request and response shapes (Django Ninja schemas) and the functions that fill
them: what the OpenAPI schema at /api/schema/ publishes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from django.conf import settings
from django.utils import timezone
from ninja import Schema
from pydantic import Field

from uploads import lifecycle
from uploads.models import Upload


class ErrorOut(Schema):
    code: str
    message: str


# The schema states the bounds the server enforces, so a client generated from it refuses what
# the server refuses. Types and lengths are checked here; the ranges the lifecycle checks
# themselves (they answer with precise codes such as invalid_size or file_too_large) are only
# stated, through json_schema_extra.
MAX_SIZE = 5 * 1024**4
MAX_PARTS = 10_000
Name = Annotated[str, Field(max_length=1024, json_schema_extra={"minLength": 1})]
Path = Annotated[str, Field(max_length=4096)]
Size = Annotated[int, Field(strict=True, json_schema_extra={"minimum": 0, "maximum": MAX_SIZE})]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]
Crc64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{11}=$")]


class CreateUploadIn(Schema):
    name: Name
    relative_path: Path = ""
    size: Size
    content_type: Annotated[str, Field(max_length=255)] = ""
    last_modified: Annotated[int, Field(strict=True)] | None = None
    batch_id: uuid.UUID | None = None
    declared_sha256: Sha256 | None = None


class UploadOut(Schema):
    id: uuid.UUID
    bucket: str
    region: str
    endpoint: str | None
    key: str
    multipart_upload_id: str
    part_size: int
    part_count: int
    status: str
    name: str
    relative_path: str
    size: int
    last_modified: int | None
    batch_id: uuid.UUID | None
    source: str


class UploadListItem(UploadOut):
    bytes_confirmed: int
    created_at: datetime
    completed_at: datetime | None
    uploaded_by: str


class UploadListOut(Schema):
    uploads: list[UploadListItem]


class CredentialsOut(Schema):
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime
    server_time: datetime
    region: str
    endpoint: str | None
    bucket: str
    key: str


class PartOut(Schema):
    number: int
    size: int
    etag: str
    checksum_crc64nvme: str | None
    recorded_checksum_crc64nvme: str | None


class PartsOut(Schema):
    parts: list[PartOut]
    part_size: int
    part_count: int


class ProgressPartIn(Schema):
    number: Annotated[int, Field(strict=True, json_schema_extra={"minimum": 1, "maximum": MAX_PARTS})]
    checksum_crc64nvme: Annotated[str, Field(max_length=64)]


class ProgressIn(Schema):
    bytes_done: Size
    parts: Annotated[list[ProgressPartIn], Field(max_length=MAX_PARTS)] = []


class ProgressOut(Schema):
    accepted: bool
    retry_after: int


class CompleteIn(Schema):
    """An upload from the browser completes with both whole-file checksums; one copied with
    the AWS CLI completes with an empty body (S3 computed its checksum)."""

    # The patterns are stated, not enforced here: the service answers `invalid_checksum`.
    checksum_crc64nvme: (
        Annotated[str, Field(max_length=64, json_schema_extra={"pattern": r"^[A-Za-z0-9+/]{11}=$"})] | None
    ) = None
    checksum_sha256: (
        Annotated[str, Field(max_length=64, json_schema_extra={"pattern": r"^[0-9a-fA-F]{64}$"})] | None
    ) = None


class CompleteOut(Schema):
    id: uuid.UUID
    status: str
    version_id: str
    etag: str
    checksum_crc64nvme: str
    size: int


class AbortOut(Schema):
    id: uuid.UUID
    status: str


class CliIn(Schema):
    name: Name
    size: Size
    declared_sha256: Sha256 | None = None


class CliOut(Schema):
    upload: UploadOut
    credentials: CredentialsOut
    command: str


ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
    503: ErrorOut,
}


def upload_out(upload: Upload) -> dict:
    mtime = upload.client_last_modified
    return {
        "id": upload.id,
        "bucket": settings.UPLOAD_BUCKET,
        "region": settings.AWS_REGION,
        "endpoint": settings.AWS_PUBLIC_ENDPOINT_URL,
        "key": upload.object_key,
        "multipart_upload_id": upload.multipart_upload_id,
        "part_size": upload.part_size,
        "part_count": upload.part_count,
        "status": upload.status,
        "name": upload.original_name,
        "relative_path": upload.relative_path,
        "size": upload.size,
        "last_modified": int(mtime.timestamp() * 1000) if mtime else None,
        "batch_id": upload.batch_id,
        "source": upload.source,
    }


def credentials_out(issued: lifecycle.IssuedCredentials) -> dict:
    c = issued.credentials
    return {
        "access_key_id": c.access_key_id,
        "secret_access_key": c.secret_access_key,
        "session_token": c.session_token,
        "expiration": c.expiration,
        "server_time": timezone.now(),
        "region": settings.AWS_REGION,
        "endpoint": settings.AWS_PUBLIC_ENDPOINT_URL,
        "bucket": settings.UPLOAD_BUCKET,
        "key": issued.upload.object_key,
    }


# Endpoints ---------------------------------------------------------------------------
