import os
import urllib.request
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from uploads import lifecycle, notifications, reconciliation, s3, verification
from uploads.models import NotificationItem, Upload, UploadProject
from uploads.tests import helpers
from uploads.tests.bgutils import make_upload
from uploads.tests.helpers import (
    client_with,
    complete,
    create,
    credentials_of,
    post_json,
    send_parts,
    sha256_hex,
)

DATA = os.urandom(24 * 1024)


@pytest.fixture(autouse=True)
def eager(settings):
    settings.NOTIFY_BATCH_QUIET_SECONDS = 0
    from portal.celery_app import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def deliver_due():
    return [notifications.deliver(n) for n in notifications.due_ids()]


def start(client, project, data=DATA, name="dump.dmp"):
    return helpers.start(client, project, data, name=name)


class TestStalled:
    def test_a_stalled_upload_is_flagged_once(self, tenants, settings):
        settings.UPLOAD_STALLED_AFTER_SECONDS = 600
        quiet = make_upload(
            tenants.project_a,
            user=tenants.alice,
            name="quiet.dmp",
            status=Upload.Status.UPLOADING,
            last_progress_at=timezone.now() - timedelta(minutes=11),
        )
        busy = make_upload(
            tenants.project_a,
            user=tenants.alice,
            name="busy.dmp",
            status=Upload.Status.UPLOADING,
            last_progress_at=timezone.now() - timedelta(minutes=2),
        )
        assert reconciliation.mark_stalled() == 1
        deliver_due()
        assert reconciliation.mark_stalled() == 0
        deliver_due()
        quiet.refresh_from_db()
        busy.refresh_from_db()
        assert quiet.status == Upload.Status.STALLED and busy.status == Upload.Status.UPLOADING
        (message,) = mail.outbox
        assert "1 upload stalled" in message.subject and "quiet.dmp" in message.body
        assert AuditEvent.objects.filter(action="upload.stalled").count() == 1
        # It resumes and stalls again: staff were already told about this upload.
        Upload.objects.filter(pk=quiet.pk).update(
            status=Upload.Status.UPLOADING, last_progress_at=timezone.now() - timedelta(hours=1)
        )
        reconciliation.mark_stalled()
        deliver_due()
        assert len(mail.outbox) == 1

    def test_cli_uploads_are_not_stalled(self, tenants, settings):
        settings.UPLOAD_STALLED_AFTER_SECONDS = 600
        make_upload(
            tenants.project_a, user=tenants.alice, status=Upload.Status.CREATED, source=Upload.Source.CLI
        )
        Upload.objects.update(created_at=timezone.now() - timedelta(hours=1))
        assert reconciliation.mark_stalled() == 0


class TestAbandoned:
    def test_an_abandoned_multipart_upload_is_aborted(self, alice_client, tenants, bucket):
        up, creds = start(alice_client, tenants.project_a)
        send_parts(creds, up, DATA, numbers=[1])
        assert len(s3.list_multipart_uploads(tenants.project_a.key_prefix)) == 1
        Upload.objects.filter(pk=up["id"]).update(created_at=timezone.now() - timedelta(days=8))
        assert reconciliation.abort_abandoned() == 1
        upload = Upload.objects.get(pk=up["id"])
        assert upload.status == Upload.Status.ABORTED
        assert "168 hours" in upload.status_reason
        assert s3.list_multipart_uploads(tenants.project_a.key_prefix) == []
        event = AuditEvent.objects.get(action="upload.aborted_abandoned")
        assert event.data["s3_multipart_aborted"] is True
        assert reconciliation.abort_abandoned() == 0

    def test_uploads_may_finish_within_the_grace_period(self, alice_client, tenants, bucket):
        up, _ = start(alice_client, tenants.project_a)
        tenants.project_a.grace_period_hours = 24
        tenants.project_a.open_until = timezone.now() - timedelta(hours=2)
        tenants.project_a.save()
        assert reconciliation.abort_abandoned() == 0
        assert reconciliation.abort_abandoned(now=timezone.now() + timedelta(hours=23)) == 1
        assert Upload.objects.get(pk=up["id"]).status == Upload.Status.ABORTED

    def test_a_multipart_upload_no_row_knows_is_aborted(self, alice_client, tenants, bucket):
        up, _ = start(alice_client, tenants.project_a)
        key = f"{tenants.project_a.key_prefix}stray/object.bin"
        s3.create_multipart_upload(key)
        # (moto reports every multipart upload as initiated in 2010, so the age check
        # passes here; on S3 uploads younger than a day are left alone.)
        assert reconciliation.abort_orphan_multipart_uploads() == 1
        remaining = s3.list_multipart_uploads(tenants.project_a.key_prefix)
        assert [m.key for m in remaining] == [up["key"]]
        assert AuditEvent.objects.get(action="storage.orphan_multipart_aborted").data["key"] == key


class TestCliPickup:
    def test_a_cli_uploaded_object_is_picked_up_and_verified(self, alice_client, tenants, bucket):
        resp = post_json(
            alice_client,
            f"/api/projects/{tenants.project_a.pk}/cli-credentials",
            {"name": "export.dmp", "size": len(DATA), "declared_sha256": sha256_hex(DATA)},
        )
        assert resp.status_code == 201, resp.content
        body = resp.json()
        upload_id = body["upload"]["id"]
        assert reconciliation.pick_up_cli_uploads() == 0  # nothing arrived yet
        # What `aws s3 cp` does with the vended credentials.
        client_with(credentials_of(body["credentials"])).put_object(
            Bucket=s3.bucket(), Key=body["upload"]["key"], Body=DATA
        )
        assert reconciliation.pick_up_cli_uploads() == 1
        upload = Upload.objects.get(pk=upload_id)
        assert upload.status == Upload.Status.UPLOADED and upload.version_id
        assert AuditEvent.objects.filter(action="upload.received_cli").count() == 1
        assert verification.pending_upload_ids() == [upload_id]
        assert verification.verify(upload_id) == "verified"
        assert Upload.objects.get(pk=upload_id).verification.method == "deep"
        assert reconciliation.pick_up_cli_uploads() == 0


