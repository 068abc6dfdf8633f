"""The uploader role: the portal can assume it with a session policy and SourceIdentity for
as long as it hands credentials out, and what it hands out can write the one object and
nothing else."""

from __future__ import annotations

import uuid

from django.conf import settings

from uploads import policies, s3
from uploads.preflight import Check, Finding, failed, not_checked, on_local_stand_in, passed

# Objects the preflight writes live here, away from every project's prefix, and are deleted.
SCRATCH_PREFIX = "_preflight/"
SOURCE_IDENTITY = "portal-preflight"


def scratch_key() -> str:
    return f"{SCRATCH_PREFIX}{uuid.uuid4().hex}/probe.bin"


def longest_credentials() -> int:
    return max(settings.UPLOAD_CREDENTIALS_SECONDS, settings.UPLOAD_CLI_CREDENTIALS_SECONDS)


def vend(key: str) -> s3.Credentials:
    """Credentials exactly as the portal vends them for `key`, for the longest time it does."""
    return s3.assume_role("preflight", SOURCE_IDENTITY, policies.session_policy(key), longest_credentials())


def remove(key: str) -> None:
    for version in s3.list_object_versions(key):
        s3.delete_object_version(key, version.version_id)


class AssumeUploaderRole(Check):
    name = "uploader-role"
    fix_on_error = (
        "The portal's identity must be trusted by UPLOADER_ROLE_ARN for sts:AssumeRole and "
        "sts:SetSourceIdentity, and the role's MaxSessionDuration must be at least "
        "UPLOAD_CLI_CREDENTIALS_SECONDS (deploy/ sets both)."
    )

    def check(self) -> Finding:
        creds = vend(scratch_key())
        return passed(
            f"assumed {settings.UPLOADER_ROLE_ARN} with a session policy and SourceIdentity for "
            f"{longest_credentials()} s (key {creds.access_key_id})"
        )


class VendedCredentialsScope(Check):
    name = "vended-credentials"
    fix_on_error = "Give the uploader role s3:PutObject on the bucket's objects (deploy/ does)."

    def check(self) -> Finding:
        key = scratch_key()
        creds = vend(key)
        try:
            s3.put_object_as(creds, key, b"preflight")
        except s3.StorageError as exc:
            remove(key)
            if on_local_stand_in() and s3.get_bucket_policy():
                return not_checked(
                    f"vended credentials were refused their own object ({exc.code}) by the bucket policy: "
                    "the local S3 stand-in applies its conditional denies to every request"
                )
            return failed(f"vended credentials cannot write their own object: {exc.code}", self.fix_on_error)
        sibling = key.replace("probe.bin", "sibling.bin")
        try:
            allowed = [
                what
                for what, attempt in (
                    ("write another key", lambda: s3.put_object_as(creds, sibling, b"x")),
                    ("read their own object", lambda: s3.get_object_as(creds, key)),
                    ("delete their own object", lambda: s3.delete_object_as(creds, key)),
                )
                if self._allowed(attempt)
            ]
        finally:
            remove(sibling)
            remove(key)
        if not allowed:
            return passed("vended credentials wrote their one object and were refused everything else")
        if on_local_stand_in():
            return not_checked(
                "vended credentials wrote their one object; whether they are refused everything else "
                "cannot be checked here: the local S3 stand-in (moto) does not enforce session policies "
                f"(it let them {', '.join(allowed)}). uploads/tests/test_session_policy.py checks the policy "
                "with an IAM evaluator instead."
            )
        return failed(
            f"vended credentials could also {', '.join(allowed)}",
            "The uploader role's policy or a bucket policy grants too much: the role needs "
            "s3:PutObject only.",
        )

    @staticmethod
    def _allowed(attempt) -> bool:
        try:
            attempt()
        except s3.StorageError:
            return False
        return True
