import json
from io import StringIO

import pytest
from django.core.management import call_command

from uploads import s3


def run(**kw) -> str:
    out = StringIO()
    call_command("setup_storage", stdout=out, **kw)
    return out.getvalue()


@pytest.mark.django_db
class TestSetupStorage:
    def test_it_configures_a_new_bucket_and_then_changes_nothing(self, moto, settings):
        settings.UPLOAD_BUCKET = "fresh-bucket"
        settings.PORTAL_ORIGINS = ["https://portal.example"]
        first = run(create_local_role=True)
        assert "created bucket fresh-bucket" in first
        assert "versioning on" in first and "SSE-S3" in first and "public access" in first

        assert s3.get_bucket_versioning() == "Enabled"
        (cors,) = s3.get_bucket_cors()
        assert cors["AllowedOrigins"] == ["https://portal.example"]
        assert set(cors["AllowedMethods"]) == {"PUT", "POST", "GET", "HEAD"}
        assert "ETag" in cors["ExposeHeaders"] and "authorization" in cors["AllowedHeaders"]
        (rule,) = s3.get_bucket_lifecycle()
        assert (
            rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
            == settings.UPLOAD_ABORT_INCOMPLETE_DAYS
        )
        enc = s3.get_bucket_encryption()[0]["ApplyServerSideEncryptionByDefault"]
        assert enc["SSEAlgorithm"] == "AES256"
        assert all(s3.get_public_access_block().values())
        policy = s3.get_bucket_policy()
        sids = {st["Sid"]: st for st in policy["Statement"]}
        assert all(st["Effect"] == "Deny" for st in policy["Statement"])
        assert sids["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert "s3:x-amz-server-side-encryption-customer-algorithm" in json.dumps(sids["DenySSEC"])

        assert "nothing changed" in run(create_local_role=True)

    def test_it_repairs_a_drifted_bucket(self, moto, settings):
        settings.UPLOAD_BUCKET = "drifted"
        run()
        s3.put_bucket_cors([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}])
        s3.client().delete_bucket_policy(Bucket="drifted")
        out = run()
        assert "set CORS" in out and "bucket policy" in out and "versioning" not in out
        assert s3.get_bucket_cors()[0]["AllowedOrigins"] == settings.PORTAL_ORIGINS

    def test_it_uses_sse_kms_when_a_key_is_configured(self, moto, settings):
        settings.UPLOAD_BUCKET = "kms-bucket"
        settings.UPLOAD_KMS_KEY_ID = (
            "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
        )
        assert "SSE-KMS" in run()
        enc = s3.get_bucket_encryption()[0]["ApplyServerSideEncryptionByDefault"]
        assert enc == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": settings.UPLOAD_KMS_KEY_ID}
