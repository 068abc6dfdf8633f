import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

import audit
from audit.models import AppendOnlyError, AuditEvent
from audit.tests.helpers import raw_sql
from conftest import with_mfa


class TestAppendOnly:
    def test_the_orm_refuses_to_change_an_event(self, db):
        event = audit.record("auth.logout", actor_label="a")
        event.action = "auth.login.succeeded"
        with pytest.raises(AppendOnlyError):
            event.save()
        assert AuditEvent.objects.get(pk=event.pk).action == "auth.logout"

    def test_the_orm_refuses_to_delete_an_event(self, db):
        event = audit.record("auth.logout", actor_label="a")
        with pytest.raises(AppendOnlyError):
            event.delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert AuditEvent.objects.filter(pk=event.pk).exists()

    def test_the_orm_refuses_bulk_writes(self, db):
        audit.record("auth.logout", actor_label="a")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.update(action="x")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.bulk_create([AuditEvent(action="x")])
        assert not AuditEvent.objects.filter(action="x").exists()

    def test_postgresql_refuses_a_raw_update(self, db):
        event = audit.record("auth.logout", actor_label="a")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            raw_sql("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [event.pk])
        assert AuditEvent.objects.get(pk=event.pk).action == "auth.logout"

    def test_postgresql_refuses_a_raw_delete(self, db):
        event = audit.record("auth.logout", actor_label="a")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
        assert AuditEvent.objects.filter(pk=event.pk).exists()

    def test_deleting_a_user_or_organisation_leaves_their_events_intact(self, db, tenants):
        event = audit.record("auth.logout", actor=tenants.bob, target=tenants.org_b)
        tenants.bob.delete()
        tenants.project_b.delete()
        tenants.org_b.delete()
        stored = AuditEvent.objects.get(pk=event.pk)
        assert stored.actor_label == "bob@globex.example"
        assert stored.actor_id is not None
        assert stored.hash == event.hash

    def test_admin_still_shows_events_of_deleted_users_and_organisations(self, client, tenants, make_user):
        event = audit.record("upload.created", actor=tenants.bob, target=tenants.project_b, name="x.dmp")
        tenants.bob.delete()
        tenants.project_b.delete()
        tenants.org_b.delete()
        client.force_login(with_mfa(make_user("root@example.com", superuser=True)))
        listing = client.get(reverse("admin:audit_auditevent_changelist"))
        assert "bob@globex.example" in listing.content.decode()
        detail = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
        assert detail.status_code == 200
        assert "x.dmp" in detail.content.decode()
