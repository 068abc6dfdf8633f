import json
from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

import audit
from audit import archive
from audit.models import AuditEvent
from audit.tests.helpers import raw_sql
from audit.verify import verify_chain
from uploads import s3


@pytest.fixture
def two_days(db, monkeypatch):
    """Events on 22 and 23 November, written with the clock set to those days."""
    events = []
    for day, n in ((date(2026, 11, 22), 3), (date(2026, 11, 23), 2)):
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda noon=noon: noon)
        events += [audit.record("auth.logout", actor_label=f"{day}-{i}") for i in range(n)]
    monkeypatch.undo()
    return events


class TestArchive:
    def test_it_writes_each_finished_day_and_the_chain_head(self, two_days, audit_bucket):
        outcome = archive.archive_pending(today=date(2026, 11, 24))
        keys = sorted(s3.list_keys("_audit/"))
        assert "_audit/events/2026/11/22/part-00001.jsonl" in keys
        assert "_audit/events/2026/11/23/part-00001.jsonl" in keys
        lines = s3.get_object_bytes("_audit/events/2026/11/22/part-00001.jsonl").decode().splitlines()
        rows = [json.loads(line) for line in lines]
        assert [r["actor_label"] for r in rows] == ["2026-11-22-0", "2026-11-22-1", "2026-11-22-2"]
        assert [r["hash"] for r in rows] == [e.hash for e in two_days[:3]]
        head = archive.latest_archived_head()
        assert head["seq"] == two_days[-1].seq
        assert head["hash"] == two_days[-1].hash
        assert outcome["head_key"] == f"_audit/heads/{two_days[-1].seq:020d}.json"

    def test_it_is_audited(self, two_days, audit_bucket):
        archive.archive_pending(today=date(2026, 11, 24))
        event = AuditEvent.objects.get(action="audit.archived")
        assert event.data["head_seq"] == two_days[-1].seq
        assert "_audit/events/2026/11/23/part-00001.jsonl" in event.data["keys"]

    def test_it_does_not_rewrite_a_day_already_archived(self, two_days, audit_bucket):
        archive.archive_pending(today=date(2026, 11, 24))
        first = audit_bucket.list_object_versions(Bucket="upload-portal", Prefix="_audit/events/")
        archive.archive_pending(today=date(2026, 11, 24))
        again = audit_bucket.list_object_versions(Bucket="upload-portal", Prefix="_audit/events/")
        assert len(again["Versions"]) == len(first["Versions"]) == 2

    def test_it_splits_a_large_day_into_parts(self, two_days, audit_bucket, settings):
        settings.AUDIT_ARCHIVE_CHUNK_EVENTS = 2
        keys = archive.archive_day(date(2026, 11, 22))
        assert keys == [
            "_audit/events/2026/11/22/part-00001.jsonl",
            "_audit/events/2026/11/22/part-00002.jsonl",
        ]
        assert len(s3.get_object_bytes(keys[1]).splitlines()) == 1

    def test_the_archive_lets_verify_catch_a_deleted_last_event(self, two_days, audit_bucket):
        archive.archive_pending(today=date(2026, 11, 24))
        archived = archive.latest_archived_head()
        last = AuditEvent.objects.order_by("-seq").first()  # the audit.archived event
        raw_sql("DELETE FROM audit_auditevent WHERE seq >= %s", [archived["seq"]], bypass_trigger=True)
        raw_sql("UPDATE audit_auditchainhead SET seq = %s, hash = %s", [two_days[-2].seq, two_days[-2].hash])
        assert last.seq > archived["seq"]
        assert verify_chain().ok
        assert not verify_chain(archived_head=archive.latest_archived_head()).ok


@pytest.fixture
def locked_bucket(moto_server, settings):
    """The upload bucket with S3 Object Lock and a default compliance retention."""
    moto_server.reset()
    settings.AWS_ENDPOINT_URL = moto_server.url
    client = s3.client()
    client.create_bucket(Bucket=settings.UPLOAD_BUCKET, ObjectLockEnabledForBucket=True)
    client.put_object_lock_configuration(
        Bucket=settings.UPLOAD_BUCKET,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}},
        },
    )
    return client


class TestArchiveUnderObjectLock:
    def test_archived_events_and_heads_cannot_be_deleted(self, two_days, locked_bucket):
        from botocore.exceptions import ClientError

        outcome = archive.archive_pending(today=date(2026, 11, 24))
        head = locked_bucket.head_object(Bucket="upload-portal", Key=outcome["head_key"])
        assert head["ObjectLockMode"] == "COMPLIANCE"
        with pytest.raises(ClientError, match="AccessDenied"):
            locked_bucket.delete_object(
                Bucket="upload-portal", Key=outcome["head_key"], VersionId=head["VersionId"]
            )
        assert archive.latest_archived_head()["seq"] == two_days[-1].seq
