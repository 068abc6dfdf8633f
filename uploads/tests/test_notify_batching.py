import uuid

import pytest
from django.core import mail

from audit.models import AuditEvent
from portal.format import human_datetime
from uploads import notifications
from uploads.models import Notification, Upload
from uploads.tests.bgutils import make_upload, settle


@pytest.fixture
def quiet(settings):
    settings.NOTIFY_BATCH_QUIET_SECONDS = 0
    settings.PORTAL_BASE_URL = "https://portal.example"


def deliver_due() -> list[str]:
    return [notifications.deliver(n) for n in notifications.due_ids()]


def staff_mail():
    return [m for m in mail.outbox if "consultant@example.com" in m.to]


def receipts():
    return [m for m in mail.outbox if m.to == ["alice@acme.example"]]


class TestBatching:
    def test_it_sends_one_staff_email_and_one_receipt_for_a_folder(self, tenants, quiet):
        batch = uuid.uuid4()
        uploads = [
            make_upload(tenants.project_a, user=tenants.alice, name=f"part{i}.dmp", batch_id=batch)
            for i in range(25)
        ]
        for u in uploads:
            settle(u)
        deliver_due()
        assert len(staff_mail()) == 1
        assert len(receipts()) == 1
        body = staff_mail()[0].body
        assert all(f"part{i}.dmp" in body for i in range(25))
        assert "25 of 25 files verified" in staff_mail()[0].subject
        assert AuditEvent.objects.filter(action="notification.sent").count() == 2

    def test_it_never_sends_twice_for_the_same_event(self, tenants, quiet):
        upload = make_upload(tenants.project_a, user=tenants.alice)
        settle(upload)
        deliver_due()
        # A re-run of the task queues the same events again; nothing new goes out.
        notifications.notify_settled(upload)
        deliver_due()
        for n in Notification.objects.all():
            notifications.deliver(n.pk)
        assert len(staff_mail()) == 1
        assert len(receipts()) == 1

    def test_it_waits_while_part_of_the_batch_is_still_in_flight(self, tenants, quiet):
        batch = uuid.uuid4()
        done = make_upload(tenants.project_a, user=tenants.alice, name="a.dmp", batch_id=batch)
        still = make_upload(
            tenants.project_a,
            user=tenants.alice,
            name="b.dmp",
            batch_id=batch,
            status=Upload.Status.UPLOADING,
        )
        settle(done)
        deliver_due()
        assert mail.outbox == []
        still.status = Upload.Status.UPLOADED
        still.save()
        settle(still)
        deliver_due()
        assert len(staff_mail()) == 1
        assert "a.dmp" in staff_mail()[0].body and "b.dmp" in staff_mail()[0].body

    def test_it_waits_for_the_batch_to_go_quiet(self, tenants, settings):
        settings.NOTIFY_BATCH_QUIET_SECONDS = 120
        settle(make_upload(tenants.project_a, user=tenants.alice))
        deliver_due()
        assert mail.outbox == []

    def test_it_tells_the_notify_list_and_the_account_team(self, tenants, quiet, make_user):
        extra = make_user("dba@consultancy.example", staff=True)
        tenants.project_a.notify_staff.add(extra)
        settle(make_upload(tenants.project_a, user=tenants.alice))
        deliver_due()
        assert sorted(staff_mail()[0].to) == ["consultant@example.com", "dba@consultancy.example"]
        # The other organisation's consultant hears nothing.
        assert not any("other-consultant@example.com" in m.to for m in mail.outbox)

    def test_failed_uploads_are_reported_with_the_reason(self, tenants, quiet):
        settle(make_upload(tenants.project_a, user=tenants.alice), "failed", "Size differs: 3 bytes missing.")
        deliver_due()
        assert "1 needs attention" in staff_mail()[0].subject
        assert "Size differs: 3 bytes missing." in staff_mail()[0].body


class TestContent:
    def test_file_names_are_escaped_in_html(self, tenants, quiet):
        name = '<img src=x onerror=alert(1)>"&.dmp'
        settle(make_upload(tenants.project_a, user=tenants.alice, name=name))
        deliver_due()
        for message in mail.outbox:
            html = message.alternatives[0][0]
            assert "<img src=x" not in html
            assert "&lt;img src=x onerror=alert(1)&gt;&quot;&amp;.dmp" in html
            # The text part shows the name as it is.
            assert name in message.body

    def test_receipt_lists_size_checksums_and_times(self, tenants, quiet):
        from django.utils import timezone

        upload = make_upload(
            tenants.project_a,
            user=tenants.alice,
            size=123456,
            checksum_crc64nvme="rosUhgp5mIg=",
            checksum_sha256="a" * 64,
            completed_at=timezone.now(),
        )
        settle(upload)
        deliver_due()
        (receipt,) = receipts()
        assert "123456 bytes" in receipt.body
        assert "CRC64NVME: rosUhgp5mIg=" in receipt.body
        assert "SHA-256: " + "a" * 64 in receipt.body
        assert human_datetime(upload.completed_at) in receipt.body
        # Customers get no admin links.
        assert "/admin/" not in receipt.body + receipt.alternatives[0][0]

    def test_staff_email_links_to_the_admin(self, tenants, quiet):
        upload = make_upload(tenants.project_a, user=tenants.alice)
        settle(upload)
        deliver_due()
        assert f"https://portal.example/admin/uploads/upload/{upload.pk}/change/" in staff_mail()[0].body


class TestTenancy:
    def test_the_same_batch_id_in_two_organisations_makes_two_messages(self, tenants, quiet):
        batch = uuid.uuid4()
        acme = make_upload(tenants.project_a, user=tenants.alice, name="acme-ledger.dmp", batch_id=batch)
        globex = make_upload(tenants.project_b, user=tenants.bob, name="globex-secret.dmp", batch_id=batch)
        settle(acme)
        settle(globex)
        deliver_due()
        acme_staff = [m for m in mail.outbox if "consultant@example.com" in m.to]
        globex_staff = [m for m in mail.outbox if "other-consultant@example.com" in m.to]
        assert len(acme_staff) == 1 and len(globex_staff) == 1
        assert "acme-ledger.dmp" in acme_staff[0].body and "globex-secret.dmp" not in acme_staff[0].body
        assert "globex-secret.dmp" in globex_staff[0].body and "acme-ledger.dmp" not in globex_staff[0].body
        assert str(globex.pk) not in acme_staff[0].body

    def test_a_batch_waits_only_for_its_own_projects_uploads(self, tenants, quiet):
        batch = uuid.uuid4()
        done = make_upload(tenants.project_a, user=tenants.alice, name="a.dmp", batch_id=batch)
        make_upload(
            tenants.project_b, user=tenants.bob, name="b.dmp", batch_id=batch, status=Upload.Status.UPLOADING
        )
        settle(done)
        deliver_due()
        assert len(staff_mail()) == 1
