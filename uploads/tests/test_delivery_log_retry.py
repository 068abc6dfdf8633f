"""A Data Pump log verified while storage stopped answering for the read that follows: its
entry stays "received", and the next reconciliation pass reads the log and settles the
delivery, instead of leaving it unsettled for good."""

import pytest

from uploads import delivery, reconciliation, s3, tasks
from uploads.models import DumpFileSet, ExpectedFile, Upload
from uploads.tests.helpers import upload_fully
from uploads.tests.test_datapump import FULL_LOG

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bucket")]


def test_a_log_storage_could_not_give_is_read_at_the_next_pass(alice_client, tenants, monkeypatch):
    project = tenants.project_a
    ExpectedFile.objects.create(project=project, kind=ExpectedFile.Kind.DATAPUMP_LOG, pattern="exp.log")
    real = s3.get_range

    def unavailable(*args, **kwargs):
        raise s3.StorageError("Unavailable", "ConnectTimeoutError")

    done = upload_fully(alice_client, project, FULL_LOG.encode(), name="exp.log")
    # The worker's verification only reads metadata; the log's tail is the read that fails.
    monkeypatch.setattr(s3, "get_range", unavailable)
    assert tasks.verify_upload(done["id"]) == "verified"
    assert not DumpFileSet.objects.exists()
    assert delivery.delivery_status(project=project).entries[0].state == delivery.RECEIVED

    monkeypatch.setattr(s3, "get_range", real)
    counts = reconciliation.run()
    assert counts["datapump_logs_read"] == 1
    log = Upload.objects.get(pk=done["id"])
    assert log.dump_file_set.files == ["exp_01.dmp", "exp_02.dmp", "exp_03.dmp"]
    # Read once: a second pass finds nothing left to read.
    assert reconciliation.run()["datapump_logs_read"] == 0
