"""End to end with a real `celery -A portal worker` process, real Redis and moto: what a
customer and a consultant would notice (status, emails), including a worker killed
mid-task and a Redis that lost its queue."""

import os

import pytest

from audit.models import AuditEvent
from uploads import tasks
from uploads.models import Notification, Upload, VerificationResult
from uploads.tests.helpers import (
    complete,
    crc64nvme_b64,
    send_parts,
    start,
)
from uploads.tests.workerutils import wait_until, workers_fixture  # noqa: F401

DATA = os.urandom(20 * 1024)
STAFF = "consultant@example.com"
CUSTOMER = "alice@acme.example"

pytestmark = pytest.mark.usefixtures("small_parts")


def upload_through_api(client, project, data=DATA) -> str:
    up, creds = start(client, project, data)
    send_parts(creds, up, data)
    resp = complete(client, up, data)
    assert resp.status_code == 200, resp.content
    return up["id"]


def status_of(upload_id: str) -> str:
    return Upload.objects.get(pk=upload_id).status


def settled(upload_id: str) -> bool:
    return status_of(upload_id) in (Upload.Status.VERIFIED, Upload.Status.FAILED)


def mails_to(workers, address: str) -> list:
    return [m for m in workers.messages() if address in m["To"]]


def all_sent() -> bool:
    return Notification.objects.exists() and not Notification.objects.exclude(status="sent").exists()


def assert_exactly_once(workers, upload_id: str) -> None:
    assert VerificationResult.objects.filter(upload_id=upload_id).count() == 1
    assert AuditEvent.objects.filter(action="upload.verified", target_id=upload_id).count() == 1
    assert len(mails_to(workers, STAFF)) == 1, workers.logs()
    assert len(mails_to(workers, CUSTOMER)) == 1, workers.logs()


@pytest.fixture
def alice(client, tenants):
    client.force_login(tenants.alice)
    return client


class TestWorker:
    def test_a_completed_upload_is_verified_and_mailed_once(self, workers, alice, tenants):
        workers.start()
        upload_id = upload_through_api(alice, tenants.project_a)
        wait_until(lambda: settled(upload_id), what="verification")
        assert status_of(upload_id) == Upload.Status.VERIFIED
        wait_until(all_sent, what="notifications")
        assert_exactly_once(workers, upload_id)
        (receipt,) = mails_to(workers, CUSTOMER)
        assert "dump.dmp" in receipt.get_payload()[0].get_payload(decode=True).decode()
        # A duplicate message (a re-delivery) changes nothing.
        tasks.verify_upload.delay(upload_id)
        tasks.sweep.delay()
        wait_until(
            lambda: (
                "Task uploads.sweep[" in workers.logs()
                and "succeeded" in workers.logs().split("Task uploads.sweep[")[-1]
            ),
            what="the sweep to run",
        )
        assert_exactly_once(workers, upload_id)

    def test_a_corrupted_object_fails_verification(self, workers, tenants):
        from uploads import s3
        from uploads.tests.bgutils import make_upload

        corrupted = bytearray(DATA)
        corrupted[5000] ^= 0x01
        upload = make_upload(
            tenants.project_a, user=tenants.alice, size=len(DATA), checksum_crc64nvme=crc64nvme_b64(DATA)
        )
        # The bytes S3 holds differ from what the browser hashed (moto accepts the part).
        mpu = s3.create_multipart_upload(upload.object_key)
        part = s3.client().upload_part(
            Bucket=s3.bucket(), Key=upload.object_key, UploadId=mpu, PartNumber=1, Body=bytes(corrupted)
        )
        done = s3.complete_multipart_upload(
            upload.object_key,
            mpu,
            [s3.Part(1, len(corrupted), part["ETag"], None)],
            crc64nvme_b64(bytes(corrupted)),
        )
        Upload.objects.filter(pk=upload.pk).update(version_id=done.version_id)
        workers.start()
        tasks.verify_upload.delay(str(upload.pk))
        wait_until(lambda: settled(str(upload.pk)), what="verification")
        assert status_of(str(upload.pk)) == Upload.Status.FAILED
        wait_until(all_sent, what="notifications")
        (staff,) = mails_to(workers, STAFF)
        assert "1 needs attention" in staff["Subject"]

    @pytest.mark.parametrize("kill_at", ["verify.checked", "notify.claimed"])
    def test_killing_the_worker_mid_task_still_gives_one_of_each(self, workers, alice, tenants, kill_at):
        """verify.checked: S3 was read, nothing committed (status verifying, lease held).
        notify.claimed: verification committed, the first email claimed but not sent."""
        workers.hold(kill_at)
        first = workers.start()
        upload_id = upload_through_api(alice, tenants.project_a)
        wait_until(lambda: workers.reached(kill_at), what=f"the worker to reach {kill_at}")
        first.kill()
        workers.release(kill_at)
        if kill_at == "verify.checked":
            assert status_of(upload_id) == Upload.Status.VERIFYING
            assert not VerificationResult.objects.filter(upload_id=upload_id).exists()
        else:
            assert status_of(upload_id) == Upload.Status.VERIFIED
            assert Notification.objects.filter(status="sending").count() == 1
        workers.start()

        # The killed worker's message is stuck unacknowledged in Redis; the sweep (beat
        # runs it every minute) re-queues from the database once the lease has expired.
        def swept_and_done() -> bool:
            tasks.sweep.delay()
            return settled(upload_id) and all_sent()

        wait_until(swept_and_done, timeout=60, interval=1, what="recovery through the sweep")
        assert status_of(upload_id) == Upload.Status.VERIFIED
        assert_exactly_once(workers, upload_id)

    def test_a_flushed_queue_is_recovered_by_the_sweep(self, workers, alice, tenants, settings):
        import redis

        upload_id = upload_through_api(alice, tenants.project_a)  # queued while no worker runs
        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
        workers.start()
        # The verify message is gone; only the sweep can find the work.
        assert status_of(upload_id) == Upload.Status.UPLOADED
        tasks.sweep.delay()
        wait_until(lambda: settled(upload_id) and all_sent(), what="the sweep to verify the upload")
        assert_exactly_once(workers, upload_id)
