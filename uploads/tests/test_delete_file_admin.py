"""Staff delete one received file on the customer's request, in admin, with a reason: every
version of its key goes, a certificate records it, the customer can download it; the
project's legal hold refuses it; only superusers change a legal hold."""

import os

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from conftest import with_mfa
from uploads import s3
from uploads.models import DeletionCertificate, Upload, UploadProject
from uploads.tests.helpers import upload_fully

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bucket")]


@pytest.fixture
def received(client, tenants):
    client.force_login(tenants.alice)
    done = upload_fully(client, tenants.project_a, os.urandom(6000), name="unwanted.dmp")
    upload = Upload.objects.get(pk=done["id"])
    s3.put_object(upload.object_key, b"a second version")
    client.logout()
    return upload


def delete_url(upload) -> str:
    return reverse("admin:uploads_upload_delete_data", args=[upload.pk])


def test_it_deletes_every_version_and_certifies_it(client, tenants, received):
    client.force_login(with_mfa(tenants.consultant))
    page = client.get(delete_url(received))
    assert page.status_code == 200
    assert "every version" in page.content.decode()
    response = client.post(delete_url(received), {"reason": "Customer asked, ticket 42"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert s3.list_object_versions(received.object_key) == []
    received.refresh_from_db()
    assert received.status == Upload.Status.DELETED
    cert = DeletionCertificate.objects.get()
    assert cert.scope == DeletionCertificate.Scope.FILE
    assert cert.rule == "Customer asked, ticket 42"
    assert len(cert.versions) == 2
    event = AuditEvent.objects.get(action="deletion.completed")
    assert event.actor == tenants.consultant
    assert event.data["digest"] == cert.digest

    # The customer downloads the certificate from the project page.
    client.force_login(tenants.alice)
    project_page = client.get(reverse("project_detail", args=[tenants.project_a.pk])).content.decode()
    url = reverse("deletion_certificate", args=[tenants.project_a.pk, cert.pk])
    assert url in project_page
    doc = client.get(url).json()
    assert doc["digest_sha256"] == cert.digest
    assert {v["version_id"] for v in doc["versions"]} == {v["version_id"] for v in cert.versions}
    assert doc["rule"] == "Customer asked, ticket 42"


def test_another_tenant_cannot_download_the_certificate(client, tenants, received):
    client.force_login(with_mfa(tenants.consultant))
    client.post(delete_url(received), {"reason": "asked"})
    cert = DeletionCertificate.objects.get()
    client.force_login(tenants.bob)
    for project in (tenants.project_a, tenants.project_b):
        assert client.get(reverse("deletion_certificate", args=[project.pk, cert.pk])).status_code == 404


def test_it_needs_a_reason(client, tenants, received):
    client.force_login(with_mfa(tenants.consultant))
    response = client.post(delete_url(received), {"reason": "  "})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert len(s3.list_object_versions(received.object_key)) == 2


def test_a_legal_hold_refuses_it(client, tenants, received):
    UploadProject.objects.filter(pk=tenants.project_a.pk).update(legal_hold=True)
    client.force_login(with_mfa(tenants.consultant))
    response = client.post(delete_url(received), {"reason": "asked"}, follow=True)
    assert "legal hold" in response.content.decode()
    assert len(s3.list_object_versions(received.object_key)) == 2
    assert not DeletionCertificate.objects.exists()


def test_a_consultant_of_another_team_gets_a_404(client, tenants, received):
    client.force_login(with_mfa(tenants.other_consultant))
    assert client.post(delete_url(received), {"reason": "asked"}).status_code == 404
    assert len(s3.list_object_versions(received.object_key)) == 2


def test_only_a_superuser_can_set_a_legal_hold(client, tenants, make_user):
    url = reverse("admin:uploads_uploadproject_change", args=[tenants.project_a.pk])
    client.force_login(with_mfa(tenants.consultant))
    page = client.get(url).content.decode()
    assert 'name="legal_hold"' not in page
    root = make_user("root@example.com", superuser=True)
    client.force_login(with_mfa(root))
    assert 'name="legal_hold"' in client.get(url).content.decode()
