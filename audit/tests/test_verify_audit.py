import pytest
from django.core.management import CommandError, call_command

import audit
from audit import archive
from audit.tests.helpers import raw_sql
from audit.verify import verify_chain


def record_some(n: int = 5) -> list:
    return [
        audit.record("auth.login.failed", actor_label=f"user{i}", reason="bad_credentials") for i in range(n)
    ]


class TestVerifyAudit:
    def test_it_passes_an_intact_chain(self, db, capsys):
        record_some()
        call_command("verify_audit", "--no-archive")
        assert "OK: 5 events, chain intact" in capsys.readouterr().out

    def test_it_names_an_event_edited_by_raw_sql(self, db):
        events = record_some()
        raw_sql(
            "UPDATE audit_auditevent SET actor_label = 'someone-else' WHERE id = %s",
            [events[2].pk],
            bypass_trigger=True,
        )
        with pytest.raises(CommandError, match=rf"event id={events[2].pk} seq={events[2].seq}: content"):
            call_command("verify_audit", "--no-archive")

    def test_it_names_an_edit_of_the_data_column(self, db):
        events = record_some()
        raw_sql(
            """UPDATE audit_auditevent SET data = '{"reason": "ok"}' WHERE id = %s""",
            [events[1].pk],
            bypass_trigger=True,
        )
        result = verify_chain()
        assert not result.ok
        assert result.broken_id == events[1].pk

    def test_it_names_the_event_after_a_deleted_one(self, db):
        events = record_some()
        raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk], bypass_trigger=True)
        with pytest.raises(CommandError, match=rf"event id={events[3].pk} .*#3..#3 are missing"):
            call_command("verify_audit", "--no-archive")

    def test_it_catches_a_recomputed_link_after_an_edit(self, db):
        """Editing an event and fixing its own hash still breaks the next link."""
        from audit.chain import compute_hash, event_fields
        from audit.models import AuditEvent

        events = record_some()
        target = AuditEvent.objects.get(pk=events[1].pk)
        target.actor_label = "forged"
        forged_hash = compute_hash(event_fields(target))
        raw_sql(
            "UPDATE audit_auditevent SET actor_label = 'forged', hash = %s WHERE id = %s",
            [forged_hash, target.pk],
            bypass_trigger=True,
        )
        result = verify_chain()
        assert not result.ok
        assert result.broken_id == events[2].pk
        assert "prev_hash" in result.reason

    def test_it_catches_the_last_event_deleted_with_the_head_row(self, db):
        events = record_some()
        raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk], bypass_trigger=True)
        result = verify_chain()
        assert not result.ok
        assert "events after it were removed" in result.reason

    def test_it_catches_the_last_event_deleted_and_the_head_row_fixed_through_the_archive(
        self, db, audit_bucket, capsys
    ):
        events = record_some()
        archive.export_head()
        # Whoever controls the database deletes the newest event and repairs the head row:
        # the database alone then looks intact.
        raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk], bypass_trigger=True)
        raw_sql("UPDATE audit_auditchainhead SET seq = %s, hash = %s", [events[-2].seq, events[-2].hash])
        call_command("verify_audit", "--no-archive")
        assert "OK" in capsys.readouterr().out
        with pytest.raises(CommandError, match=r"archive's head is event #5 but the database ends at #4"):
            call_command("verify_audit")

    def test_it_catches_a_chain_rewritten_behind_the_archive(self, db, audit_bucket):
        """Someone recomputes every hash after editing an archived event."""
        from audit.chain import compute_hash, event_fields
        from audit.models import GENESIS_HASH, AuditEvent

        record_some()
        archive.export_head()
        prev = GENESIS_HASH
        for event in AuditEvent.objects.order_by("seq"):
            if event.seq == 2:
                event.actor_label = "forged"
            event.prev_hash = prev
            new_hash = compute_hash(event_fields(event))
            raw_sql(
                "UPDATE audit_auditevent SET actor_label = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [event.actor_label, prev, new_hash, event.pk],
                bypass_trigger=True,
            )
            prev = new_hash
        raw_sql("UPDATE audit_auditchainhead SET hash = %s", [prev])
        assert verify_chain().ok  # the database alone cannot tell
        result = verify_chain(archived_head=archive.latest_archived_head())
        assert not result.ok
        assert "differs from the archived head" in result.reason

    def test_it_passes_against_the_archive_when_nothing_changed(self, db, audit_bucket, capsys):
        record_some()
        archive.export_head()
        record_some(2)  # events after the export are fine
        call_command("verify_audit")
        assert "OK: 7 events, chain intact; matches the archived head #5" in capsys.readouterr().out


class TestArchiveUnreachable:
    def test_the_command_says_so_instead_of_passing(self, db, settings):
        settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
        record_some(1)
        with pytest.raises(CommandError, match="Cannot read the S3 archive"):
            call_command("verify_audit")

    def test_the_periodic_check_still_checks_the_database(self, db, settings):
        from audit.tasks import run_verification

        settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
        events = record_some(3)
        raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk], bypass_trigger=True)
        assert run_verification()["ok"] is False
