"""Every call the portal makes to S3 and STS. This is the only module that imports boto3.

The endpoint comes from settings.AWS_ENDPOINT_URL (moto locally, None for real AWS) and
requests use path-style addressing, so the same code runs against both. The server's own
credentials come from boto3's default chain (environment, instance role). Functions take
plain values and return the small frozen dataclasses below (never boto3's dicts), so a
caller's typo is an AttributeError at once, not a silent None; S3 errors surface as
`StorageError` with the S3 error code.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

# S3's hard limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
MAX_PARTS = 10_000
MAX_PART_SIZE = 5 * 1024**3
MAX_OBJECT_SIZE = 5 * 1024**4
LIST_PARTS_PAGE = 1_000


class StorageError(Exception):
    """An S3/STS call failed. `code` is S3's error code ("NoSuchUpload", ...) or
    "Unavailable" when S3 could not be reached."""

    # The codes S3 answers for an object or version that is not there.
    MISSING = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"})

    @property
    def missing(self) -> bool:
        return self.code in self.MISSING

    def __init__(self, code: str, message: str = ""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Part:
    """One part S3 holds for a multipart upload."""

    number: int
    size: int
    etag: str
    checksum_crc64nvme: str | None


@dataclass(frozen=True)
class StoredVersion:
    """The object version a complete (or the portal's own PUT) made, as S3 reported it."""

    version_id: str
    etag: str
    checksum_crc64nvme: str


@dataclass(frozen=True)
class ObjectHead:
    """One object version's metadata, from HeadObject with checksums."""

    size: int
    etag: str
    version_id: str
    checksum_crc64nvme: str
    checksum_type: str
    content_type: str
    last_modified: datetime | None
    server_side_encryption: str

    def stored_version(self) -> StoredVersion:
        return StoredVersion(self.version_id, self.etag, self.checksum_crc64nvme)


@dataclass(frozen=True)
class Version:
    """One entry of a key's history: an object version or a delete marker (size None)."""

    version_id: str
    size: int | None
    etag: str
    is_latest: bool
    last_modified: datetime | None
    delete_marker: bool


@dataclass(frozen=True)
class MultipartUpload:
    """An unfinished multipart upload."""

    key: str
    upload_id: str
    initiated: datetime | None


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime

    def __repr__(self) -> str:
        # Never let the secret reach a log line or a traceback.
        return f"Credentials(access_key_id={self.access_key_id!r}, expiration={self.expiration!r})"


@functools.lru_cache(maxsize=16)
def _client(service: str, endpoint: str | None, region: str, key_id: str | None) -> Any:
    # A fresh session per cache key so tests that switch credentials in the environment
    # (moto's IAM-auth mode) get a client that uses them; clients are thread-safe.
    session = boto3.session.Session()
    return session.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        config=Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"max_attempts": 4, "mode": "standard"},
            connect_timeout=5,
            read_timeout=120,
        ),
    )


def client(service: str = "s3") -> Any:
    return _client(
        service, settings.AWS_ENDPOINT_URL, settings.AWS_REGION, os.environ.get("AWS_ACCESS_KEY_ID")
    )


def _storage_error(exc: ClientError) -> StorageError:
    err = exc.response.get("Error", {})
    code = err.get("Code") or str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    return StorageError(code, err.get("Message", ""))


def _call(fn, /, **kwargs) -> Any:
    try:
        return fn(**kwargs)
    except ClientError as exc:
        raise _storage_error(exc) from None
    except BotoCoreError as exc:
        raise StorageError("Unavailable", type(exc).__name__) from None


def bucket() -> str:
    return settings.UPLOAD_BUCKET


def object_arn(key: str) -> str:
    return f"arn:aws:s3:::{bucket()}/{key}"


# Multipart uploads -------------------------------------------------------------------


def create_multipart_upload(key: str, content_type: str = "") -> str:
    """Start a multipart upload whose parts the browser sends; returns its UploadId."""
    kwargs: dict[str, Any] = {
        "Bucket": bucket(),
        "Key": key,
        "ChecksumAlgorithm": "CRC64NVME",
        "ChecksumType": "FULL_OBJECT",
        "ContentType": content_type or "application/octet-stream",
    }
    kwargs.update(_encryption_args())
    resp = _call(client().create_multipart_upload, **kwargs)
    return resp["UploadId"]


