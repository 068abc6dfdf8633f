"""Every IAM document the portal writes or hands out, each written once: the session policy
that scopes vended credentials to one object, the uploader role's trust and permissions
(the ceiling every session policy narrows), and the deny-only bucket policy.

Pure functions of settings and their arguments: nothing here calls AWS, so a reviewer (or
IAM's policy simulator in the tests) reads exactly what the portal will send."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from uploads import s3

VERSION = "2012-10-17"


def document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": statements}


def session_policy(key: str) -> dict[str, Any]:
    """The inline session policy: s3:PutObject on exactly one object and nothing else.
    PutObject covers CreateMultipartUpload, UploadPart and CompleteMultipartUpload; listing
    and aborting go through the portal, so the browser needs no other action. `key` must
    already be safe (lifecycle.names.assert_safe_key): `*`, `?` and `${` are live here."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "PutThisObjectOnly",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": s3.object_arn(key),
        }
    ]
    if settings.UPLOAD_KMS_KEY_ID:
        statements.append(kms_statement())
    return document(statements)


def kms_statement() -> dict[str, Any]:
    """Use of the bucket's KMS key for SSE-KMS multipart uploads (a data key per part), and
    only by S3 in the bucket's region on the holder's behalf, never as a direct KMS call."""
    return {
        "Sid": "UseTheBucketKeyThroughS3",
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": settings.UPLOAD_KMS_KEY_ID,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{settings.AWS_REGION}.amazonaws.com"}},
    }


def uploader_role_policy() -> dict[str, Any]:
    """The role's own permissions: the ceiling every session policy narrows further."""
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": [f"arn:aws:s3:::{s3.bucket()}/*"]}
    ]
    if settings.UPLOAD_KMS_KEY_ID:
        statements.append(kms_statement())
    return document(statements)


def uploader_trust_policy(account: str) -> dict[str, Any]:
    """Who may assume the uploader role: the portal's own account, setting SourceIdentity so
    CloudTrail names the customer behind every request."""
    return document(
        [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            }
        ]
    )


def bucket_policy(*, revoked_identities: list[str], closed_prefixes: list[str]) -> dict[str, Any]:
    """The whole bucket policy the portal owns: deny-only statements, with the live
    revocations (source identities cut off, project prefixes closed)."""
    bucket_arn = f"arn:aws:s3:::{s3.bucket()}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            # Customer-provided keys would make objects the portal cannot read or verify.
            "Sid": "DenySSEC",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
        },
    ]
    if revoked_identities:
        statements.append(
            {
                "Sid": "DenyRevokedIdentities",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"StringEquals": {"aws:SourceIdentity": revoked_identities}},
            }
        )
    if closed_prefixes:
        statements.append(
            {
                "Sid": "DenyClosedProjects",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": [f"{bucket_arn}/{p}*" for p in closed_prefixes],
                "Condition": {"ArnEquals": {"aws:PrincipalArn": settings.UPLOADER_ROLE_ARN}},
            }
        )
    return document(statements)
