"""The upload bucket: what `setup_storage` (or the deployment in deploy/) must have set."""

from __future__ import annotations

from django.conf import settings

from uploads import s3
from uploads.bucket import PUBLIC_ACCESS_BLOCK, desired_encryption, encryption_ok
from uploads.cors import CORS_EXPOSE_HEADERS, PART_HEADERS
from uploads.preflight import Check, Finding, failed, not_checked, on_local_stand_in, passed

SETUP = "Run `manage.py setup_storage` (or deploy deploy/ again) to set it."


class BucketExists(Check):
    name = "bucket-exists"

    def check(self) -> Finding:
        if s3.bucket_exists():
            return passed(f"bucket {s3.bucket()} answers")
        return failed(
            f"bucket {s3.bucket()} does not exist", f"Set UPLOAD_BUCKET to the deployed bucket. {SETUP}"
        )


class BucketVersioning(Check):
    name = "bucket-versioning"

    def check(self) -> Finding:
        status = s3.get_bucket_versioning()
        if status == "Enabled":
            return passed("versioning is enabled")
        return failed(
            f"versioning is {status or 'off'}: a second upload of a name would overwrite the first",
            f"Enable versioning on {s3.bucket()}. {SETUP}",
        )


class BucketEncryption(Check):
    name = "bucket-encryption"

    def check(self) -> Finding:
        if encryption_ok(s3.get_bucket_encryption()):
            wanted = desired_encryption()[0]["ApplyServerSideEncryptionByDefault"]
            return passed(f"default encryption is {wanted['SSEAlgorithm']}")
        kind = f"SSE-KMS with {settings.UPLOAD_KMS_KEY_ID}" if settings.UPLOAD_KMS_KEY_ID else "SSE-S3"
        return failed(
            "default encryption is not what the portal expects", f"Set default encryption to {kind}. {SETUP}"
        )


class PublicAccessBlock(Check):
    name = "bucket-public-access-block"

    def check(self) -> Finding:
        have = s3.get_public_access_block()
        missing = [k for k in PUBLIC_ACCESS_BLOCK if not have.get(k)]
        if not missing:
            return passed("all four public access block settings are on")
        return failed(
            f"public access is not fully blocked: {', '.join(missing)} off", f"Turn them on. {SETUP}"
        )


class AbortIncompleteUploads(Check):
    name = "bucket-lifecycle"

    def check(self) -> Finding:
        for rule in s3.get_bucket_lifecycle():
            days = rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
            prefix = rule.get("Filter", {}).get("Prefix", rule.get("Prefix", ""))
            if rule.get("Status") == "Enabled" and days and not prefix:
                return passed(f"abandoned multipart uploads are aborted after {days} days")
        return failed(
            "no lifecycle rule aborts abandoned multipart uploads: their parts are billed forever",
            f"Add an AbortIncompleteMultipartUpload rule for the whole bucket. {SETUP}",
        )


class BucketCors(Check):
    name = "bucket-cors"

    def check(self) -> Finding:
        rules = s3.get_bucket_cors()
        problems = [p for origin in settings.PORTAL_ORIGINS if (p := self._problem(rules, origin))]
        if not problems:
            return passed(f"CORS lets {', '.join(settings.PORTAL_ORIGINS)} send parts and read their ETag")
        return failed(
            "; ".join(problems),
            f"The rule must allow PUT from the portal's origin, the headers {', '.join(PART_HEADERS)}, "
            f"and expose {', '.join(CORS_EXPOSE_HEADERS[:2])}. {SETUP}",
        )

    @staticmethod
    def _problem(rules: list[dict], origin: str) -> str:
        for rule in rules:
            origins = rule.get("AllowedOrigins", [])
            if origin not in origins and "*" not in origins:
                continue
            if "PUT" not in rule.get("AllowedMethods", []):
                continue
            allowed = {h.lower() for h in rule.get("AllowedHeaders", [])}
            # "*" does not cover Authorization for browsers; x-amz-* covers the x-amz headers on S3.
            missing = [
                h
                for h in PART_HEADERS
                if h not in allowed and not (h.startswith("x-amz-") and "x-amz-*" in allowed)
            ]
            if missing:
                return f"the CORS rule for {origin} does not allow the headers {', '.join(missing)}"
            if "etag" not in {h.lower() for h in rule.get("ExposeHeaders", [])}:
                return (
                    f"the CORS rule for {origin} does not expose ETag: the browser cannot complete an upload"
                )
            return ""
        return f"no CORS rule lets {origin} PUT parts"


class BucketPolicy(Check):
    name = "bucket-policy"

    def check(self) -> Finding:
        if not settings.UPLOAD_BUCKET_POLICY and on_local_stand_in():
            return not_checked(
                "UPLOAD_BUCKET_POLICY is false, as on the local S3 stand-in, which would apply the "
                "policy's conditional denies to every request; in AWS the deployment writes it"
            )
        policy = s3.get_bucket_policy() or {}
        denies = [s for s in policy.get("Statement", []) if s.get("Effect") == "Deny"]
        tls = any(
            s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
            for s in denies
        )
        ssec = any(
            "s3:x-amz-server-side-encryption-customer-algorithm" in str(s.get("Condition", {}))
            for s in denies
        )
        missing = [what for what, ok in (("plain-HTTP requests", tls), ("SSE-C uploads", ssec)) if not ok]
        if not missing:
            return passed("the bucket policy denies plain-HTTP requests and SSE-C uploads")
        return failed(
            f"the bucket policy does not deny {' or '.join(missing)}",
            "Set UPLOAD_BUCKET_POLICY=true and run `manage.py setup_storage`, or deploy deploy/ again.",
        )
