"""Every call the portal makes to S3, STS and IAM. This package is the only code that
imports boto3.

The endpoint comes from settings.AWS_ENDPOINT_URL (moto locally, None for real AWS) and
requests use path-style addressing, so the same code runs against both. The server's own
credentials come from boto3's default chain (environment, instance role). Functions take
plain values and return the small frozen dataclasses of `types` (never boto3's dicts), so a
caller's typo is an AttributeError at once, not a silent None; S3 errors surface as
`StorageError` with the S3 error code.

Callers use the package (`from uploads import s3`; `s3.head_object(...)`), never a module
inside it, so a test can replace one call with `monkeypatch.setattr(s3, name, ...)`.
"""

from uploads.s3.bucket_config import (
    bucket_exists,
    create_bucket,
    enable_bucket_versioning,
    get_bucket_cors,
    get_bucket_encryption,
    get_bucket_lifecycle,
    get_bucket_policy,
    get_bucket_versioning,
    get_public_access_block,
    put_bucket_cors,
    put_bucket_encryption,
    put_bucket_lifecycle,
    put_bucket_policy,
    put_public_access_block,
)
from uploads.s3.client import (
    bucket,
    client,
    object_arn,
)
from uploads.s3.iam import (
    ensure_local_uploader_role,
)
from uploads.s3.multipart import (
    abort_multipart_upload,
    complete_multipart_upload,
    create_multipart_upload,
    list_multipart_uploads,
    list_parts,
)
from uploads.s3.objects import (
    delete_object_version,
    get_object_bytes,
    get_range,
    head_latest,
    head_object,
    list_keys,
    list_object_versions,
    presigned_get,
    put_empty_object,
    put_object,
)
from uploads.s3.prefix import (
    delete_versions,
    list_versions_under,
)
from uploads.s3.probe import (
    delete_object_as,
    get_object_as,
    put_object_as,
    server_time,
)
from uploads.s3.sts import (
    assume_role,
)
from uploads.s3.types import (
    LIST_PARTS_PAGE,
    MAX_OBJECT_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    Credentials,
    KeyVersion,
    Latest,
    MultipartUpload,
    ObjectHead,
    Part,
    StorageError,
    StoredVersion,
    Version,
)

__all__ = [
    "KeyVersion",
    "delete_versions",
    "list_versions_under",
    "delete_object_as",
    "get_object_as",
    "put_object_as",
    "server_time",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MAX_OBJECT_SIZE",
    "LIST_PARTS_PAGE",
    "StorageError",
    "Part",
    "StoredVersion",
    "ObjectHead",
    "Version",
    "MultipartUpload",
    "Credentials",
    "Latest",
    "client",
    "bucket",
    "object_arn",
    "create_multipart_upload",
    "list_parts",
    "complete_multipart_upload",
    "abort_multipart_upload",
    "list_multipart_uploads",
    "head_object",
    "head_latest",
    "list_object_versions",
    "put_object",
    "put_empty_object",
    "get_object_bytes",
    "get_range",
    "list_keys",
    "delete_object_version",
    "presigned_get",
    "assume_role",
    "bucket_exists",
    "create_bucket",
    "get_bucket_cors",
    "put_bucket_cors",
    "get_bucket_versioning",
    "enable_bucket_versioning",
    "get_bucket_lifecycle",
    "put_bucket_lifecycle",
    "get_bucket_encryption",
    "put_bucket_encryption",
    "get_public_access_block",
    "put_public_access_block",
    "get_bucket_policy",
    "put_bucket_policy",
    "ensure_local_uploader_role",
]
