import os

from audit.models import AuditEvent
from uploads.models import Upload, UploadPart
from uploads.tests.helpers import crc64nvme_b64, create, credentials_of, post_json, send_parts, upload_fully


def progress(client, up, bytes_done, parts=()):
    return post_json(
        client, f"/api/uploads/{up['id']}/progress", {"bytes_done": bytes_done, "parts": list(parts)}
    )


class TestProgress:
    def test_it_acts_on_one_call_per_interval(self, alice_client, tenants, bucket, settings):
        up = create(alice_client, tenants.project_a, 12 * 1024).json()
        first = progress(alice_client, up, 4096, [{"number": 1, "checksum_crc64nvme": crc64nvme_b64(b"a")}])
        assert first.json() == {"accepted": True, "retry_after": 30}
        second = progress(alice_client, up, 8192, [{"number": 2, "checksum_crc64nvme": crc64nvme_b64(b"b")}])
        assert second.status_code == 200 and second.json()["accepted"] is False
        assert 1 <= second.json()["retry_after"] <= 30
        row = Upload.objects.get(pk=up["id"])
        assert row.bytes_confirmed == 4096 and row.status == Upload.Status.UPLOADING
        assert list(UploadPart.objects.values_list("number", "checksum_crc64nvme")) == [
            (1, crc64nvme_b64(b"a"))
        ]
        assert not AuditEvent.objects.filter(action__contains="progress").exists()

    def test_a_later_call_updates_and_replaces_part_checksums(self, alice_client, tenants, bucket, settings):
        settings.UPLOAD_PROGRESS_INTERVAL_SECONDS = 0
        up = create(alice_client, tenants.project_a, 12 * 1024).json()
        progress(alice_client, up, 4096, [{"number": 1, "checksum_crc64nvme": crc64nvme_b64(b"a")}])
        resp = progress(
            alice_client,
            up,
            8192,
            [
                {"number": 1, "checksum_crc64nvme": crc64nvme_b64(b"c")},
                {"number": 2, "checksum_crc64nvme": crc64nvme_b64(b"b")},
            ],
        )
        assert resp.json()["accepted"] is True
        assert dict(UploadPart.objects.values_list("number", "checksum_crc64nvme")) == {
            1: crc64nvme_b64(b"c"),
            2: crc64nvme_b64(b"b"),
        }
        assert Upload.objects.get(pk=up["id"]).bytes_confirmed == 8192

    def test_it_rejects_parts_outside_the_plan_and_bad_checksums(self, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 12 * 1024).json()
        for bad in (
            [{"number": 4, "checksum_crc64nvme": crc64nvme_b64(b"a")}],
            [{"number": 0, "checksum_crc64nvme": crc64nvme_b64(b"a")}],
            [{"number": 1, "checksum_crc64nvme": "not base64!"}],
        ):
            assert progress(alice_client, up, 10, bad).status_code == 400
        assert progress(alice_client, up, 12 * 1024 + 1).json()["code"] == "invalid_progress"
        assert not UploadPart.objects.exists()
        assert Upload.objects.get(pk=up["id"]).last_progress_at is None

    def test_a_stalled_upload_is_uploading_again(self, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 12 * 1024).json()
        Upload.objects.filter(pk=up["id"]).update(status=Upload.Status.STALLED)
        assert progress(alice_client, up, 100).json()["accepted"] is True
        assert Upload.objects.get(pk=up["id"]).status == Upload.Status.UPLOADING

    def test_a_viewer_cannot_report_progress(self, client, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 12 * 1024).json()
        client.force_login(tenants.victor)
        assert progress(client, up, 100).status_code == 403


class TestParts:
    def test_it_lists_every_page_with_recorded_checksums(self, alice_client, tenants, bucket, settings):
        settings.UPLOAD_MIN_PART_SIZE = 1024
        data = os.urandom(1024 * 1100 + 7)
        up = create(alice_client, tenants.project_a, data).json()
        assert up["part_count"] == 1101
        creds = credentials_of(post_json(alice_client, f"/api/uploads/{up['id']}/credentials").json())
        send_parts(creds, up, data)
        progress(alice_client, up, len(data), [{"number": 1101, "checksum_crc64nvme": crc64nvme_b64(b"z")}])
        body = alice_client.get(f"/api/uploads/{up['id']}/parts").json()
        assert [p["number"] for p in body["parts"]] == list(range(1, 1102))
        assert body["parts"][-1]["recorded_checksum_crc64nvme"] == crc64nvme_b64(b"z")
        assert body["parts"][0]["recorded_checksum_crc64nvme"] is None
        assert (body["part_size"], body["part_count"]) == (1024, 1101)

    def test_another_tenant_gets_404(self, client, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 5000).json()
        client.force_login(tenants.bob)
        assert client.get(f"/api/uploads/{up['id']}/parts").status_code == 404


