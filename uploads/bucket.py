"""The upload bucket's configuration as the portal needs it, and the idempotent setup that
makes the real bucket match (run by `manage.py setup_storage`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from uploads import integrity, lifecycle, policies, s3
from uploads.cors import CORS_ALLOWED_HEADERS, CORS_EXPOSE_HEADERS

LIFECYCLE_RULE_ID = "abort-incomplete-multipart-uploads"
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def desired_cors() -> list[dict[str, Any]]:
    return [
        {
            "AllowedOrigins": list(settings.PORTAL_ORIGINS),
            "AllowedMethods": ["PUT", "POST", "GET", "HEAD"],
            "AllowedHeaders": CORS_ALLOWED_HEADERS,
            "ExposeHeaders": CORS_EXPOSE_HEADERS,
            "MaxAgeSeconds": 3600,
        }
    ]


def desired_lifecycle_rule() -> dict[str, Any]:
    return {
        "ID": LIFECYCLE_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": settings.UPLOAD_ABORT_INCOMPLETE_DAYS},
    }


def desired_encryption() -> list[dict[str, Any]]:
    if settings.UPLOAD_KMS_KEY_ID:
        default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": settings.UPLOAD_KMS_KEY_ID}
        return [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": True}]
    return [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]


def _same_cors(current: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    keys = ("AllowedOrigins", "AllowedMethods", "AllowedHeaders", "ExposeHeaders", "MaxAgeSeconds")

    def norm(rules):
        return [
            {k: sorted(r.get(k, [])) if isinstance(r.get(k), list) else r.get(k) for k in keys} for r in rules
        ]

    return norm(current) == norm(wanted)


def _lifecycle_ok(rules: list[dict[str, Any]]) -> bool:
    days = settings.UPLOAD_ABORT_INCOMPLETE_DAYS
    for r in rules:
        if (
            r.get("ID") == LIFECYCLE_RULE_ID
            and r.get("Status") == "Enabled"
            and r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == days
        ):
            return True
    return False


def encryption_ok(rules: list[dict[str, Any]]) -> bool:
    wanted = desired_encryption()[0]["ApplyServerSideEncryptionByDefault"]
    for r in rules:
        have = r.get("ApplyServerSideEncryptionByDefault", {})
        if have.get("SSEAlgorithm") == wanted["SSEAlgorithm"] and have.get("KMSMasterKeyID") == wanted.get(
            "KMSMasterKeyID"
        ):
            return True
    return False


def ensure_local_uploader_role() -> bool:
    """The uploader role on the local stand-in (in AWS an administrator creates it once)."""
    account = settings.UPLOADER_ROLE_ARN.split(":")[4]
    return s3.ensure_local_uploader_role(
        trust_policy=policies.uploader_trust_policy(account), permissions=policies.uploader_role_policy()
    )


def setup_storage(*, create_local_role: bool = False) -> list[str]:
    """Create or correct the bucket's configuration. Returns what changed (empty when the
    bucket already matched), so running it twice changes nothing the second time."""
    changes: list[str] = []
    if create_local_role and ensure_local_uploader_role():
        changes.append(f"created the uploader role {settings.UPLOADER_ROLE_ARN} (local stand-in only)")
    created = not s3.bucket_exists()
    if created:
        s3.create_bucket()
        changes.append(f"created bucket {s3.bucket()}")
    if s3.get_bucket_versioning() != "Enabled":
        s3.enable_bucket_versioning()
        changes.append("turned versioning on")
    # A new bucket under a database that recorded files: their data is not there (a local
    # S3 keeps objects in memory only). Say so now rather than at the next sweep.
    if created and integrity.recheck_all():
        missing = integrity.sweep()
        changes.append(f"found {missing} received file(s) missing from the new bucket; staff are told")
    if not _same_cors(s3.get_bucket_cors(), desired_cors()):
        s3.put_bucket_cors(desired_cors())
        changes.append(f"set CORS for {', '.join(settings.PORTAL_ORIGINS)}")
    rules = s3.get_bucket_lifecycle()
    if not _lifecycle_ok(rules):
        others = [r for r in rules if r.get("ID") != LIFECYCLE_RULE_ID]
        s3.put_bucket_lifecycle([*others, desired_lifecycle_rule()])
        days = settings.UPLOAD_ABORT_INCOMPLETE_DAYS
        changes.append(f"set lifecycle: abort incomplete multipart uploads after {days} days")
    if not encryption_ok(s3.get_bucket_encryption()):
        s3.put_bucket_encryption(desired_encryption())
        kind = "SSE-KMS" if settings.UPLOAD_KMS_KEY_ID else "SSE-S3"
        changes.append(f"set default encryption to {kind}")
    pab = s3.get_public_access_block()
    if any(not pab.get(k) for k in PUBLIC_ACCESS_BLOCK):
        s3.put_public_access_block(PUBLIC_ACCESS_BLOCK)
        changes.append("blocked all public access")
    if not settings.UPLOAD_BUCKET_POLICY:
        changes.append(
            "left the bucket policy out (UPLOAD_BUCKET_POLICY=false: the local S3 stand-in "
            "treats its conditional denies as unconditional)"
        )
    elif lifecycle.apply_bucket_policy():
        changes.append("wrote the bucket policy (deny non-TLS, deny SSE-C, live revocations)")
    return changes
