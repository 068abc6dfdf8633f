"""Past the deadline plus its grace period, or once closed, a started upload may not go on:
no credentials, no progress, no complete; each refusal is audited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from uploads.models import Upload, UploadProject
from uploads.tests.helpers import create, post_json


@pytest.fixture
def started(alice_client, tenants, bucket):
    return create(alice_client, tenants.project_a, 9000).json()["id"]


def past_deadline(project: UploadProject, grace_hours: int) -> None:
    UploadProject.objects.filter(pk=project.pk).update(
        open_until=timezone.now() - timedelta(seconds=15), grace_period_hours=grace_hours
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("credentials", {}),
        ("progress", {"bytes_done": 0, "parts": []}),
        ("complete", {"checksum_crc64nvme": "AAAAAAAAAAA=", "checksum_sha256": "0" * 64}),
    ],
)
def test_past_the_deadline_with_no_grace_nothing_goes_on(alice_client, tenants, started, path, body):
    past_deadline(tenants.project_a, 0)
    response = post_json(alice_client, f"/api/uploads/{started}/{path}", body)
    assert response.status_code == 409 and response.json()["code"] == "project_closed"
    assert AuditEvent.objects.filter(action="upload.refused", data__reason="project_closed").exists()
    assert Upload.objects.get(pk=started).status == Upload.Status.CREATED


def test_within_the_grace_period_a_started_upload_gets_credentials(alice_client, tenants, started):
    past_deadline(tenants.project_a, 24)
    assert post_json(alice_client, f"/api/uploads/{started}/credentials", {}).status_code == 200
    # ...but no new upload starts.
    assert create(alice_client, tenants.project_a, 10).json()["code"] == "project_closed"


def test_a_stalled_upload_in_a_closed_project_stays_stalled(alice_client, tenants, started):
    Upload.objects.filter(pk=started).update(status=Upload.Status.STALLED)
    UploadProject.objects.filter(pk=tenants.project_a.pk).update(status=UploadProject.Status.CLOSED)
    response = post_json(alice_client, f"/api/uploads/{started}/progress", {"bytes_done": 10, "parts": []})
    assert response.status_code == 409
    assert Upload.objects.get(pk=started).status == Upload.Status.STALLED
