"""The boto3 clients and the one wrapper that turns boto3's errors into `StorageError`."""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from uploads.s3.types import StorageError


@functools.lru_cache(maxsize=16)
def cached_client(service: str, endpoint: str | None, region: str, key_id: str | None) -> Any:
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
    return cached_client(
        service, settings.AWS_ENDPOINT_URL, settings.AWS_REGION, os.environ.get("AWS_ACCESS_KEY_ID")
    )


def storage_error(exc: ClientError) -> StorageError:
    err = exc.response.get("Error", {})
    code = err.get("Code") or str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    return StorageError(code, err.get("Message", ""))


def call(fn, /, **kwargs) -> Any:
    try:
        return fn(**kwargs)
    except ClientError as exc:
        raise storage_error(exc) from None
    except BotoCoreError as exc:
        raise StorageError("Unavailable", type(exc).__name__) from None


def bucket() -> str:
    return settings.UPLOAD_BUCKET


def object_arn(key: str) -> str:
    return f"arn:aws:s3:::{bucket()}/{key}"


def encryption_args() -> dict[str, str]:
    if settings.UPLOAD_KMS_KEY_ID:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": settings.UPLOAD_KMS_KEY_ID}
    return {}
