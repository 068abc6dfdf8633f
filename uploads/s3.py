"""The portal's S3 client: the only module that imports boto3.

(This copy carries only what the audit archive needs; the storage branch owns the full
module and keeps these three functions with the same signatures.)"""

from functools import lru_cache

import boto3
from botocore.config import Config
from django.conf import settings


@lru_cache(maxsize=8)
def _client(endpoint_url: str | None, region: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"}),
    )


def client():
    # Keyed by the settings, so tests that point AWS_ENDPOINT_URL elsewhere get a new client.
    return _client(settings.AWS_ENDPOINT_URL, settings.AWS_REGION)


def put_object(key: str, body: bytes, content_type: str) -> str | None:
    """Store body under key in the upload bucket; the new version id (None if unversioned)."""
    response = client().put_object(
        Bucket=settings.UPLOAD_BUCKET, Key=key, Body=body, ContentType=content_type
    )
    return response.get("VersionId")


def get_object_bytes(key: str, version_id: str | None = None) -> bytes:
    kwargs = {"Bucket": settings.UPLOAD_BUCKET, "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    return client().get_object(**kwargs)["Body"].read()


def list_keys(prefix: str) -> list[str]:
    """Every key under prefix, all pages."""
    keys: list[str] = []
    paginator = client().get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=settings.UPLOAD_BUCKET, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys
