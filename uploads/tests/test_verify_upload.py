import hashlib
import os

import pytest

from audit.models import AuditEvent
from uploads import leases, s3, verification
from uploads.models import Upload, VerificationResult
from uploads.tests.bgutils import make_upload
from uploads.tests.helpers import crc64nvme_b64, sha256_hex, upload_fully


@pytest.fixture(autouse=True)
def no_broker(settings):
    # Verification queues notification deliveries after commit; run them inline here.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from portal.celery_app import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def put_multipart(key: str, parts: list[bytes]) -> str:
    """A completed multipart object made of exactly these parts; returns its version id."""
    mpu = s3.create_multipart_upload(key)
    c = s3.client()
    etags = []
    for n, body in enumerate(parts, start=1):
        r = c.upload_part(
            Bucket=s3.bucket(),
            Key=key,
            UploadId=mpu,
            PartNumber=n,
            Body=body,
            ChecksumCRC64NVME=crc64nvme_b64(body),
        )
        etags.append(s3.Part(n, len(body), r["ETag"], None))
    whole = b"".join(parts)
    return s3.complete_multipart_upload(key, mpu, etags, crc64nvme_b64(whole)).version_id


def received(project, user, data: bytes, *, stored: bytes | None = None, **fields) -> Upload:
    """An upload row as /complete leaves it: the browser's checksums of `data`, while S3
    holds `stored` (default: the same bytes)."""
    upload = make_upload(project, user=user, size=len(data), **fields)
    stored = data if stored is None else stored
    half = len(stored) // 2
    version = put_multipart(upload.object_key, [stored[:half], stored[half:]])
    upload.version_id = version
    if upload.source == Upload.Source.BROWSER:
        upload.checksum_crc64nvme = crc64nvme_b64(data)
        upload.checksum_sha256 = sha256_hex(data)
    upload.save()
    return upload


DATA = os.urandom(64 * 1024)


class TestMetadataPath:
    def test_a_completed_upload_is_verified(self, alice_client, tenants, bucket):
        done = upload_fully(alice_client, tenants.project_a, DATA)
        assert verification.verify(done["id"]) == "verified"
        upload = Upload.objects.get(pk=done["id"])
        assert upload.status == Upload.Status.VERIFIED and upload.verified_at
        result = upload.verification
        assert result.method == "metadata"
        assert result.object_size == len(DATA)
        assert result.object_crc64nvme == crc64nvme_b64(DATA)
        event = AuditEvent.objects.get(action="upload.verified")
        assert event.data["method"] == "metadata" and event.target_id == str(upload.pk)

    def test_a_part_with_changed_bytes_fails(self, tenants, bucket):
        corrupted = bytearray(DATA)
        corrupted[40_000] ^= 0xFF  # one bit flipped in the second part
        upload = received(tenants.project_a, tenants.alice, DATA, stored=bytes(corrupted))
        assert verification.verify(str(upload.pk)) == "failed"
        upload.refresh_from_db()
        assert upload.status == Upload.Status.FAILED
        assert "CRC64NVME" in upload.status_reason and "some bytes changed" in upload.status_reason
        assert AuditEvent.objects.filter(
            action="upload.verification_failed", target_id=str(upload.pk)
        ).exists()

    def test_a_short_object_fails_on_size(self, tenants, bucket):
        upload = received(tenants.project_a, tenants.alice, DATA, stored=DATA[:-10])
        assert verification.verify(str(upload.pk)) == "failed"
        upload.refresh_from_db()
        assert f"{len(DATA) - 10:,} bytes" in upload.status_reason

    def test_a_missing_version_fails(self, tenants, bucket):
        upload = received(tenants.project_a, tenants.alice, DATA)
        s3.delete_object_version(upload.object_key, upload.version_id)
        assert verification.verify(str(upload.pk)) == "failed"
        assert "missing" in Upload.objects.get(pk=upload.pk).status_reason

    def test_running_twice_verifies_once(self, tenants, bucket):
        upload = received(tenants.project_a, tenants.alice, DATA)
        assert verification.verify(str(upload.pk)) == "verified"
        assert verification.verify(str(upload.pk)) == "done"
        assert VerificationResult.objects.count() == 1
        assert AuditEvent.objects.filter(action="upload.verified").count() == 1

    def test_it_leaves_an_upload_another_worker_holds(self, tenants, bucket):
        upload = received(tenants.project_a, tenants.alice, DATA)
        assert leases.acquire(verification.lease_key(upload.pk), "someone-else")
        assert verification.verify(str(upload.pk)) == "busy"
        assert Upload.objects.get(pk=upload.pk).status == Upload.Status.UPLOADED
        assert verification.pending_upload_ids() == []

    def test_it_ignores_uploads_not_yet_received(self, tenants, bucket):
        upload = make_upload(tenants.project_a, user=tenants.alice, status=Upload.Status.UPLOADING)
        assert verification.verify(str(upload.pk)) == "not_ready"
        assert not VerificationResult.objects.exists()