def list_parts(key: str, upload_id: str) -> list[Part]:
    """Every part S3 holds for the upload, across all ListParts pages."""
    parts: list[Part] = []
    marker = 0
    while True:
        resp = _call(
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
    resp = _call(
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
        _call(client().abort_multipart_upload, Bucket=bucket(), Key=key, UploadId=upload_id)
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
        resp = _call(client().list_multipart_uploads, **kwargs)
        for u in resp.get("Uploads", []):
            out.append(MultipartUpload(u["Key"], u["UploadId"], u.get("Initiated")))
        if not resp.get("IsTruncated"):
            return out
        kwargs["KeyMarker"] = resp.get("NextKeyMarker", "")
        kwargs["UploadIdMarker"] = resp.get("NextUploadIdMarker", "")


# Objects -----------------------------------------------------------------------------


def head_object(key: str, version_id: str | None = None) -> ObjectHead:
    """Size, ETag, version and the stored full-object checksum of one object version."""
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Key": key, "ChecksumMode": "ENABLED"}
    if version_id:
        kwargs["VersionId"] = version_id
    resp = _call(client().head_object, **kwargs)
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


@dataclass(frozen=True)
class Latest:
    """What is current on a key, from one HeadObject: an object, a delete marker or nothing.
    `version_id` is the object's or the delete marker's."""

    exists: bool
    version_id: str
    delete_marker: bool


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
        raise _storage_error(exc) from None
    except BotoCoreError as exc:
        raise StorageError("Unavailable", type(exc).__name__) from None
    return Latest(exists=True, version_id=resp.get("VersionId") or "", delete_marker=False)


def list_object_versions(key: str) -> list[Version]:
    """Every version and delete marker of exactly this key, newest first. O(versions) on S3
    (and, on moto, a copy of every body): for questions only a history answers."""
    out: list[Version] = []
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Prefix": key}
    while True:
        resp = _call(client().list_object_versions, **kwargs)
        for v in resp.get("Versions", []):
            if v["Key"] == key:
                out.append(_version(v, size=v.get("Size"), etag=v.get("ETag", ""), delete_marker=False))
        for m in resp.get("DeleteMarkers", []):
            if m["Key"] == key:
                out.append(_version(m, size=None, etag="", delete_marker=True))
        if not resp.get("IsTruncated"):
            break
        kwargs["KeyMarker"] = resp.get("NextKeyMarker", "")
        kwargs["VersionIdMarker"] = resp.get("NextVersionIdMarker", "")
    out.sort(key=lambda v: v.last_modified or datetime.min, reverse=True)
    return out


def _version(entry: dict[str, Any], *, size: int | None, etag: str, delete_marker: bool) -> Version:
    return Version(
        version_id=entry.get("VersionId") or "",
        size=size,
        etag=etag,
        is_latest=entry.get("IsLatest", False),
        last_modified=entry.get("LastModified"),
        delete_marker=delete_marker,
    )


def put_object(key: str, body: bytes, content_type: str = "application/octet-stream") -> str:
    """Store a small object written by the portal itself; returns its version id."""
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Key": key, "Body": body, "ContentType": content_type}
    kwargs.update(_encryption_args())
    resp = _call(client().put_object, **kwargs)
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
    kwargs.update(_encryption_args())
    resp = _call(client().put_object, **kwargs)
    return StoredVersion(
        resp.get("VersionId") or "", resp.get("ETag") or "", resp.get("ChecksumCRC64NVME") or ""
    )


def get_object_bytes(key: str, version_id: str | None = None) -> bytes:
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    resp = _call(client().get_object, **kwargs)
    return resp["Body"].read()


def get_range(key: str, start: int, end: int, version_id: str | None = None) -> bytes:
    """Bytes [start, end] inclusive of one object version."""
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Key": key, "Range": f"bytes={start}-{end}"}
    if version_id:
        kwargs["VersionId"] = version_id
    resp = _call(client().get_object, **kwargs)
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
    _call(client().delete_object, Bucket=bucket(), Key=key, VersionId=version_id)


def presigned_get(key: str, version_id: str, expires_in: int, filename: str = "") -> str:
    """A time-limited download URL for exactly one recorded version."""
    params: dict[str, Any] = {"Bucket": bucket(), "Key": key}
    if version_id:
        params["VersionId"] = version_id
    if filename:
        # RFC 6266 filename*: the original name may hold any Unicode.
        from urllib.parse import quote

        params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    public = _client(
        "s3", settings.AWS_PUBLIC_ENDPOINT_URL, settings.AWS_REGION, os.environ.get("AWS_ACCESS_KEY_ID")
    )
    return public.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)


# STS ---------------------------------------------------------------------------------


def assume_role(
    session_name: str, source_identity: str, policy: dict[str, Any], duration: int
) -> Credentials:
    """Temporary credentials for the uploader role, narrowed by an inline session policy.
    The effective permissions are the intersection of the role's policy and `policy`."""
    kwargs: dict[str, Any] = {
        "RoleArn": settings.UPLOADER_ROLE_ARN,
        "RoleSessionName": session_name,
        "Policy": json.dumps(policy, separators=(",", ":")),
        "DurationSeconds": duration,
    }
    if source_identity:
        kwargs["SourceIdentity"] = source_identity
    resp = _call(client("sts").assume_role, **kwargs)
    c = resp["Credentials"]
    return Credentials(
        access_key_id=c["AccessKeyId"],
        secret_access_key=c["SecretAccessKey"],
        session_token=c["SessionToken"],
        expiration=c["Expiration"],
    )


# Bucket setup ------------------------------------------------------------------------


def _encryption_args() -> dict[str, str]:
    if settings.UPLOAD_KMS_KEY_ID:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": settings.UPLOAD_KMS_KEY_ID}
    return {}


def bucket_exists() -> bool:
    try:
        _call(client().head_bucket, Bucket=bucket())
    except StorageError as exc:
        if exc.code in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    return True


def create_bucket() -> None:
    kwargs: dict[str, Any] = {"Bucket": bucket()}
    if settings.AWS_REGION != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_REGION}
    _call(client().create_bucket, **kwargs)


