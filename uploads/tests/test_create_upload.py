from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from uploads import s3, selectors
from uploads.lifecycle import create as lifecycle_create
from uploads.lifecycle import rules
from uploads.models import Upload
from uploads.tests.helpers import create, post_json


def nothing_created(bucket: str) -> bool:
    return not Upload.objects.exists() and not s3.list_multipart_uploads("")


class TestCreateUpload:
    def test_it_plans_parts_and_starts_the_multipart_upload(self, alice_client, tenants, bucket):
        resp = create(alice_client, tenants.project_a, 9000, name="Prüfung (1).dmp", relative_path="")
        assert resp.status_code == 201, resp.content
        up = resp.json()
        assert up["name"] == "Prüfung (1).dmp"
        assert up["key"] == f"acme/oracle/{up['id']}/Prufung_1.dmp"
        assert (up["part_size"], up["part_count"]) == (4096, 3)
        assert up["bucket"] == bucket and up["region"] == "us-east-1" and up["endpoint"]
        assert up["last_modified"] == 1_700_000_000_000
        (mpu,) = s3.list_multipart_uploads("acme/oracle/")
        assert mpu == s3.MultipartUpload(
            key=up["key"],
            upload_id=up["multipart_upload_id"],
            initiated=mpu.initiated,
        )
        event = AuditEvent.objects.get(action="upload.created")
        assert event.actor == tenants.alice and event.data["size"] == 9000

    @pytest.mark.parametrize(
        ("name", "tail"),
        [
            ("Ünïcødé.dmp", "Unicode.dmp"),
            ("Straße Øre.csv", "Strasse_Ore.csv"),
            ("Łódź æble.log", "Lodz_aeble.log"),
        ],
    )
    def test_keys_transliterate_letters_rather_than_drop_them(
        self, alice_client, tenants, bucket, name, tail
    ):
        up = create(alice_client, tenants.project_a, 10, name=name).json()
        assert up["key"].endswith(f"/{tail}")
        assert up["name"] == name

    def test_database_dumps_are_stored_as_plain_bytes_whatever_the_browser_guessed(
        self, alice_client, tenants, bucket
    ):
        up = post_json(
            alice_client,
            f"/api/projects/{tenants.project_a.pk}/uploads",
            {"name": "exp_01.DMP", "size": 0, "content_type": "application/vnd.tcpdump.pcap"},
        ).json()
        assert s3.head_object(up["key"]).content_type == "application/octet-stream"

    def test_folder_paths_keep_their_structure_in_the_key(self, alice_client, tenants, bucket):
        up = create(
            alice_client, tenants.project_a, 10, name="x.dmp", relative_path="exports/2024 Q1/x.dmp"
        ).json()
        assert up["key"].endswith("/exports/2024_Q1/x.dmp")
        assert up["relative_path"] == "exports/2024 Q1/x.dmp"

    def test_it_rejects_a_viewer(self, client, tenants, bucket):
        client.force_login(tenants.victor)
        resp = create(client, tenants.project_a, 100)
        assert resp.status_code == 403 and resp.json()["code"] == "not_allowed"
        assert nothing_created(bucket)
        assert AuditEvent.objects.filter(action="upload.refused", data__reason="not_allowed").exists()

    def test_it_answers_404_for_another_tenants_project(self, alice_client, tenants, bucket):
        resp = create(alice_client, tenants.project_b, 100)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
        assert nothing_created(bucket)

    def test_it_requires_sign_in(self, client, tenants, bucket):
        resp = create(client, tenants.project_a, 100)
        assert resp.status_code == 401 and resp.json()["code"] == "not_authenticated"

    def test_it_requires_the_csrf_token(self, tenants, bucket):
        client = Client(enforce_csrf_checks=True)
        client.force_login(tenants.alice)
        resp = create(client, tenants.project_a, 100)
        assert resp.status_code == 403 and resp.json()["code"] == "csrf_failed"
        client.get(f"/projects/{tenants.project_a.pk}/")
        token = client.cookies["csrftoken"].value
        resp = client.post(
            f"/api/projects/{tenants.project_a.pk}/uploads",
            data='{"name": "a.dmp", "size": 10}',
            content_type="application/json",
            headers={"X-CSRFToken": token},
        )
        assert resp.status_code == 201, resp.content

    def test_it_rejects_a_closed_project(self, alice_client, tenants, bucket):
        tenants.project_a.status = "closed"
        tenants.project_a.save()
        resp = create(alice_client, tenants.project_a, 100)
        assert resp.status_code == 409 and resp.json()["code"] == "project_closed"
        assert nothing_created(bucket)

    def test_it_rejects_a_project_past_its_deadline(self, alice_client, tenants, bucket):
        tenants.project_a.open_until = timezone.now() - timedelta(minutes=1)
        tenants.project_a.save()
        resp = create(alice_client, tenants.project_a, 100)
        assert resp.status_code == 409 and resp.json()["code"] == "project_closed"

    @pytest.mark.parametrize("size", [-1])
    def test_it_rejects_negative_or_non_number_sizes(self, alice_client, tenants, bucket, size):
        resp = create(alice_client, tenants.project_a, size)
        assert resp.status_code == 400 and resp.json()["code"] == "invalid_size"
        assert nothing_created(bucket)

    def test_a_zero_byte_file_is_stored_by_the_portal_and_completed(self, alice_client, tenants, bucket):
        resp = create(alice_client, tenants.project_a, 0, name="empty.log")
        assert resp.status_code == 201, resp.content
        up = resp.json()
        assert up["status"] == "uploaded" and up["part_count"] == 0 and up["multipart_upload_id"] == ""
        head = s3.head_object(up["key"])
        assert head.size == 0
        upload = Upload.objects.get(pk=up["id"])
        assert (
            upload.checksum_crc64nvme == "AAAAAAAAAAA="
            and upload.checksum_sha256 == lifecycle_create.EMPTY_SHA256
        )
        assert upload.version_id == head.version_id
        assert list(
            AuditEvent.objects.filter(target_id=up["id"]).values_list("action", flat=True).order_by("id")
        ) == [
            "upload.created",
            "upload.completed",
        ]
        assert not s3.list_multipart_uploads("")

    def test_it_rejects_a_non_integer_size(self, alice_client, tenants, bucket):
        resp = post_json(
            alice_client, f"/api/projects/{tenants.project_a.pk}/uploads", {"name": "a", "size": "x"}
        )
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_request"
        assert "size" in resp.json()["message"]

    def test_it_rejects_files_above_s3s_limit(self, alice_client, tenants, bucket):
        tenants.project_a.max_file_size = 10 * 1024**4
        tenants.project_a.quota_bytes = 10 * 1024**4
        tenants.project_a.save()
        resp = create(alice_client, tenants.project_a, 5 * 1024**4 + 1)
        assert resp.status_code == 400 and resp.json()["code"] == "file_too_large"

    def test_it_rejects_files_above_the_projects_limit(self, alice_client, tenants, bucket):
        tenants.project_a.max_file_size = 1000
        tenants.project_a.save()
        resp = create(alice_client, tenants.project_a, 1001)
        assert resp.status_code == 409 and resp.json()["code"] == "file_too_large"
        assert create(alice_client, tenants.project_a, 1000).status_code == 201

    def test_it_counts_uploads_in_progress_against_the_quota(self, alice_client, tenants, bucket):
        tenants.project_a.quota_bytes = 10_000
        tenants.project_a.save()
        assert create(alice_client, tenants.project_a, 6000).status_code == 201
        resp = create(alice_client, tenants.project_a, 4001)
        assert resp.status_code == 409 and resp.json()["code"] == "quota_exceeded"
        assert "4,000 bytes are free" in resp.json()["message"]
        assert Upload.objects.count() == 1
        assert create(alice_client, tenants.project_a, 4000).status_code == 201

    def test_aborted_uploads_free_their_quota(self, alice_client, tenants, bucket):
        tenants.project_a.quota_bytes = 10_000
        tenants.project_a.save()
        up = create(alice_client, tenants.project_a, 10_000).json()
        assert post_json(alice_client, f"/api/uploads/{up['id']}/abort").status_code == 200
        assert create(alice_client, tenants.project_a, 10_000).status_code == 201

    def test_it_enforces_allowed_extensions(self, alice_client, tenants, bucket):
        tenants.project_a.allowed_extensions = "dmp, tar.gz"
        tenants.project_a.save()
        resp = create(alice_client, tenants.project_a, 10, name="notes.exe")
        assert resp.status_code == 400 and resp.json()["code"] == "extension_not_allowed"
        assert "dmp, tar.gz" in resp.json()["message"]
        assert create(alice_client, tenants.project_a, 10, name="BACKUP.TAR.GZ").status_code == 201

    @pytest.mark.parametrize(
        ("name", "relative_path", "code"),
        [
            ("..", "", "invalid_name"),
            (".", "", "invalid_name"),
            ("a/b.dmp", "", "invalid_name"),
            ("b.dmp", "/etc/b.dmp", "invalid_name"),
            ("b.dmp", "dir/../b.dmp", "invalid_name"),
            ("b.dmp", "dir//b.dmp", "invalid_name"),
            ("b.dmp", "other/c.dmp", "invalid_name"),
            ("a\\b.dmp", "", "invalid_name"),
            ("b.dmp", "dir\\x/b.dmp", "invalid_name"),
            ("a\x00b.dmp", "", "invalid_name"),
            ("a\nb.dmp", "", "invalid_name"),
            ("a\u202eb.dmp", "", "invalid_name"),
            ("é" * 128 + ".dmp", "", "name_too_long"),
            ("b.dmp", "d" * 1021 + "/b.dmp", "name_too_long"),
            ("CON", "", "reserved_name"),
            ("nul.txt", "", "reserved_name"),
            ("", "", "invalid_name"),
            (" lead.dmp", "", "invalid_name"),
            ("trail.", "", "invalid_name"),
        ],
    )
    def test_it_rejects_unsafe_names(self, alice_client, tenants, bucket, name, relative_path, code):
        resp = create(alice_client, tenants.project_a, 100, name=name, relative_path=relative_path)
        assert resp.status_code == 400, resp.content
        assert resp.json()["code"] == code and resp.json()["message"]
        assert nothing_created(bucket)

    def test_it_reports_storage_trouble_without_leaving_quota_taken(
        self, alice_client, tenants, bucket, settings
    ):
        settings.UPLOAD_BUCKET = "no-such-bucket"
        resp = create(alice_client, tenants.project_a, 100)
        assert resp.status_code == 503 and resp.json()["code"] == "storage_unavailable"
        assert Upload.objects.get().status == Upload.Status.FAILED
        assert selectors.quota_used(tenants.project_a) == 0

    def test_batch_ids_group_a_folder_drop(self, alice_client, tenants, bucket):
        batch = "0b7e7c8e-63b1-4a55-9f0d-3ab0c0f0a001"
        for name in ("a.dmp", "b.dmp"):
            assert create(alice_client, tenants.project_a, 10, name=name, batch_id=batch).status_code == 201
        assert Upload.objects.filter(batch_id=batch).count() == 2


