"""What the vended credentials still allow until they expire (PutObject covers starting,
filling and completing multipart uploads and PUT over the key), and how the one check
after expiry catches it."""

import os
from datetime import timedelta

from django.utils import timezone

from audit.models import AuditEvent
from uploads import integrity, s3
from uploads.models import Upload
from uploads.tests.helpers import (
    client_with,
    complete,
    create,
    credentials_of,
    post_json,
    send_parts,
    start,
)


def finished_with_credentials(client, project, data: bytes):
    up, creds = start(client, project, data)
    send_parts(creds, up, data)
    done = complete(client, up, data).json()
    return up, creds, done


def expire_credentials(upload_id) -> Upload:
    Upload.objects.filter(pk=upload_id).update(credentials_expire_at=timezone.now() - timedelta(seconds=1))
    return Upload.objects.get(pk=upload_id)


class TestForeignWrites:
    def test_a_put_over_the_key_after_completion_is_flagged(self, alice_client, tenants, bucket):
        data = os.urandom(5000)
        up, creds, done = finished_with_credentials(alice_client, tenants.project_a, data)
        client_with(creds).put_object(Bucket=bucket, Key=up["key"], Body=b"replaced")
        upload = expire_credentials(up["id"])
        assert list(integrity.due_for_foreign_check()) == [upload]
        findings = integrity.check_foreign_writes(upload)
        assert len(findings) == 1 and "8-byte version" in findings[0]
        upload.refresh_from_db()
        assert upload.status_reason and upload.version_id == done["version_id"]
        assert s3.get_object_bytes(up["key"], upload.version_id) == data
        assert AuditEvent.objects.get(action="upload.tampering_detected").data["findings"] == findings
        assert list(integrity.due_for_foreign_check()) == []

    def test_a_second_multipart_upload_started_with_the_credentials_is_aborted(
        self, alice_client, tenants, bucket
    ):
        up, creds, _ = finished_with_credentials(alice_client, tenants.project_a, os.urandom(5000))
        c = client_with(creds)
        stray = c.create_multipart_upload(Bucket=bucket, Key=up["key"])["UploadId"]
        c.upload_part(Bucket=bucket, Key=up["key"], UploadId=stray, PartNumber=1, Body=b"x" * 2000)
        findings = integrity.check_foreign_writes(expire_credentials(up["id"]))
        assert any("multipart upload the portal did not start" in f for f in findings)
        assert s3.list_multipart_uploads(up["key"]) == []

    def test_an_aborted_upload_completed_anyway_is_flagged(self, alice_client, tenants, bucket):
        data = os.urandom(5000)
        up = create(alice_client, tenants.project_a, data).json()
        creds = credentials_of(post_json(alice_client, f"/api/uploads/{up['id']}/credentials").json())
        post_json(alice_client, f"/api/uploads/{up['id']}/abort")
        client_with(creds).put_object(Bucket=bucket, Key=up["key"], Body=data)
        findings = integrity.check_foreign_writes(expire_credentials(up["id"]))
        assert len(findings) == 1 and "5,000-byte version" in findings[0]

    def test_an_untouched_upload_has_no_findings(self, alice_client, tenants, bucket):
        up, _, _ = finished_with_credentials(alice_client, tenants.project_a, os.urandom(5000))
        upload = Upload.objects.get(pk=up["id"])
        assert list(integrity.due_for_foreign_check()) == []  # credentials still live
        assert integrity.check_foreign_writes(expire_credentials(up["id"])) == []
        upload.refresh_from_db()
        assert upload.foreign_checked_at and upload.status_reason == ""
        assert not AuditEvent.objects.filter(action="upload.tampering_detected").exists()
