"""Retention on moto: when a closed project's retention comes due, every version and delete
marker under its prefix and every unfinished multipart upload goes, the prefix is listed
empty, and one deletion certificate lists every version, its digest in the audit chain.
A legal hold stops it; a rerun after a crash mid-deletion finishes the same certificate;
nothing outside the prefix is touched."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from audit.verify import verify_chain
from uploads import retention, s3, verification
from uploads.models import DeletionCertificate, Upload, UploadProject
from uploads.tests.helpers import sha256_hex, upload_fully

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bucket")]


@pytest.fixture
def delivered(client, tenants):
    """Project A holds two received files, a second version of one written behind the
    portal's back, a delete marker, and an unfinished multipart upload; a sibling prefix
    `oracle-evil/` and the other tenant hold files that must survive."""
    client.force_login(tenants.alice)
    first = os.urandom(6000)
    # Deep verification: the portal reads the bytes back, so it knows their SHA-256 itself.
    UploadProject.objects.filter(pk=tenants.project_a.pk).update(deep_verify=True)
    done = upload_fully(client, tenants.project_a, first, name="exp_01.dmp")
    assert verification.verify(done["id"]) == "verified"
    upload_fully(client, tenants.project_a, os.urandom(5000), name="exp.log")
    prefix = tenants.project_a.key_prefix
    dump, log = (Upload.objects.get(original_name=n).object_key for n in ("exp_01.dmp", "exp.log"))
    s3.put_object(dump, b"replaced behind the portal's back")
    s3.client().delete_object(Bucket=s3.bucket(), Key=log)  # a delete marker over the log
    s3.create_multipart_upload(f"{prefix}unfinished.dmp")
    s3.put_object("acme/oracle-evil/keep.bin", b"sibling")
    client.force_login(tenants.bob)
    upload_fully(client, tenants.project_b, os.urandom(5000), name="ledger.csv")
    return {"first_sha": sha256_hex(first), "first_version": done["version_id"]}


def close(project: UploadProject, *, days_ago: int, retention_days: int = 30) -> None:
    project.status = UploadProject.Status.CLOSED
    project.retention_days = retention_days
    project.save()
    UploadProject.objects.filter(pk=project.pk).update(closed_at=timezone.now() - timedelta(days=days_ago))


def test_it_leaves_the_prefix_empty_and_certifies_every_version(tenants, delivered):
    project = tenants.project_a
    before = s3.list_versions_under(project.key_prefix)
    # Two files, a second version of one, a delete marker over the other.
    assert len(before) == 4
    assert sum(v.delete_marker for v in before) == 1
    close(project, days_ago=31)

    assert retention.apply_retention() == 1

    assert s3.list_versions_under(project.key_prefix) == []
    assert s3.list_multipart_uploads(project.key_prefix) == []
    cert = DeletionCertificate.objects.get(project=project)
    assert cert.completed_at is not None
    listed = {(v["key"], v["version_id"]) for v in cert.versions}
    assert listed == {(v.key, v.version_id) for v in before}
    assert [m["key"] for m in cert.aborted_multipart_uploads] == [f"{project.key_prefix}unfinished.dmp"]
    # The portal's verified SHA-256 travels with the version it recorded; the version written
    # behind its back, never verified, claims none.
    by_version = {v["version_id"]: v for v in cert.versions}
    assert by_version[delivered["first_version"]]["sha256"] == delivered["first_sha"]
    assert by_version[delivered["first_version"]]["crc64nvme"]
    unverified = [v for v in cert.versions if v["version_id"] != delivered["first_version"]]
    assert all(v["sha256"] == "" and v["crc64nvme"] == "" for v in unverified)
    assert cert.compute_digest() == cert.digest
    event = AuditEvent.objects.get(action="deletion.completed")
    assert event.data["digest"] == cert.digest
    assert event.data["versions"] == 4
    assert verify_chain().ok
    statuses = set(Upload.objects.filter(project=project).values_list("status", flat=True))
    assert statuses == {Upload.Status.DELETED}
    project.refresh_from_db()
    assert project.data_deleted_at == cert.completed_at


def test_nothing_outside_the_prefix_is_touched(tenants, delivered):
    close(tenants.project_a, days_ago=31)
    retention.apply_retention()
    assert s3.get_object_bytes("acme/oracle-evil/keep.bin") == b"sibling"
    other = Upload.objects.get(project=tenants.project_b)
    assert [v.key for v in s3.list_versions_under(tenants.project_b.key_prefix)] == [other.object_key]
    assert other.status == Upload.Status.UPLOADED


def test_it_waits_until_the_retention_period_is_over(tenants, delivered):
    close(tenants.project_a, days_ago=29)
    assert retention.apply_retention() == 0
    assert len(s3.list_versions_under(tenants.project_a.key_prefix)) == 4
    assert not DeletionCertificate.objects.exists()


def test_an_open_project_is_never_deleted_by_its_retention_period(tenants, delivered):
    project = tenants.project_a
    project.retention_days = 0
    project.save()
    assert retention.apply_retention() == 0
    assert len(s3.list_versions_under(project.key_prefix)) == 4


def test_a_legal_hold_stops_it(tenants, delivered):
    close(tenants.project_a, days_ago=31)
    UploadProject.objects.filter(pk=tenants.project_a.pk).update(legal_hold=True)
    assert retention.apply_retention() == 0
    assert len(s3.list_versions_under(tenants.project_a.key_prefix)) == 4
    assert AuditEvent.objects.filter(action="deletion.held", project=tenants.project_a).count() == 1
    # The next hourly pass does not say it again.
    assert retention.apply_retention() == 0
    assert AuditEvent.objects.filter(action="deletion.held").count() == 1
    assert not DeletionCertificate.objects.exists()


def test_a_rerun_after_a_crash_finishes_without_a_second_certificate(tenants, delivered, monkeypatch):
    project = tenants.project_a
    close(project, days_ago=31)
    real = s3.delete_versions

    def crash_after_the_first(prefix, versions):
        real(prefix, versions[:1])
        raise ConnectionError("the worker died mid-deletion")

    monkeypatch.setattr(s3, "delete_versions", crash_after_the_first)
    with pytest.raises(ConnectionError):
        retention.apply_retention()
    assert len(s3.list_versions_under(project.key_prefix)) == 3
    monkeypatch.setattr(s3, "delete_versions", real)

    assert retention.apply_retention() == 1
    assert s3.list_versions_under(project.key_prefix) == []
    cert = DeletionCertificate.objects.get(project=project)
    assert len(cert.versions) == 4  # the one deleted before the crash is still listed
    assert AuditEvent.objects.filter(action="deletion.started").count() == 1
    assert AuditEvent.objects.filter(action="deletion.completed").count() == 1
    # Done is done: a third run finds nothing due.
    assert retention.apply_retention() == 0


def test_a_fixed_deletion_date_applies(tenants, delivered):
    project = tenants.project_a
    project.status = UploadProject.Status.CLOSED
    project.delete_on = timezone.localdate() - timedelta(days=1)
    project.save()
    assert retention.apply_retention() == 1
    assert "deleted on" in DeletionCertificate.objects.get().rule


def test_a_project_closed_by_its_deadline_starts_its_retention_period(tenants, delivered):
    from uploads import reconciliation

    project = tenants.project_a
    UploadProject.objects.filter(pk=project.pk).update(
        open_until=timezone.now() - timedelta(days=40), grace_period_hours=0, retention_days=30
    )
    assert reconciliation.close_projects_past_deadline() == 1
    project.refresh_from_db()
    assert project.closed_at is not None
    # Thirty days on, the files go.
    assert retention.apply_retention(now=project.closed_at + timedelta(days=30, seconds=1)) == 1
    assert s3.list_versions_under(project.key_prefix) == []
