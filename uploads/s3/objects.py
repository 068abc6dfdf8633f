"""Object versions: heads, histories, the portal's own small writes, reads and download URLs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from uploads.s3.client import bucket, cached_client, call, client, encryption_args, storage_error
from uploads.s3.types import Latest, ObjectHead, StorageError, StoredVersion, Version


def head_object(key: str, version_id: str | None = None) -> ObjectHead:
    """Size, ETag, version and the stored full-object checksum of one object version."""
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Key": key, "ChecksumMode": "ENABLED"}
    if version_id:
        kwargs["VersionId"] = version_id
    resp = call(client().head_object, **kwargs)
    return ObjectHead(
        size=resp["ContentLength"],
        etag=resp.get("ETag", ""),
        version_id=resp.get("VersionId") or "",
        checksum_crc64nvme=resp.get("ChecksumCRC64NVME") or "",
        checksum_type=resp.get("ChecksumType") or "",
        content_type=resp.get("ContentType", ""),
        last_modified=resp.get("LastModified"),
        server_side_encryption=resp.get("ServerSideEncryption", ""),
    )


def head_latest(key: str) -> Latest:
    """The current version of a key without listing its history: the cheap question "was
    anything written over (or deleted from) this key?" answered by one HeadObject."""
    try:
        resp = client().head_object(Bucket=bucket(), Key=key)
    except ClientError as exc:
        meta = exc.response.get("ResponseMetadata", {})
        if meta.get("HTTPStatusCode") == 404:
            headers = meta.get("HTTPHeaders", {})
            return Latest(
                exists=False,
                version_id=headers.get("x-amz-version-id", "") or "",
                delete_marker=headers.get("x-amz-delete-marker") == "true",
            )
        raise storage_error(exc) from None
    except BotoCoreError as exc:
        raise StorageError("Unavailable", type(exc).__name__) from None
    return Latest(exists=True, version_id=resp.get("VersionId") or "", delete_marker=False)


def list_object_versions(key: str) -> list[Version]:
    """Every version and delete marker of exactly this key, newest first. O(versions) on S3
    (and, on moto, a copy of every body): for questions only a history answers."""
    out = [_version(e, delete_marker=marker) for e, marker in version_entries(key) if e["Key"] == key]
    out.sort(key=lambda v: v.last_modified or datetime.min, reverse=True)
    return out


def version_entries(prefix: str) -> Iterator[tuple[dict[str, Any], bool]]:
    """ListObjectVersions under `prefix`, every page: (entry, is_delete_marker) pairs."""
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Prefix": prefix}
    while True:
        resp = call(client().list_object_versions, **kwargs)
        yield from ((v, False) for v in resp.get("Versions", []))
        yield from ((m, True) for m in resp.get("DeleteMarkers", []))
        if not resp.get("IsTruncated"):
            return
        kwargs["KeyMarker"] = resp.get("NextKeyMarker", "")
        kwargs["VersionIdMarker"] = resp.get("NextVersionIdMarker", "")


def _version(entry: dict[str, Any], *, delete_marker: bool) -> Version:
    return Version(
        version_id=entry.get("VersionId") or "",
        size=None if delete_marker else entry.get("Size"),
        etag="" if delete_marker else entry.get("ETag", ""),
        is_latest=entry.get("IsLatest", False),
        last_modified=entry.get("LastModified"),
        delete_marker=delete_marker,
    )


def put_object(key: str, body: bytes, content_type: str = "application/octet-stream") -> str:
    """Store a small object written by the portal itself; returns its version id."""
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Key": key, "Body": body, "ContentType": content_type}
    kwargs.update(encryption_args())
    resp = call(client().put_object, **kwargs)
    return resp.get("VersionId") or ""


def put_empty_object(key: str, content_type: str = "") -> StoredVersion:
    """Store a zero-byte file (multipart upload needs at least one part of bytes). Asks S3 for
    its CRC64NVME like a multipart complete does, and answers in the same shape."""
    kwargs: dict[str, Any] = {
        "Bucket": bucket(),
        "Key": key,
        "Body": b"",
        "ContentType": content_type or "application/octet-stream",
        "ChecksumAlgorithm": "CRC64NVME",
    }
    kwargs.update(encryption_args())
    resp = call(client().put_object, **kwargs)
    return StoredVersion(
        resp.get("VersionId") or "", resp.get("ETag") or "", resp.get("ChecksumCRC64NVME") or ""
    )


def get_object_bytes(key: str, version_id: str | None = None) -> bytes:
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    resp = call(client().get_object, **kwargs)
    return resp["Body"].read()


def get_range(key: str, start: int, end: int, version_id: str | None = None) -> bytes:
    """Bytes [start, end] inclusive of one object version."""
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Key": key, "Range": f"bytes={start}-{end}"}
    if version_id:
        kwargs["VersionId"] = version_id
    resp = call(client().get_object, **kwargs)
    return resp["Body"].read()


def list_keys(prefix: str) -> list[str]:
    keys: list[str] = []
    paginator = client().get_paginator("list_objects_v2")
    try:
        for page in paginator.paginate(Bucket=bucket(), Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []))
    except ClientError as exc:
        raise StorageError(exc.response.get("Error", {}).get("Code", "Error")) from None
    return keys


def delete_object_version(key: str, version_id: str) -> None:
    call(client().delete_object, Bucket=bucket(), Key=key, VersionId=version_id)


def presigned_get(key: str, version_id: str, expires_in: int, filename: str = "") -> str:
    """A time-limited download URL for exactly one recorded version."""
    params: dict[str, Any] = {"Bucket": bucket(), "Key": key}
    if version_id:
        params["VersionId"] = version_id
    if filename:
        # RFC 6266 filename*: the original name may hold any Unicode.
        from urllib.parse import quote

        params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    public = cached_client(
        "s3", settings.AWS_PUBLIC_ENDPOINT_URL, settings.AWS_REGION, os.environ.get("AWS_ACCESS_KEY_ID")
    )
    return public.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
