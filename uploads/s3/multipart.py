"""Multipart uploads: the browser sends the parts; the portal starts, lists, completes and
aborts."""

from __future__ import annotations

from typing import Any

from uploads.s3.client import bucket, call, client, encryption_args
from uploads.s3.types import LIST_PARTS_PAGE, MultipartUpload, Part, StorageError, StoredVersion


def create_multipart_upload(key: str, content_type: str = "") -> str:
    """Start a multipart upload whose parts the browser sends; returns its UploadId."""
    kwargs: dict[str, Any] = {
        "Bucket": bucket(),
        "Key": key,
        "ChecksumAlgorithm": "CRC64NVME",
        "ChecksumType": "FULL_OBJECT",
        "ContentType": content_type or "application/octet-stream",
    }
    kwargs.update(encryption_args())
    resp = call(client().create_multipart_upload, **kwargs)
    return resp["UploadId"]


def list_parts(key: str, upload_id: str) -> list[Part]:
    """Every part S3 holds for the upload, across all ListParts pages."""
    parts: list[Part] = []
    marker = 0
    while True:
        resp = call(
            client().list_parts,
            Bucket=bucket(),
            Key=key,
            UploadId=upload_id,
            MaxParts=LIST_PARTS_PAGE,
            PartNumberMarker=marker,
        )
        for p in resp.get("Parts", []):
            parts.append(Part(p["PartNumber"], p["Size"], p["ETag"], p.get("ChecksumCRC64NVME")))
        if not resp.get("IsTruncated"):
            return parts
        marker = int(resp["NextPartNumberMarker"])


def complete_multipart_upload(
    key: str, upload_id: str, parts: list[Part], checksum_crc64nvme: str
) -> StoredVersion:
    """Complete with the client's full-object CRC64NVME so S3 checks it (moto does not:
    callers compare the stored checksum themselves)."""
    multipart = [{"PartNumber": p.number, "ETag": p.etag} for p in parts]
    resp = call(
        client().complete_multipart_upload,
        Bucket=bucket(),
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": multipart},
        ChecksumCRC64NVME=checksum_crc64nvme,
        ChecksumType="FULL_OBJECT",
    )
    return StoredVersion(
        resp.get("VersionId") or "", resp.get("ETag") or "", resp.get("ChecksumCRC64NVME") or ""
    )


def abort_multipart_upload(key: str, upload_id: str) -> bool:
    """Abort; False when S3 no longer knows the upload (already aborted or completed)."""
    try:
        call(client().abort_multipart_upload, Bucket=bucket(), Key=key, UploadId=upload_id)
    except StorageError as exc:
        if exc.code == "NoSuchUpload":
            return False
        raise
    return True


def list_multipart_uploads(prefix: str) -> list[MultipartUpload]:
    """Unfinished multipart uploads under a prefix (all pages)."""
    out: list[MultipartUpload] = []
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Prefix": prefix}
    while True:
        resp = call(client().list_multipart_uploads, **kwargs)
        for u in resp.get("Uploads", []):
            out.append(MultipartUpload(u["Key"], u["UploadId"], u.get("Initiated")))
        if not resp.get("IsTruncated"):
            return out
        kwargs["KeyMarker"] = resp.get("NextKeyMarker", "")
        kwargs["UploadIdMarker"] = resp.get("NextUploadIdMarker", "")
