from django.core import mail

import audit
from audit.models import AuditEvent
from audit.tasks import archive_daily_task, verify_chain_task
from audit.tests.helpers import raw_sql
from uploads import s3


class TestVerifyChainTask:
    def test_it_alerts_staff_when_the_chain_is_broken(self, db, audit_bucket, make_user, settings):
        settings.AUDIT_ALERT_EMAILS = ["security@example.com"]
        make_user("root@example.com", superuser=True)
        events = [audit.record("auth.logout", actor_label=f"u{i}") for i in range(3)]
        raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk], bypass_trigger=True)

        outcome = verify_chain_task.apply().get()

        assert outcome["ok"] is False
        assert len(mail.outbox) == 1
        assert sorted(mail.outbox[0].to) == ["root@example.com", "security@example.com"]
        assert "FAILED" in mail.outbox[0].subject
        assert f"event id={events[2].pk}" in mail.outbox[0].body
        broken = AuditEvent.objects.get(action="audit.chain.broken")
        assert broken.data["broken_id"] == events[2].pk

    def test_it_stays_quiet_when_the_chain_is_intact(self, db, audit_bucket, make_user):
        make_user("root@example.com", superuser=True)
        audit.record("auth.logout", actor_label="u")
        assert verify_chain_task.apply().get()["ok"] is True
        assert mail.outbox == []
        assert not AuditEvent.objects.filter(action="audit.chain.broken").exists()


class TestArchiveDailyTask:
    def test_it_archives_and_exports_the_head(self, db, audit_bucket):
        event = audit.record("auth.logout", actor_label="u")
        outcome = archive_daily_task.apply().get()
        assert outcome["head_key"] == f"_audit/heads/{event.seq:020d}.json"
        assert outcome["head_key"] in s3.list_keys("_audit/heads/")
