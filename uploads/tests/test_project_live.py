"""The project page's live sections: the same templates as the page, for its members only."""

import pytest

import audit
from uploads.models import Upload
from uploads.tests.bgutils import make_upload


@pytest.mark.django_db
class TestProjectLive:
    def test_it_draws_the_sections_the_page_has_and_says_each_uploads_state(self, client, tenants):
        up = make_upload(
            tenants.project_a, user=tenants.alice, name="done.dmp", status=Upload.Status.VERIFYING, size=2048
        )
        client.force_login(tenants.victor)
        response = client.get(f"/projects/{tenants.project_a.pk}/live")
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        data = response.json()
        assert set(data["sections"]) == {"space", "in_progress", "completed", "activity"}
        assert "2.0 KiB of 1.0 TiB" in data["sections"]["space"]
        assert "done.dmp" in data["sections"]["completed"] and "Verifying" in data["sections"]["completed"]
        assert data["uploads"][str(up.pk)] == {
            "status": "verifying",
            "label": "Verifying",
            "reason": "",
            "sha256": "",
        }
        assert data["unsettled"] is True
        page = client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        assert data["sections"]["completed"].strip() in page

    def test_another_tenants_project_is_404(self, client, tenants):
        client.force_login(tenants.bob)
        assert client.get(f"/projects/{tenants.project_a.pk}/live").status_code == 404

    def test_signed_out_is_sent_to_sign_in(self, client, tenants):
        response = client.get(f"/projects/{tenants.project_a.pk}/live")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_it_refuses_writes(self, client, tenants):
        client.force_login(tenants.alice)
        assert client.post(f"/projects/{tenants.project_a.pk}/live").status_code == 405

    def test_activity_is_paged(self, client, tenants):
        for i in range(25):
            audit.record(
                "upload.created", actor=tenants.alice, target=tenants.project_a, name=f"f{i:02}.dmp", size=1
            )
        client.force_login(tenants.alice)
        first = client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        assert first.count('data-action="upload.created"') == 20
        assert "f24.dmp" in first and "f04.dmp" not in first and "?activity=2" in first
        second = client.get(f"/projects/{tenants.project_a.pk}/?activity=2").content.decode()
        assert second.count('data-action="upload.created"') == 5 and "f00.dmp" in second
        assert "?activity=1" in second
        live = client.get(f"/projects/{tenants.project_a.pk}/live?activity=2").json()
        assert "f00.dmp" in live["sections"]["activity"]
        assert client.get(f"/projects/{tenants.project_a.pk}/?activity=x%00").status_code == 200

    def test_details_say_no_deadline_and_the_real_largest_file(self, client, tenants):
        tenants.project_a.quota_bytes = 1024**4
        tenants.project_a.max_file_size = 5 * 1024**4
        tenants.project_a.save()
        client.force_login(tenants.alice)
        page = client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        assert "No deadline" in page and "None" not in page
        assert "<dt>Largest file</dt><dd>1.0 TiB</dd>" in page

    def test_folder_paths_break_at_separators(self, client, tenants):
        make_upload(
            tenants.project_a,
            user=tenants.alice,
            name="x.dmp",
            status="verified",
            relative_path="exports/2026/x.dmp",
        )
        client.force_login(tenants.alice)
        page = client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        assert "exports/<wbr>2026/<wbr>x.dmp" in page

    def test_in_progress_rows_say_what_storage_holds(self, client, tenants, bucket):
        from uploads import s3

        up = make_upload(
            tenants.project_a,
            user=tenants.alice,
            name="big.dmp",
            status=Upload.Status.UPLOADING,
            size=3 * 5 * 1024**2,
            bytes_confirmed=1024,
        )
        up.multipart_upload_id = s3.create_multipart_upload(up.object_key)
        up.save()
        s3.client().upload_part(
            Bucket=bucket,
            Key=up.object_key,
            UploadId=up.multipart_upload_id,
            PartNumber=1,
            Body=b"x" * 5 * 1024**2,
        )
        client.force_login(tenants.alice)
        section = client.get(f"/projects/{tenants.project_a.pk}/live").json()["sections"]["in_progress"]
        assert "33% · 5.0 MiB in storage" in section
        assert "pick the same file again" in section
