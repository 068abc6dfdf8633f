"""What S3 calls return: small frozen dataclasses (never boto3's dicts) and `StorageError`.
No boto3 here, so any layer may name these types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.errors import AwsError

# S3's hard limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
MAX_PARTS = 10_000
MAX_PART_SIZE = 5 * 1024**3
MAX_OBJECT_SIZE = 5 * 1024**4
LIST_PARTS_PAGE = 1_000


class StorageError(AwsError):
    """An S3/STS call failed. `code` is S3's error code ("NoSuchUpload", ...) or
    "Unavailable" when S3 could not be reached."""

    # The codes S3 answers for an object or version that is not there.
    MISSING = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"})

    @property
    def missing(self) -> bool:
        return self.code in self.MISSING


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


@dataclass(frozen=True)
class Latest:
    """What is current on a key, from one HeadObject: an object, a delete marker or nothing.
    `version_id` is the object's or the delete marker's."""

    exists: bool
    version_id: str
    delete_marker: bool


@dataclass(frozen=True)
class KeyVersion:
    """One object version or delete marker under a prefix (size None for a marker)."""

    key: str
    version_id: str
    size: int | None
    etag: str
    last_modified: datetime | None
    delete_marker: bool
