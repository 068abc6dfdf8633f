"""A delivery on moto: a Data Pump set and its log, uploaded through the API, verified as the
worker does; the log names the whole set, and staff hear once when all of it is verified."""

import os

import pytest
from django.core import mail

from audit.models import AuditEvent
from uploads import delivery, notifications, tasks
from uploads.models import ExpectedFile, Notification, Upload
from uploads.tests.helpers import upload_fully
from uploads.tests.test_datapump import FULL_LOG

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bucket", "quiet")]


@pytest.fixture
def quiet(settings):
    settings.NOTIFY_BATCH_QUIET_SECONDS = 0


@pytest.fixture
def expecting(tenants):
    project, kind = tenants.project_a, ExpectedFile.Kind
    ExpectedFile.objects.create(project=project, kind=kind.PATTERN, pattern="exp_%U.dmp", order=1)
    ExpectedFile.objects.create(project=project, kind=kind.DATAPUMP_LOG, pattern="exp.log", order=2)
    return project


def send(alice_client, project, name: str, data: bytes) -> str:
    done = upload_fully(alice_client, project, data, name=name)
    assert tasks.verify_upload(done["id"]) == "verified"
    return done["id"]


def entry(project, pattern: str) -> delivery.EntryStatus:
    status = delivery.delivery_status(project=project)
    return next(s for s in status.entries if s.entry.pattern == pattern)


def staff_deliveries():
    return Notification.objects.filter(kind=Notification.Kind.STAFF_DELIVERY)


def test_the_log_names_the_set_and_staff_hear_once_when_it_is_all_there(alice_client, expecting):
    log_id = send(alice_client, expecting, "exp.log", FULL_LOG.encode())
    for name in ("exp_01.dmp", "EXP_02.DMP"):
        send(alice_client, expecting, name, os.urandom(6000))

    assert Upload.objects.get(pk=log_id).dump_file_set.files == ["exp_01.dmp", "exp_02.dmp", "exp_03.dmp"]
    dumps = entry(expecting, "exp_%U.dmp")
    assert dumps.state == delivery.PROBLEM and dumps.problems == ["missing exp_03.dmp"]
    assert entry(expecting, "exp.log").state == delivery.VERIFIED
    assert delivery.delivery_status(project=expecting).state == delivery.PROBLEM
    page = alice_client.get(f"/projects/{expecting.pk}/").content.decode()
    assert "missing exp_03.dmp" in page
    assert not staff_deliveries().exists()

    send(alice_client, expecting, "exp_03.dmp", os.urandom(6000))
    status = delivery.delivery_status(project=expecting)
    assert status.state == delivery.COMPLETE and status.unexpected == []
    live = alice_client.get(f"/projects/{expecting.pk}/live").json()
    assert "Delivery complete" in live["sections"]["delivery"]

    assert staff_deliveries().count() == 1
    # The test's transaction never commits, so send what is due as the worker would.
    for n in notifications.due_ids():
        notifications.deliver(n)
    assert staff_deliveries().get().status == Notification.Status.SENT
    subjects = [m.subject for m in mail.outbox]
    assert sum("delivery complete" in s for s in subjects) == 1
    # The customer's per-file receipts still go, one a file.
    assert Notification.objects.filter(kind=Notification.Kind.RECEIPT).count() == 4
    assert AuditEvent.objects.filter(action="delivery.completed").count() == 1

    # A later file (and its verification) does not tell staff again.
    send(alice_client, expecting, "notes.txt", b"readme" * 100)
    assert staff_deliveries().count() == 1
    assert [u.original_name for u in delivery.delivery_status(project=expecting).unexpected] == ["notes.txt"]


def test_a_concurrent_second_evaluation_does_not_notify_again(alice_client, expecting):
    send(alice_client, expecting, "exp.log", FULL_LOG.encode())
    last = None
    for n in (1, 2, 3):
        last = send(alice_client, expecting, f"exp_0{n}.dmp", os.urandom(5000))
    upload = Upload.objects.select_related("project").get(pk=last)
    # A second worker that evaluated the same finished delivery loses the conditional update.
    upload.project.delivery_completed_at = None
    assert delivery.delivery_mark_complete(project=upload.project, upload=upload) is False
    assert staff_deliveries().count() == 1


def test_wrong_size_and_a_declared_sha256_that_differs(alice_client, tenants):
    project = tenants.project_a
    ExpectedFile.objects.create(project=project, pattern="big.dmp", min_size=10_000)
    ExpectedFile.objects.create(project=project, pattern="ddl.sql", declared_sha256="ab" * 32)
    send(alice_client, project, "big.dmp", os.urandom(5000))
    done = upload_fully(alice_client, project, b"create table t (x int);\n" * 300, name="ddl.sql")
    # The entry's SHA-256 makes verification read the stored file back and compare.
    assert tasks.verify_upload(done["id"]) == "failed"
    big, ddl = delivery.delivery_status(project=project).entries
    assert big.state == ddl.state == delivery.PROBLEM
    assert big.problems == ["big.dmp: wrong size, 4.9 KiB (at least 9.8 KiB)"]
    assert "declared for this expected file" in ddl.problems[0]


def test_a_log_without_its_dump_file_set_is_a_problem(alice_client, expecting):
    cut = FULL_LOG.split("Dump file set")[0]
    send(alice_client, expecting, "exp.log", cut.encode())
    log = entry(expecting, "exp.log")
    assert log.state == delivery.PROBLEM
    assert log.problems == ["exp.log names no dump file set: the export may not have finished"]
