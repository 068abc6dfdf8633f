"""Reconciliation through a real worker process: the periodic task finds what the
database and S3 disagree about, and the staff hear about it once."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from uploads import s3, tasks
from uploads.models import Notification, Upload
from uploads.tests.helpers import client_with, create, credentials_of, post_json, sha256_hex
from uploads.tests.workerutils import wait_until, workers_fixture  # noqa: F401

DATA = os.urandom(12 * 1024)
pytestmark = pytest.mark.usefixtures("small_parts")


@pytest.fixture
def alice(client, tenants):
    client.force_login(tenants.alice)
    return client


def reconcile_until(predicate, what: str):
    def run_and_check():
        tasks.reconcile.delay()
        return predicate()

    return wait_until(run_and_check, timeout=60, interval=1.5, what=what)


def all_sent() -> bool:
    return Notification.objects.exists() and not Notification.objects.exclude(status="sent").exists()


class TestReconcileWorker:
    def test_a_cli_uploaded_object_is_picked_up_verified_and_reported(self, workers, alice, tenants):
        body = post_json(
            alice,
            f"/api/projects/{tenants.project_a.pk}/cli-credentials",
            {"name": "export.dmp", "size": len(DATA), "declared_sha256": sha256_hex(DATA)},
        ).json()
        client_with(credentials_of(body["credentials"])).put_object(
            Bucket=s3.bucket(), Key=body["upload"]["key"], Body=DATA
        )
        workers.start()
        upload_id = body["upload"]["id"]
        reconcile_until(lambda: Upload.objects.get(pk=upload_id).status == "verified", "CLI pick-up")
        wait_until(all_sent, what="notifications")
        staff = [m for m in workers.messages() if "consultant@example.com" in m["To"]]
        assert len(staff) == 1 and "1 of 1 file verified" in staff[0]["Subject"]
        assert AuditEvent.objects.filter(action="upload.received_cli").count() == 1

    def test_a_stalled_upload_is_flagged_once(self, workers, alice, tenants):
        up = create(alice, tenants.project_a, DATA).json()
        Upload.objects.filter(pk=up["id"]).update(
            status=Upload.Status.UPLOADING, last_progress_at=timezone.now() - timedelta(hours=2)
        )
        workers.start()
        reconcile_until(lambda: Upload.objects.get(pk=up["id"]).status == "stalled", "the stall")
        wait_until(all_sent, what="the stalled notice")
        # Later passes find nothing new.
        for _ in range(3):
            tasks.reconcile.delay()
        tasks.sweep.delay()
        wait_until(lambda: workers.logs().count("Task uploads.reconcile[") >= 8, what="more passes")
        stalled = [m for m in workers.messages() if "stalled" in m["Subject"]]
        assert len(stalled) == 1
        assert AuditEvent.objects.filter(action="upload.stalled").count() == 1
