"""Every checksum shown says who established it: a SHA-256 the browser sent is never
presented as checked by the portal, however the upload ended."""

import pytest
from django.core import mail

from uploads import checksums, notifications
from uploads.models import Upload, VerificationResult
from uploads.tests.bgutils import make_upload


@pytest.fixture
def fake_sha_upload(tenants):
    upload = make_upload(
        tenants.project_a,
        user=tenants.alice,
        name="dump.dmp",
        status=Upload.Status.VERIFIED,
        checksum_crc64nvme="rosUhgp5mIg=",
        checksum_sha256="2" * 64,
    )
    VerificationResult.objects.create(
        upload=upload, outcome="verified", method=VerificationResult.Method.METADATA
    )
    return upload


@pytest.mark.django_db
class TestProvenance:
    def test_a_browser_sha256_stays_the_browsers_claim_after_metadata_verification(self, fake_sha_upload):
        assert [str(c) for c in checksums.claims(fake_sha_upload)] == [
            "CRC64NVME rosUhgp5mIg= (checked by storage)",
            f"SHA-256 {'2' * 64} (computed by your browser)",
        ]

    def test_deep_verification_is_the_portals_own_value(self, fake_sha_upload):
        VerificationResult.objects.filter(upload=fake_sha_upload).update(
            method=VerificationResult.Method.DEEP, object_sha256="a" * 64
        )
        fake_sha_upload.refresh_from_db()
        assert str(checksums.claims(fake_sha_upload)[1]) == f"SHA-256 {'a' * 64} (recomputed by the portal)"

    def test_before_verification_nothing_is_claimed_as_checked(self, tenants):
        upload = make_upload(
            tenants.project_a, user=tenants.alice, checksum_crc64nvme="rosUhgp5mIg=", checksum_sha256="b" * 64
        )
        assert {c.who for c in checksums.claims(upload)} == {"computed by your browser"}

    def test_the_page_and_the_receipt_use_the_same_words(self, fake_sha_upload, client, tenants, settings):
        settings.NOTIFY_BATCH_QUIET_SECONDS = 0
        client.force_login(tenants.alice)
        page = client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        assert "(computed by your browser)" in page and "(checked by storage)" in page
        notifications.notify_settled(fake_sha_upload)
        for n in notifications.due_ids():
            notifications.deliver(n)
        receipt = next(m for m in mail.outbox if m.to == ["alice@acme.example"])
        assert f"SHA-256: {'2' * 64} (computed by your browser)" in receipt.body