class TestPartPlanning:
    def test_production_plan_for_a_200_gb_dump(self, settings):
        settings.UPLOAD_MIN_PART_SIZE = 8 * 1024**2
        settings.UPLOAD_PART_SIZE_UNIT = 1024**2
        size = 200 * 10**9
        part_size, count = rules.plan_parts(size)
        assert part_size == 20 * 1024**2 and count == 9537
        assert count <= 10_000 and part_size * count >= size

    def test_small_files_use_the_minimum(self, settings):
        settings.UPLOAD_MIN_PART_SIZE = 8 * 1024**2
        settings.UPLOAD_PART_SIZE_UNIT = 1024**2
        assert rules.plan_parts(1) == (8 * 1024**2, 1)
        assert rules.plan_parts(8 * 1024**2 + 1) == (8 * 1024**2, 2)

    def test_the_largest_object_fits_in_10000_parts(self, settings):
        settings.UPLOAD_MIN_PART_SIZE = 8 * 1024**2
        settings.UPLOAD_PART_SIZE_UNIT = 1024**2
        part_size, count = rules.plan_parts(5 * 1024**4)
        assert count <= 10_000 and part_size <= 5 * 1024**3 and part_size % 1024**2 == 0


class TestSchema:
    def test_the_openapi_schema_is_served(self, client, db):
        schema = client.get("/api/schema/").json()
        assert "/api/projects/{project_id}/uploads" in schema["paths"]
        assert "/api/uploads/{upload_id}/complete" in schema["paths"]