class TestAbort:
    def test_it_aborts_in_s3_and_audits(self, alice_client, tenants, bucket):
        from uploads import s3

        data = os.urandom(5000)
        up = create(alice_client, tenants.project_a, data).json()
        creds = credentials_of(post_json(alice_client, f"/api/uploads/{up['id']}/credentials").json())
        send_parts(creds, up, data)
        resp = post_json(alice_client, f"/api/uploads/{up['id']}/abort")
        assert resp.json() == {"id": up["id"], "status": "aborted"}
        assert s3.list_multipart_uploads("acme/") == []
        assert AuditEvent.objects.filter(action="upload.aborted", actor=tenants.alice).count() == 1
        assert post_json(alice_client, f"/api/uploads/{up['id']}/abort").status_code == 200
        assert AuditEvent.objects.filter(action="upload.aborted").count() == 1

    def test_a_viewer_cannot_abort(self, client, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 5000).json()
        client.force_login(tenants.victor)
        assert post_json(client, f"/api/uploads/{up['id']}/abort").status_code == 403
        assert Upload.objects.get(pk=up["id"]).status == Upload.Status.CREATED


class TestListUploads:
    def test_it_lists_what_a_resume_needs(self, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 5000, relative_path="").json()
        gone = create(alice_client, tenants.project_a, 10, name="old.dmp").json()
        post_json(alice_client, f"/api/uploads/{gone['id']}/abort")
        url = f"/api/projects/{tenants.project_a.pk}/uploads"
        items = alice_client.get(url + "?state=in_progress").json()["uploads"]
        assert [i["id"] for i in items] == [up["id"]]
        (item,) = items
        assert (item["name"], item["size"], item["last_modified"]) == ("dump.dmp", 5000, 1_700_000_000_000)
        assert item["multipart_upload_id"] == up["multipart_upload_id"]
        assert item["uploaded_by"] == "alice@acme.example" and item["bytes_confirmed"] == 0
        assert len(alice_client.get(url).json()["uploads"]) == 2
        assert alice_client.get(url + "?state=bogus").status_code == 422

    def test_it_narrows_to_one_size_with_what_a_duplicate_check_needs(self, alice_client, tenants, bucket):
        done = upload_fully(alice_client, tenants.project_a, os.urandom(6000), name="a.dmp")
        create(alice_client, tenants.project_a, 7000, name="b.dmp")
        url = f"/api/projects/{tenants.project_a.pk}/uploads"
        items = alice_client.get(url + "?state=all&size=6000").json()["uploads"]
        assert [(i["id"], i["status"]) for i in items] == [(done["id"], "uploaded")]
        assert items[0]["completed_at"]
        assert alice_client.get(url + "?state=in_progress&size=6000").json()["uploads"] == []
        assert alice_client.get(url + "?size=x").status_code == 422

    def test_another_tenant_gets_404(self, client, tenants, bucket):
        client.force_login(tenants.bob)
        assert client.get(f"/api/projects/{tenants.project_a.pk}/uploads").status_code == 404


class TestStalled:
    def test_idle_uploads_become_stalled_and_revive(self, alice_client, tenants, bucket, settings):
        from datetime import timedelta

        from django.utils import timezone

        from uploads import reconciliation

        settings.UPLOAD_STALLED_AFTER_SECONDS = 600
        idle = create(alice_client, tenants.project_a, 5000).json()
        busy = create(alice_client, tenants.project_a, 5000, name="b.dmp").json()
        progress(alice_client, busy, 100)
        Upload.objects.filter(pk=idle["id"]).update(created_at=timezone.now() - timedelta(minutes=11))
        assert reconciliation.mark_stalled() == 1
        assert Upload.objects.get(pk=idle["id"]).status == Upload.Status.STALLED
        assert Upload.objects.get(pk=busy["id"]).status == Upload.Status.UPLOADING
        assert AuditEvent.objects.filter(action="upload.stalled").count() == 1
        assert post_json(alice_client, f"/api/uploads/{idle['id']}/credentials").status_code == 200
        assert Upload.objects.get(pk=idle["id"]).status == Upload.Status.UPLOADING
