"""Calls that prove what an environment allows: requests made with vended credentials (as
a customer's browser makes them) and the storage service's own clock. Used by the
preflight (`manage.py check_aws`), never on an upload's path."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

import boto3
from botocore.config import Config
from django.conf import settings

from uploads.s3.client import bucket, call, client
from uploads.s3.types import Credentials


def _client_as(credentials: Credentials):
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.AWS_PUBLIC_ENDPOINT_URL,
        region_name=settings.AWS_REGION,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}),
    )


def put_object_as(credentials: Credentials, key: str, body: bytes) -> None:
    """PutObject acting with `credentials`; raises StorageError (AccessDenied …) if refused."""
    call(_client_as(credentials).put_object, Bucket=bucket(), Key=key, Body=body)


def get_object_as(credentials: Credentials, key: str) -> bytes:
    return call(_client_as(credentials).get_object, Bucket=bucket(), Key=key)["Body"].read()


def delete_object_as(credentials: Credentials, key: str) -> None:
    call(_client_as(credentials).delete_object, Bucket=bucket(), Key=key)


def server_time() -> datetime | None:
    """The time in the Date header of S3's answer to HeadBucket (None if it sent none)."""
    resp = call(client().head_bucket, Bucket=bucket())
    date = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    return parsedate_to_datetime(date) if date else None