class TestDeepVerification:
    def test_it_compares_the_sha256_of_every_byte(self, tenants, bucket, settings):
        settings.VERIFY_CHUNK_BYTES = 5000  # many ranged GETs, uneven last one
        tenants.project_a.deep_verify = True
        tenants.project_a.save()
        upload = received(tenants.project_a, tenants.alice, DATA, declared_sha256=sha256_hex(DATA))
        assert verification.verify(str(upload.pk)) == "verified"
        result = VerificationResult.objects.get(upload=upload)
        assert result.method == "deep" and result.object_sha256 == hashlib.sha256(DATA).hexdigest()

    def test_a_wrong_declared_sha256_fails(self, tenants, bucket):
        tenants.project_a.deep_verify = True
        tenants.project_a.save()
        upload = received(tenants.project_a, tenants.alice, DATA, declared_sha256="0" * 64)
        assert verification.verify(str(upload.pk)) == "failed"
        assert "the customer declared" in Upload.objects.get(pk=upload.pk).status_reason

    def test_a_project_can_require_deep_verification_for_declared_files_only(self, tenants, bucket):
        tenants.project_a.deep_verify_declared = True
        tenants.project_a.save()
        declared = received(tenants.project_a, tenants.alice, DATA, declared_sha256=sha256_hex(DATA))
        plain = received(tenants.project_a, tenants.alice, DATA)
        assert verification.verify(str(declared.pk)) == "verified"
        assert verification.verify(str(plain.pk)) == "verified"
        assert VerificationResult.objects.get(upload=declared).method == "deep"
        assert VerificationResult.objects.get(upload=plain).method == "metadata"

    def test_a_browser_upload_without_its_sha256_is_read_back_and_hashed_by_the_portal(self, tenants, bucket):
        from uploads import checksums

        upload = received(tenants.project_b, tenants.bob, DATA)
        Upload.objects.filter(pk=upload.pk).update(checksum_sha256="")
        assert verification.verify(str(upload.pk)) == "verified"
        upload = Upload.objects.get(pk=upload.pk)
        assert upload.verification.method == "deep"
        assert upload.verification.object_sha256 == hashlib.sha256(DATA).hexdigest()
        assert checksums.portal_sha256(upload) == hashlib.sha256(DATA).hexdigest()
        assert [str(c) for c in checksums.claims(upload)] == [
            f"CRC64NVME {crc64nvme_b64(DATA)} (checked by storage)",
            f"SHA-256 {hashlib.sha256(DATA).hexdigest()} (recomputed by the portal)",
        ]

    def test_a_changed_byte_fails_it_on_the_crc_before_any_read_back(self, tenants, bucket):
        stored = bytearray(DATA)
        stored[100] ^= 1
        upload = received(tenants.project_b, tenants.bob, DATA, stored=bytes(stored))
        Upload.objects.filter(pk=upload.pk).update(checksum_sha256="")
        assert verification.verify(str(upload.pk)) == "failed"
        upload = Upload.objects.get(pk=upload.pk)
        assert "CRC64NVME" in upload.status_reason and upload.verification.method == "metadata"

    def test_ranged_reads_hash_like_hashlib(self, tenants, bucket):
        upload = received(tenants.project_a, tenants.alice, DATA)
        for chunk, parallel in [(1000, 1), (4096, 3), (len(DATA), 4), (len(DATA) * 2, 2)]:
            got = verification.sha256_of_object(
                upload.object_key, upload.version_id, len(DATA), chunk=chunk, parallel=parallel
            )
            assert got == hashlib.sha256(DATA).hexdigest()


class TestCliUploads:
    def test_a_declared_sha256_verifies_a_cli_object(self, tenants, bucket):
        upload = received(
            tenants.project_a, tenants.alice, DATA, source=Upload.Source.CLI, declared_sha256=sha256_hex(DATA)
        )
        # complete() records S3's own CRC for CLI uploads; it must not count as the customer's.
        upload.checksum_crc64nvme = crc64nvme_b64(DATA)
        upload.save()
        assert verification.verify(str(upload.pk)) == "verified"
        assert VerificationResult.objects.get(upload=upload).method == "deep"

    def test_without_a_checksum_it_is_received_not_verified(self, tenants, bucket):
        upload = received(tenants.project_a, tenants.alice, DATA, source=Upload.Source.CLI)
        upload.checksum_crc64nvme = crc64nvme_b64(DATA)
        upload.save()
        assert verification.verify(str(upload.pk)) == "unverified"
        upload.refresh_from_db()
        assert upload.status == Upload.Status.UPLOADED
        assert upload.status_reason.startswith("Received, not verified")
        assert AuditEvent.objects.filter(action="upload.received_unverified").count() == 1
        # Settled: the sweep does not pick it up again.
        assert verification.pending_upload_ids() == []
