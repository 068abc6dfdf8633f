"""A complete whose web process dies midway leaves the upload `completing`; reconciliation
asks S3 what happened and records it, hands the upload back, or fails it."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from uploads import reconciliation, s3
from uploads.models import Upload
from uploads.tests import helpers
from uploads.tests.helpers import crc64nvme_b64, send_parts, sha256_hex

DATA = os.urandom(20 * 1024)


class ProcessDied(Exception):
    pass


def die(*args, **kwargs):
    raise ProcessDied


def started(client, project) -> dict:
    up, creds = helpers.start(client, project, DATA)
    send_parts(creds, up, DATA)
    return up


def complete(client, up: dict, crc: str | None = None):
    return helpers.complete(client, up, DATA, crc)


def complete_dying_at(client, up: dict, monkeypatch, where: str, crc: str | None = None) -> None:
    with monkeypatch.context() as m:
        m.setattr(s3, where, die)
        with pytest.raises(ProcessDied):
            complete(client, up, crc)
    assert Upload.objects.get(pk=up["id"]).status == Upload.Status.COMPLETING


def recover(settings, after_s: int = 1) -> int:
    later = timezone.now() + timedelta(seconds=settings.UPLOAD_COMPLETE_TIMEOUT_SECONDS + after_s)
    return reconciliation.recover_interrupted_completes(now=later)


def outcome() -> str:
    return AuditEvent.objects.get(action="upload.complete_interrupted").data["outcome"]


class TestInterruptedComplete:
    def test_it_waits_for_the_timeout(self, alice_client, tenants, bucket, monkeypatch, settings):
        up = started(alice_client, tenants.project_a)
        complete_dying_at(alice_client, up, monkeypatch, "head_object")
        assert recover(settings, after_s=-60) == 0
        assert Upload.objects.get(pk=up["id"]).status == Upload.Status.COMPLETING
        assert complete(alice_client, up).json()["code"] == "already_completing"

    def test_one_that_died_after_s3_finished_is_recorded(
        self, alice_client, tenants, bucket, monkeypatch, settings
    ):
        up = started(alice_client, tenants.project_a)
        complete_dying_at(alice_client, up, monkeypatch, "head_object")
        assert recover(settings) == 1
        row = Upload.objects.get(pk=up["id"])
        assert row.status == Upload.Status.UPLOADED
        assert row.version_id == s3.head_object(up["key"]).version_id
        assert row.checksum_crc64nvme == crc64nvme_b64(DATA) and row.checksum_sha256 == sha256_hex(DATA)
        assert outcome() == "completed"
        assert AuditEvent.objects.filter(action="upload.completed", actor=None).count() == 1
        # The browser, still asking, now gets the answer.
        resp = complete(alice_client, up)
        assert resp.status_code == 200 and resp.json()["version_id"] == row.version_id

    def test_one_that_died_before_s3_finished_is_handed_back(
        self, alice_client, tenants, bucket, monkeypatch, settings
    ):
        up = started(alice_client, tenants.project_a)
        complete_dying_at(alice_client, up, monkeypatch, "complete_multipart_upload")
        assert recover(settings) == 1
        assert Upload.objects.get(pk=up["id"]).status == Upload.Status.UPLOADING
        assert outcome() == "handed_back"
        resp = complete(alice_client, up)
        assert resp.status_code == 200, resp.content
        assert Upload.objects.get(pk=up["id"]).status == Upload.Status.UPLOADED

    def test_an_object_without_the_claimed_checksum_fails_it(
        self, alice_client, tenants, bucket, monkeypatch, settings
    ):
        up = started(alice_client, tenants.project_a)
        wrong = crc64nvme_b64(b"not this file")
        complete_dying_at(alice_client, up, monkeypatch, "complete_multipart_upload", crc=wrong)
        # Someone finishes the multipart upload on S3 in the meantime.
        parts = s3.list_parts(up["key"], up["multipart_upload_id"])
        s3.client().complete_multipart_upload(
            Bucket=bucket,
            Key=up["key"],
            UploadId=up["multipart_upload_id"],
            MultipartUpload={"Parts": [{"PartNumber": p.number, "ETag": p.etag} for p in parts]},
        )
        assert recover(settings) == 1
        row = Upload.objects.get(pk=up["id"])
        assert row.status == Upload.Status.FAILED and row.version_id == ""
        assert outcome() == "failed"
        assert "checksum" in complete(alice_client, up).json()["message"]

    def test_a_slow_complete_taken_for_dead_still_records_what_s3_finished(
        self, alice_client, tenants, bucket, monkeypatch, settings
    ):
        up = started(alice_client, tenants.project_a)
        real_complete = s3.complete_multipart_upload

        def slow_complete(*args, **kwargs):
            # While S3 works, reconciliation decides this complete died and hands it back.
            assert recover(settings) == 1
            return real_complete(*args, **kwargs)

        monkeypatch.setattr(s3, "complete_multipart_upload", slow_complete)
        resp = complete(alice_client, up)
        assert resp.status_code == 200, resp.content
        row = Upload.objects.get(pk=up["id"])
        assert row.status == Upload.Status.UPLOADED and row.version_id == resp.json()["version_id"]
        assert outcome() == "handed_back"
