from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import audit
from audit.models import AuditEvent
from conftest import with_mfa

CHANGELIST = "admin:audit_auditevent_changelist"


def seed(t):
    audit.record("membership.added", actor=t.consultant, target=t.project_a, user="alice@acme.example")
    audit.record("upload.created", actor=t.alice, target=t.project_a, name="dump.dmp", size=10)
    audit.record("upload.created", actor=t.bob, target=t.project_b, name="ledger.csv", size=20)
    audit.record("auth.login.succeeded", actor=t.alice, target=t.alice)


def shown(response) -> list[str]:
    return [f"{e.action}:{e.actor_label}" for e in response.context["cl"].result_list]


class TestAdminReview:
    def test_a_consultant_sees_only_their_organisations_events(self, client, tenants):
        seed(tenants)
        client.force_login(with_mfa(tenants.consultant))
        response = client.get(reverse(CHANGELIST))
        assert response.status_code == 200
        # Sign-ins have no organisation: the consultant's own and their customer's are
        # theirs to see.
        assert shown(response) == [
            "auth.login.succeeded:consultant@example.com",
            "auth.login.succeeded:alice@acme.example",
            "upload.created:alice@acme.example",
            "membership.added:consultant@example.com",
        ]
        assert "ledger.csv" not in response.content.decode()

    def test_a_superuser_sees_every_event(self, client, tenants, make_user):
        client.force_login(with_mfa(make_user("root@example.com", superuser=True)))
        seed(tenants)
        response = client.get(reverse(CHANGELIST))
        assert len(shown(response)) == 5  # the four above and the superuser's own sign-in

    def test_a_foreign_event_detail_answers_like_a_missing_one(self, client, tenants):
        seed(tenants)
        foreign = AuditEvent.objects.get(project=tenants.project_b)
        client.force_login(with_mfa(tenants.consultant))
        response = client.get(reverse("admin:audit_auditevent_change", args=[foreign.pk]), follow=True)
        assert "doesn’t exist" in response.content.decode()

    def test_customers_cannot_reach_it(self, client, tenants):
        client.force_login(tenants.alice)
        response = client.get(reverse(CHANGELIST))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]

    def test_it_filters_by_organisation_project_actor_action_and_date(self, client, tenants, make_user):
        seed(tenants)
        client.force_login(with_mfa(make_user("root@example.com", superuser=True)))
        url = reverse(CHANGELIST)
        assert shown(client.get(url, {"organization": tenants.org_b.pk})) == [
            "upload.created:bob@globex.example"
        ]
        assert len(shown(client.get(url, {"project": tenants.project_a.pk}))) == 2
        assert shown(client.get(url, {"actor": tenants.alice.pk})) == [
            "auth.login.succeeded:alice@acme.example",
            "upload.created:alice@acme.example",
        ]
        assert len(shown(client.get(url, {"action": "upload.created"}))) == 2
        tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
        assert shown(client.get(url, {"created_at__gte": tomorrow})) == []

    def test_it_searches_actor_target_and_exact_action(self, client, tenants, make_user):
        client.force_login(with_mfa(make_user("root@example.com", superuser=True)))
        seed(tenants)
        url = reverse(CHANGELIST)
        assert len(shown(client.get(url, {"q": "globex"}))) == 1
        assert len(shown(client.get(url, {"q": "membership.added"}))) == 1
        found = client.get(url, {"q": str(tenants.alice.pk)}).context["cl"].result_list
        assert "auth.login.succeeded:alice@acme.example" in [f"{e.action}:{e.actor_label}" for e in found]
        assert {e.target_id for e in found} == {str(tenants.alice.pk)}

    def test_it_searches_by_ip_address(self, client, tenants, make_user):
        from audit.context import RequestContext, current_request

        client.force_login(with_mfa(make_user("root@example.com", superuser=True)))
        token = current_request.set(RequestContext(ip="203.0.113.7", user_agent=""))
        audit.record("auth.logout", actor=tenants.alice, target=tenants.alice)
        current_request.reset(token)
        assert shown(client.get(reverse(CHANGELIST), {"q": "203.0.113.7"})) == [
            "auth.logout:alice@acme.example"
        ]

    def test_the_detail_shows_pretty_json_and_the_hash(self, client, tenants):
        seed(tenants)
        event = AuditEvent.objects.get(action="upload.created", project=tenants.project_a)
        client.force_login(with_mfa(tenants.consultant))
        page = client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).content.decode()
        pretty = '{\n  "name": "dump.dmp",\n  "size": 10\n}'.replace('"', "&quot;")
        assert f'<pre class="audit-data">{pretty}</pre>' in page
        assert event.hash in page
        assert 'name="_save"' not in page

    def test_nobody_can_add_change_or_delete(self, client, tenants, make_user):
        seed(tenants)
        event = AuditEvent.objects.first()
        client.force_login(with_mfa(make_user("root@example.com", superuser=True)))
        assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
        assert (
            client.post(
                reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}
            ).status_code
            == 403
        )
        response = client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "x"})
        assert response.status_code == 403
        assert AuditEvent.objects.get(pk=event.pk).action == event.action

    def test_the_count_is_capped_instead_of_counting_the_whole_table(
        self, client, tenants, make_user, monkeypatch
    ):
        from audit import admin as audit_admin

        monkeypatch.setattr(audit_admin, "COUNT_CAP", 3)
        seed(tenants)
        client.force_login(with_mfa(make_user("root@example.com", superuser=True)))
        response = client.get(reverse(CHANGELIST))
        assert "More than 3 events match" in response.content.decode()


class TestDateFilter:
    def test_a_date_range_shows_exactly_the_events_inside_it(self, client, tenants, make_user, monkeypatch):
        from datetime import UTC, datetime

        client.force_login(with_mfa(make_user("root@example.com", superuser=True)))
        for day in (1, 2, 3):
            moment = datetime(2026, 10, day, 12, tzinfo=UTC)
            monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
            audit.record("auth.logout", actor_label=f"october-{day}")
        monkeypatch.undo()
        url = reverse(CHANGELIST)
        params = {
            "created_at__gte": "2026-10-02T00:00:00+00:00",
            "created_at__lt": "2026-10-03T00:00:00+00:00",
        }
        assert shown(client.get(url, params)) == ["auth.logout:october-2"]
        later = shown(
            client.get(url, {"created_at__gte": "2026-10-02T00:00:00+00:00", "action": "auth.logout"})
        )
        assert later == ["auth.logout:october-3", "auth.logout:october-2"]

    def test_a_malformed_date_is_refused_without_an_error_page(self, client, tenants, make_user):
        client.force_login(with_mfa(make_user("root@example.com", superuser=True)))
        response = client.get(reverse(CHANGELIST), {"created_at__gte": "not-a-date"})
        assert response.status_code == 302
        assert "e=1" in response["Location"]
