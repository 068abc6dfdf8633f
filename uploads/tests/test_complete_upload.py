import os
import threading

import pytest
from django.db import connection
from django.test import Client

from audit.models import AuditEvent
from uploads import s3
from uploads.models import Upload
from uploads.tests.helpers import (
    client_with,
    complete,
    crc64nvme_b64,
    create,
    credentials_of,
    post_json,
    send_parts,
    sha256_hex,
    start,
    upload_fully,
)


class TestCompleteUpload:
    def test_it_records_version_and_queues_verification(
        self, alice_client, tenants, bucket, monkeypatch, django_capture_on_commit_callbacks
    ):
        from uploads import tasks

        sent = []
        monkeypatch.setattr(
            tasks.verify_upload, "delay", lambda upload_id: sent.append(("verify_upload", upload_id))
        )
        data = os.urandom(9000)
        up, creds = start(alice_client, tenants.project_a, data)
        send_parts(creds, up, data)
        with django_capture_on_commit_callbacks(execute=True):
            body = complete(alice_client, up, data).json()
        assert sent == [("verify_upload", up["id"])]
        row = Upload.objects.get(pk=up["id"])
        assert row.version_id == body["version_id"] and row.etag == body["etag"]
        assert s3.head_object(up["key"], row.version_id).size == 9000
        event = AuditEvent.objects.get(action="upload.completed")
        assert event.data["version_id"] == row.version_id and event.actor == tenants.alice

    def test_it_refuses_missing_parts_and_changes_nothing(self, alice_client, tenants, bucket):
        data = os.urandom(12 * 1024)
        up, creds = start(alice_client, tenants.project_a, data)
        send_parts(creds, up, data, numbers=[1, 3])
        resp = complete(alice_client, up, data)
        assert resp.status_code == 409 and resp.json()["code"] == "parts_mismatch"
        assert "1 part(s) missing (2)" in resp.json()["message"]
        assert Upload.objects.get(pk=up["id"]).status == Upload.Status.UPLOADING
        assert s3.list_multipart_uploads("acme/")
        # Sending the missing part and completing again works.
        send_parts(creds, up, data, numbers=[2])
        assert complete(alice_client, up, data).status_code == 200

    def test_it_refuses_parts_of_the_wrong_size(self, alice_client, tenants, bucket):
        data = os.urandom(12 * 1024)
        up, creds = start(alice_client, tenants.project_a, data)
        send_parts(creds, up, data)
        c = client_with(creds)
        c.upload_part(
            Bucket=bucket, Key=up["key"], UploadId=up["multipart_upload_id"], PartNumber=2, Body=b"x" * 5000
        )
        resp = complete(alice_client, up, data)
        assert resp.status_code == 409 and resp.json()["code"] == "parts_mismatch"
        assert "part 2 is 5,000 bytes, expected 4,096" in resp.json()["message"]

    def test_it_refuses_parts_beyond_the_plan_sent_with_the_credentials(self, alice_client, tenants, bucket):
        data = os.urandom(8 * 1024)
        up, creds = start(alice_client, tenants.project_a, data)
        send_parts(creds, up, data)
        client_with(creds).upload_part(
            Bucket=bucket,
            Key=up["key"],
            UploadId=up["multipart_upload_id"],
            PartNumber=3,
            Body=b"extra" * 300,
        )
        resp = complete(alice_client, up, data)
        assert resp.status_code == 409 and "unexpected part(s) 3" in resp.json()["message"]
        assert "bytes received but the file has" in resp.json()["message"]

    def test_it_refuses_a_wrong_whole_file_checksum(self, alice_client, tenants, bucket):
        data = os.urandom(9000)
        up, creds = start(alice_client, tenants.project_a, data)
        send_parts(creds, up, data)
        resp = complete(alice_client, up, data, crc=crc64nvme_b64(b"something else"))
        assert resp.status_code == 409 and resp.json()["code"] == "checksum_mismatch"
        row = Upload.objects.get(pk=up["id"])
        assert row.status == Upload.Status.FAILED and row.version_id == ""
        assert row.checksum_crc64nvme == "" and row.checksum_sha256 == ""
        assert post_json(alice_client, f"/api/uploads/{up['id']}/credentials").status_code == 409
        # moto does not check at complete and kept the bytes: the portal removed them.
        assert s3.list_object_versions(up["key"]) == []
        event = AuditEvent.objects.get(action="upload.failed")
        assert event.data["removed_version"] and event.data["expected"] != event.data["received"]

    def test_a_multipart_upload_completed_with_the_credentials_is_tampering(
        self, alice_client, tenants, bucket
    ):
        data = os.urandom(9000)
        up, creds = start(alice_client, tenants.project_a, data)
        send_parts(creds, up, data)
        c = client_with(creds)
        parts = c.list_parts(Bucket=bucket, Key=up["key"], UploadId=up["multipart_upload_id"])["Parts"]
        c.complete_multipart_upload(
            Bucket=bucket,
            Key=up["key"],
            UploadId=up["multipart_upload_id"],
            MultipartUpload={"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]},
        )
        resp = complete(alice_client, up, data)
        assert resp.status_code == 409 and resp.json()["code"] == "upload_missing"
        assert Upload.objects.get(pk=up["id"]).status == Upload.Status.FAILED
        assert AuditEvent.objects.filter(action="upload.tampering_detected").exists()

    def test_the_same_complete_again_answers_as_the_first(self, alice_client, tenants, bucket):
        # The browser repeats complete when the first reply was lost on the way.
        data = os.urandom(5000)
        first = upload_fully(alice_client, tenants.project_a, data)
        events = AuditEvent.objects.count()
        resp = complete(alice_client, first, data)
        assert resp.status_code == 200
        assert resp.json()["version_id"] == first["version_id"]
        assert resp.json()["checksum_crc64nvme"] == crc64nvme_b64(data)
        assert AuditEvent.objects.count() == events, "a replay changes nothing"
        assert len(s3.list_object_versions(Upload.objects.get(pk=first["id"]).object_key)) == 1

    def test_completing_again_with_other_checksums_is_refused(self, alice_client, tenants, bucket):
        data = os.urandom(5000)
        first = upload_fully(alice_client, tenants.project_a, data)
        other = os.urandom(5000)
        resp = complete(alice_client, first, other)
        assert resp.status_code == 409 and resp.json()["code"] == "already_completed"
        assert Upload.objects.get(pk=first["id"]).version_id == first["version_id"]

    def test_completing_a_failed_upload_says_why(self, alice_client, tenants, bucket):
        data = os.urandom(9000)
        up, creds = start(alice_client, tenants.project_a, data)
        send_parts(creds, up, data)
        wrong = crc64nvme_b64(b"other bytes")
        assert complete(alice_client, up, data, crc=wrong).json()["code"] == "checksum_mismatch"
        resp = complete(alice_client, up, data)
        assert resp.status_code == 409 and resp.json()["code"] == "upload_failed"
        assert "checksum did not match" in resp.json()["message"]

    def test_completing_an_aborted_upload_is_refused(self, alice_client, tenants, bucket):
        data = os.urandom(5000)
        up, creds = start(alice_client, tenants.project_a, data)
        send_parts(creds, up, data)
        assert post_json(alice_client, f"/api/uploads/{up['id']}/abort").status_code == 200
        resp = complete(alice_client, up, data)
        assert resp.status_code == 409 and resp.json()["code"] == "upload_aborted"

    def test_it_needs_the_crc64nvme_and_well_formed_checksums(self, alice_client, tenants, bucket):
        data = os.urandom(5000)
        up, creds = start(alice_client, tenants.project_a, data)
        send_parts(creds, up, data)
        for body in (
            {},
            {"checksum_sha256": sha256_hex(data)},
            {"checksum_crc64nvme": "nope", "checksum_sha256": sha256_hex(data)},
            {"checksum_crc64nvme": crc64nvme_b64(data), "checksum_sha256": "XYZ"},
        ):
            resp = post_json(alice_client, f"/api/uploads/{up['id']}/complete", body)
            assert resp.status_code == 400 and resp.json()["code"] == "invalid_checksum"
        assert Upload.objects.get(pk=up["id"]).status == Upload.Status.UPLOADING

    def test_the_browser_may_leave_the_sha256_to_the_portal(self, alice_client, tenants, bucket):
        data = os.urandom(5000)
        up, creds = start(alice_client, tenants.project_a, data)
        send_parts(creds, up, data)
        resp = post_json(
            alice_client, f"/api/uploads/{up['id']}/complete", {"checksum_crc64nvme": crc64nvme_b64(data)}
        )
        assert resp.status_code == 200, resp.content
        upload = Upload.objects.get(pk=up["id"])
        assert upload.status == Upload.Status.UPLOADED
        assert (upload.checksum_crc64nvme, upload.checksum_sha256) == (crc64nvme_b64(data), "")

    def test_another_uploader_cannot_complete_it(self, alice_client, tenants, bucket, make_user):
        from accounts.models import Membership

        carol = make_user("carol@acme.example")
        Membership.objects.create(user=carol, organization=tenants.org_a, role="uploader")
        data = os.urandom(5000)
        up, creds = start(alice_client, tenants.project_a, data)
        other = Client()
        other.force_login(carol)
        resp = complete(other, up, data)
        assert resp.status_code == 403 and resp.json()["code"] == "not_your_upload"
        other.force_login(tenants.bob)
        assert complete(other, up, data).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_completes_at_once_complete_once(tenants, bucket):
    data = os.urandom(9000)
    client = Client()
    client.force_login(tenants.alice)
    up, creds = start(client, tenants.project_a, data)
    send_parts(creds, up, data)
    barrier = threading.Barrier(2)
    codes = []

    def go():
        c = Client()
        c.force_login(tenants.alice)
        barrier.wait()
        try:
            codes.append(complete(c, up, data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409]
    assert AuditEvent.objects.filter(action="upload.completed").count() == 1
    versions = s3.list_object_versions(up["key"])
    assert len(versions) == 1


class TestDeclaredChecksum:
    def test_bytes_other_than_the_declared_ones_are_refused_and_nothing_is_kept(
        self, alice_client, tenants, bucket
    ):
        data = os.urandom(9000)
        up = create(alice_client, tenants.project_a, data, declared_sha256=sha256_hex(b"other bytes")).json()
        creds = credentials_of(post_json(alice_client, f"/api/uploads/{up['id']}/credentials").json())
        send_parts(creds, up, data)
        response = complete(alice_client, up, data)
        assert response.status_code == 409
        assert response.json()["code"] == "declared_checksum_mismatch"
        assert "not the one you declared" in response.json()["message"]
        upload = Upload.objects.get(pk=up["id"])
        assert upload.status == Upload.Status.FAILED and upload.checksum_sha256 == ""
        assert not s3.list_multipart_uploads("acme/")
        assert not s3.list_keys("acme/")
        assert AuditEvent.objects.filter(
            action="upload.refused", data__reason="declared_checksum_mismatch"
        ).exists()

    def test_the_declared_bytes_complete(self, alice_client, tenants, bucket):
        data = os.urandom(9000)
        up = create(alice_client, tenants.project_a, data, declared_sha256=sha256_hex(data).upper()).json()
        creds = credentials_of(post_json(alice_client, f"/api/uploads/{up['id']}/credentials").json())
        send_parts(creds, up, data)
        assert complete(alice_client, up, data).status_code == 200