class TestTampering:
    def test_a_put_over_a_verified_upload_is_flagged_and_downloads_stay_original(
        self, alice_client, tenants, bucket
    ):
        up, creds = start(alice_client, tenants.project_a)
        send_parts(creds, up, DATA)
        done = complete(alice_client, up, DATA)
        assert done.status_code == 200, done.content
        assert verification.verify(up["id"]) == "verified"
        deliver_due()
        mail.outbox.clear()
        # The customer's credentials are still valid: overwrite the key.
        client_with(creds).put_object(Bucket=s3.bucket(), Key=up["key"], Body=b"something else")
        assert reconciliation.detect_tampering() == 1
        assert reconciliation.detect_tampering() == 0
        deliver_due()
        (message,) = [m for m in mail.outbox if "WARNING" in m.subject]
        assert "dump.dmp" in message.body and "different version" in message.body
        event = AuditEvent.objects.get(action="upload.tampering_detected")
        upload = Upload.objects.get(pk=up["id"])
        assert event.data["recorded_version"] == upload.version_id
        # The recorded version still counts, and is what staff download.
        assert upload.status == Upload.Status.VERIFIED
        url = lifecycle.staff_download_url(tenants.consultant, upload)
        assert urllib.request.urlopen(url).read() == DATA

    def test_the_final_check_after_credentials_expire_reports_only_what_is_new(
        self, alice_client, tenants, bucket
    ):
        up, creds = start(alice_client, tenants.project_a)
        send_parts(creds, up, DATA)
        complete(alice_client, up, DATA)
        client_with(creds).put_object(Bucket=s3.bucket(), Key=up["key"], Body=b"first")
        assert reconciliation.detect_tampering() == 1
        # The credentials expire; the storage layer's final check runs once.
        Upload.objects.filter(pk=up["id"]).update(credentials_expire_at=timezone.now() - timedelta(minutes=1))
        assert reconciliation.detect_tampering() == 0  # already reported, not mailed twice
        assert Upload.objects.get(pk=up["id"]).foreign_checked_at is not None
        assert reconciliation.detect_tampering() == 0
        deliver_due()
        assert len([m for m in mail.outbox if "WARNING" in m.subject]) == 1

    def test_a_write_first_seen_by_the_final_check_is_reported(self, alice_client, tenants, bucket):
        up, creds = start(alice_client, tenants.project_a)
        post_json(alice_client, f"/api/uploads/{up['id']}/abort")
        client_with(creds).put_object(Bucket=s3.bucket(), Key=up["key"], Body=b"late")
        Upload.objects.filter(pk=up["id"]).update(credentials_expire_at=timezone.now() - timedelta(minutes=1))
        assert reconciliation.detect_tampering() == 1
        deliver_due()
        (message,) = [m for m in mail.outbox if "WARNING" in m.subject]
        assert "written outside the portal" in message.body

    def test_an_object_on_an_aborted_uploads_key_is_flagged(self, alice_client, tenants, bucket):
        up, creds = start(alice_client, tenants.project_a)
        post_json(alice_client, f"/api/uploads/{up['id']}/abort")
        client_with(creds).put_object(Bucket=s3.bucket(), Key=up["key"], Body=b"late")
        assert reconciliation.detect_tampering() == 1
        assert NotificationItem.objects.get(event="tampering").upload_id == Upload.objects.get(pk=up["id"]).pk


class TestDeadlines:
    def test_projects_close_after_deadline_and_grace_period(self, tenants):
        tenants.project_a.open_until = timezone.now() - timedelta(hours=1)
        tenants.project_a.grace_period_hours = 2
        tenants.project_a.save()
        tenants.project_b.open_until = timezone.now() + timedelta(days=1)
        tenants.project_b.save()
        # Past the deadline: no new uploads, but running ones may still finish.
        assert not tenants.project_a.is_accepting_uploads()
        assert reconciliation.close_projects_past_deadline() == 0
        assert (
            reconciliation.close_projects_past_deadline(now=timezone.now() + timedelta(hours=1, minutes=1))
            == 1
        )
        assert UploadProject.objects.get(pk=tenants.project_a.pk).status == UploadProject.Status.CLOSED
        assert UploadProject.objects.get(pk=tenants.project_b.pk).status == UploadProject.Status.OPEN
        assert AuditEvent.objects.filter(action="project.closed_by_deadline").count() == 1

    def test_an_upload_started_before_the_deadline_completes_in_the_grace_period(
        self, alice_client, tenants, bucket
    ):
        up, creds = start(alice_client, tenants.project_a)
        UploadProject.objects.filter(pk=tenants.project_a.pk).update(
            open_until=timezone.now() - timedelta(minutes=5), grace_period_hours=1
        )
        reconciliation.run()
        assert create(alice_client, tenants.project_a, DATA, name="late.dmp").status_code == 409
        send_parts(creds, up, DATA)
        done = complete(alice_client, up, DATA)
        assert done.status_code == 200, done.content

    def test_a_full_pass_reports_every_step(self, tenants, bucket):
        counts = reconciliation.run()
        assert set(counts) >= {"stalled", "aborted", "cli_picked_up", "tampering", "projects_closed"}
        assert all(v >= 0 for v in counts.values()), counts
