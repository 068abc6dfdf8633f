"""Storage losing a file behind the portal's back is found, said plainly and told once:
a version deleted in the console, a write over the key after the credentials expired, and
the local S3 restarting empty under a database that still says "Verified"."""

import os
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from conftest import MotoServer, with_mfa
from uploads import integrity, notifications, reconciliation, s3
from uploads.bucket import setup_storage
from uploads.models import Upload
from uploads.tests.helpers import upload_fully


def warnings() -> list:
    for n in notifications.due_ids():
        notifications.deliver(n)
    return [m for m in mail.outbox if "WARNING" in m.subject]


def received(alice_client, project) -> Upload:
    done = upload_fully(alice_client, project, os.urandom(5000))
    upload = Upload.objects.get(pk=done["id"])
    # The customer's credentials have expired: only someone with bucket access can write now.
    Upload.objects.filter(pk=upload.pk).update(credentials_expire_at=timezone.now() - timedelta(minutes=1))
    mail.outbox.clear()
    return upload


class TestMissingVersion:
    def test_a_deleted_version_is_flagged_audited_and_told_once(self, alice_client, tenants, bucket):
        upload = received(alice_client, tenants.project_a)
        s3.delete_object_version(upload.object_key, upload.version_id)
        assert integrity.sweep() == 1
        upload.refresh_from_db()
        assert upload.missing_since is not None and upload.customer_status == "Missing from storage"
        assert upload.status in Upload.RECEIVED  # what was checked then stays on record
        event = AuditEvent.objects.get(action="upload.object_missing")
        assert event.data["version_id"] == upload.version_id
        # Later sweeps and reconciliation passes say nothing new.
        Upload.objects.filter(pk=upload.pk).update(integrity_checked_at=None)
        assert integrity.sweep() == 0
        reconciliation.run()
        (message,) = warnings()
        assert "missing from storage" in message.body and upload.original_name in message.body
        assert AuditEvent.objects.filter(action="upload.object_missing").count() == 1

    def test_the_project_page_says_it_is_missing(self, alice_client, tenants, bucket):
        upload = received(alice_client, tenants.project_a)
        s3.delete_object_version(upload.object_key, upload.version_id)
        integrity.sweep()
        page = alice_client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        assert '<span class="badge status-missing">Missing from storage</span>' in page

    def test_the_download_says_so_in_the_portals_words(self, client, alice_client, tenants, bucket):
        upload = received(alice_client, tenants.project_a)
        s3.delete_object_version(upload.object_key, upload.version_id)
        client.force_login(with_mfa(tenants.consultant))
        # No sweep has run yet: the download itself finds out.
        response = client.get(f"/admin/uploads/upload/{upload.pk}/download/", follow=True)
        page = response.content.decode()
        assert "cannot be downloaded" in page and "no longer has this file" in page
        assert "<Error>" not in page and "X-Amz-Signature" not in page
        assert not AuditEvent.objects.filter(action="upload.download_link_issued").exists()
        assert AuditEvent.objects.filter(action="upload.object_missing").count() == 1
        assert len(warnings()) == 1

    def test_an_untouched_file_is_left_alone(self, alice_client, tenants, bucket):
        upload = received(alice_client, tenants.project_a)
        assert integrity.sweep() == 0
        upload.refresh_from_db()
        assert upload.integrity_checked_at and upload.missing_since is None
        assert integrity.sweep() == 0  # not due again for INTEGRITY_SWEEP_HOURS
        assert warnings() == []


class TestWrittenBehindThePortal:
    def test_a_console_overwrite_after_the_credentials_expired_is_found(self, alice_client, tenants, bucket):
        upload = received(alice_client, tenants.project_a)
        assert reconciliation.detect_tampering() == 0  # the final check: nothing yet
        s3.put_object(upload.object_key, b"replaced in the console")
        assert integrity.sweep() == 0  # the recorded version is still there...
        event = AuditEvent.objects.get(action="upload.tampering_detected")  # ...but flagged
        assert event.data["recorded_version"] == upload.version_id
        (message,) = warnings()
        assert "different version" in message.body
        Upload.objects.filter(pk=upload.pk).update(integrity_checked_at=None)
        integrity.sweep()
        assert warnings() == [message]


@pytest.fixture
def restartable_moto(settings, small_parts):
    server = MotoServer({"S3_UPLOAD_PART_MIN_SIZE": "1024"})
    settings.AWS_ENDPOINT_URL = settings.AWS_PUBLIC_ENDPOINT_URL = server.url
    servers = [server]

    def restart():
        servers[-1].stop()
        servers.append(MotoServer({"S3_UPLOAD_PART_MIN_SIZE": "1024"}, port=server.port))

    yield restart
    servers[-1].stop()


def test_a_restarted_local_s3_is_noticed_at_once(client, alice_client, tenants, restartable_moto):
    setup_storage()
    upload = received(alice_client, tenants.project_a)
    restartable_moto()
    # What `make run` does at every start: the empty bucket is made again, and noticed.
    changes = setup_storage()
    assert any("1 received file(s) missing" in change for change in changes)
    upload.refresh_from_db()
    assert upload.missing_since is not None
    assert len(warnings()) == 1
    client.force_login(with_mfa(tenants.consultant))
    response = client.get(f"/admin/uploads/upload/{upload.pk}/download/", follow=True)
    assert "cannot be downloaded" in response.content.decode()
    assert len(warnings()) == 1  # told once
