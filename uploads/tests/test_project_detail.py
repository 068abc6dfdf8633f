import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from uploads.models import Upload, UploadProject


def make_upload(project, user, name, status, size=1000):
    return Upload.objects.create(
        project=project,
        uploaded_by=user,
        original_name=name,
        object_key=f"{project.key_prefix}{uuid.uuid4()}/{name}",
        size=size,
        part_size=size,
        part_count=1,
        status=status,
        bytes_confirmed=size // 2,
    )


@pytest.mark.django_db
class TestProjectDetail:
    def test_it_shows_instructions_deadline_and_quota(self, client, tenants):
        project = tenants.project_a
        project.instructions = "Use expdp with FULL=Y"
        project.open_until = timezone.now() + timedelta(days=3)
        project.quota_bytes = 10 * 1024**3
        project.save()
        make_upload(project, tenants.alice, "done.dmp", Upload.Status.VERIFIED, size=1024**3)
        client.force_login(tenants.alice)
        html = client.get(f"/projects/{project.pk}/").content.decode()
        assert "Use expdp with FULL=Y" in html
        assert "1.0 GiB of 10.0 GiB" in html
        assert project.open_until.strftime("%Y") in html

    def test_it_splits_in_progress_and_completed(self, client, tenants):
        make_upload(tenants.project_a, tenants.alice, "running.dmp", Upload.Status.UPLOADING)
        make_upload(tenants.project_a, tenants.alice, "finished.dmp", Upload.Status.VERIFIED)
        client.force_login(tenants.victor)
        html = client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        progress, completed = html.split('id="completed-h"')
        assert "running.dmp" in progress and "finished.dmp" not in progress
        assert "finished.dmp" in completed and "running.dmp" not in completed

    def test_aborted_uploads_do_not_count_against_quota(self, client, tenants):
        make_upload(tenants.project_a, tenants.alice, "gone.dmp", Upload.Status.ABORTED, 5 * 1024**3)
        client.force_login(tenants.alice)
        html = client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        assert "0 B of" in html

    def test_it_escapes_file_names(self, client, tenants):
        make_upload(tenants.project_a, tenants.alice, "<script>alert(1)</script>.dmp", "verified")
        client.force_login(tenants.alice)
        html = client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;.dmp" in html

    def test_unknown_project_is_404(self, client, tenants):
        client.force_login(tenants.alice)
        assert client.get("/projects/999999/").status_code == 404

    def test_it_shows_the_viewer_role(self, client, tenants):
        client.force_login(tenants.victor)
        html = client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        assert "Viewer" in html

    def test_project_past_deadline_is_closed(self, client, tenants):
        UploadProject.objects.filter(pk=tenants.project_a.pk).update(
            open_until=timezone.now() - timedelta(minutes=1)
        )
        client.force_login(tenants.alice)
        html = client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        assert "Open for uploads" not in html and "Closed" in html
