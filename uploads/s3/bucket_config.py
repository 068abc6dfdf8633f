"""The upload bucket's own configuration: what `setup_storage` reads and writes."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from uploads.s3.client import bucket, call, client
from uploads.s3.types import StorageError


def bucket_exists() -> bool:
    try:
        call(client().head_bucket, Bucket=bucket())
    except StorageError as exc:
        if exc.code in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    return True


def create_bucket() -> None:
    kwargs: dict[str, Any] = {"Bucket": bucket()}
    if settings.AWS_REGION != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_REGION}
    call(client().create_bucket, **kwargs)


def get_bucket_cors() -> list[dict[str, Any]]:
    try:
        return call(client().get_bucket_cors, Bucket=bucket()).get("CORSRules", [])
    except StorageError as exc:
        if exc.code == "NoSuchCORSConfiguration":
            return []
        raise


def put_bucket_cors(rules: list[dict[str, Any]]) -> None:
    call(client().put_bucket_cors, Bucket=bucket(), CORSConfiguration={"CORSRules": rules})


def get_bucket_versioning() -> str:
    return call(client().get_bucket_versioning, Bucket=bucket()).get("Status", "")


def enable_bucket_versioning() -> None:
    call(client().put_bucket_versioning, Bucket=bucket(), VersioningConfiguration={"Status": "Enabled"})


def get_bucket_lifecycle() -> list[dict[str, Any]]:
    try:
        return call(client().get_bucket_lifecycle_configuration, Bucket=bucket()).get("Rules", [])
    except StorageError as exc:
        if exc.code == "NoSuchLifecycleConfiguration":
            return []
        raise


def put_bucket_lifecycle(rules: list[dict[str, Any]]) -> None:
    call(
        client().put_bucket_lifecycle_configuration,
        Bucket=bucket(),
        LifecycleConfiguration={"Rules": rules},
    )


def get_bucket_encryption() -> list[dict[str, Any]]:
    try:
        resp = call(client().get_bucket_encryption, Bucket=bucket())
    except StorageError as exc:
        if exc.code == "ServerSideEncryptionConfigurationNotFoundError":
            return []
        raise
    return resp.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])


def put_bucket_encryption(rules: list[dict[str, Any]]) -> None:
    call(
        client().put_bucket_encryption,
        Bucket=bucket(),
        ServerSideEncryptionConfiguration={"Rules": rules},
    )


def get_public_access_block() -> dict[str, bool]:
    try:
        resp = call(client().get_public_access_block, Bucket=bucket())
    except StorageError as exc:
        if exc.code == "NoSuchPublicAccessBlockConfiguration":
            return {}
        raise
    return resp.get("PublicAccessBlockConfiguration", {})


def put_public_access_block(config: dict[str, bool]) -> None:
    call(client().put_public_access_block, Bucket=bucket(), PublicAccessBlockConfiguration=config)


def get_bucket_policy() -> dict[str, Any] | None:
    try:
        resp = call(client().get_bucket_policy, Bucket=bucket())
    except StorageError as exc:
        if exc.code == "NoSuchBucketPolicy":
            return None
        raise
    return json.loads(resp["Policy"])


def put_bucket_policy(policy: dict[str, Any]) -> None:
    call(client().put_bucket_policy, Bucket=bucket(), Policy=json.dumps(policy, separators=(",", ":")))