def get_bucket_cors() -> list[dict[str, Any]]:
    try:
        return _call(client().get_bucket_cors, Bucket=bucket()).get("CORSRules", [])
    except StorageError as exc:
        if exc.code == "NoSuchCORSConfiguration":
            return []
        raise


def put_bucket_cors(rules: list[dict[str, Any]]) -> None:
    _call(client().put_bucket_cors, Bucket=bucket(), CORSConfiguration={"CORSRules": rules})


def get_bucket_versioning() -> str:
    return _call(client().get_bucket_versioning, Bucket=bucket()).get("Status", "")


def enable_bucket_versioning() -> None:
    _call(client().put_bucket_versioning, Bucket=bucket(), VersioningConfiguration={"Status": "Enabled"})


def get_bucket_lifecycle() -> list[dict[str, Any]]:
    try:
        return _call(client().get_bucket_lifecycle_configuration, Bucket=bucket()).get("Rules", [])
    except StorageError as exc:
        if exc.code == "NoSuchLifecycleConfiguration":
            return []
        raise


def put_bucket_lifecycle(rules: list[dict[str, Any]]) -> None:
    _call(
        client().put_bucket_lifecycle_configuration,
        Bucket=bucket(),
        LifecycleConfiguration={"Rules": rules},
    )


def get_bucket_encryption() -> list[dict[str, Any]]:
    try:
        resp = _call(client().get_bucket_encryption, Bucket=bucket())
    except StorageError as exc:
        if exc.code == "ServerSideEncryptionConfigurationNotFoundError":
            return []
        raise
    return resp.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])


def put_bucket_encryption(rules: list[dict[str, Any]]) -> None:
    _call(
        client().put_bucket_encryption,
        Bucket=bucket(),
        ServerSideEncryptionConfiguration={"Rules": rules},
    )


def get_public_access_block() -> dict[str, bool]:
    try:
        resp = _call(client().get_public_access_block, Bucket=bucket())
    except StorageError as exc:
        if exc.code == "NoSuchPublicAccessBlockConfiguration":
            return {}
        raise
    return resp.get("PublicAccessBlockConfiguration", {})


def put_public_access_block(config: dict[str, bool]) -> None:
    _call(client().put_public_access_block, Bucket=bucket(), PublicAccessBlockConfiguration=config)


def get_bucket_policy() -> dict[str, Any] | None:
    try:
        resp = _call(client().get_bucket_policy, Bucket=bucket())
    except StorageError as exc:
        if exc.code == "NoSuchBucketPolicy":
            return None
        raise
    return json.loads(resp["Policy"])


def put_bucket_policy(policy: dict[str, Any]) -> None:
    _call(client().put_bucket_policy, Bucket=bucket(), Policy=json.dumps(policy, separators=(",", ":")))


# IAM (local stand-in only: in AWS the role is created once by an administrator) --------


def ensure_local_uploader_role(*, trust_policy: dict[str, Any], permissions: dict[str, Any]) -> bool:
    """Create the uploader role on moto so `make run` works offline; True if created."""
    iam = client("iam")
    name = settings.UPLOADER_ROLE_ARN.rsplit("/", 1)[-1]
    try:
        _call(iam.get_role, RoleName=name)
        return False
    except StorageError as exc:
        if exc.code != "NoSuchEntity":
            raise
    _call(
        iam.create_role,
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust_policy),
        MaxSessionDuration=3600,
    )
    _call(
        iam.put_role_policy,
        RoleName=name,
        PolicyName="upload-objects",
        PolicyDocument=json.dumps(permissions),
    )
    return True
