from django.urls import reverse

from audit.models import AuditEvent
from conftest import with_mfa


class TestRefusedRequests:
    def test_another_tenants_project_id_is_recorded(self, client, tenants):
        client.force_login(tenants.alice)
        response = client.get(
            reverse("project_detail", args=[tenants.project_b.pk]), REMOTE_ADDR="203.0.113.5"
        )
        assert response.status_code == 404
        event = AuditEvent.objects.get(action="request.refused")
        assert event.actor_id == tenants.alice.pk
        assert event.ip == "203.0.113.5"
        assert event.data == {
            "code": "not_found",
            "status": 404,
            "method": "GET",
            "path": f"/projects/{tenants.project_b.pk}/",
        }

    def test_a_forbidden_admin_page_is_recorded(self, client, tenants):
        client.force_login(with_mfa(tenants.consultant))
        response = client.get(reverse("admin:audit_auditevent_add"))
        assert response.status_code == 403
        assert AuditEvent.objects.get(action="request.refused").data["code"] == "forbidden"

    def test_pages_the_user_may_see_are_not_recorded(self, client, tenants):
        client.force_login(tenants.alice)
        assert client.get(reverse("project_detail", args=[tenants.project_a.pk])).status_code == 200
        assert not AuditEvent.objects.filter(action="request.refused").exists()


class TestNulBytes:
    """PostgreSQL's text and jsonb refuse NUL: a refusal carrying one must still be audited."""

    def test_a_nul_in_the_path_and_user_agent_is_refused_in_json_and_audited(self, client, tenants, settings):
        assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), "this is about PostgreSQL"
        client.force_login(tenants.alice)
        response = client.get("/api/uploads/%00/parts", HTTP_USER_AGENT="curl/8\x00evil")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        event = AuditEvent.objects.filter(action="request.refused").latest("id")
        assert event.user_agent == "curl/8\u2400evil"
        assert event.data["path"] == "/api/uploads/\u2400/parts"

    def test_a_nul_in_data_keys_and_labels_is_stored(self, tenants):
        import audit

        event = audit.record("auth.login.failed", actor_label="a\x00b", reason="x\x00y", **{"we\x00ird": 1})
        event.refresh_from_db()
        assert event.actor_label == "a\u2400b"
        assert event.data["reason"] == "x\u2400y"
        assert event.data["_dropped"] == ["we\u2400ird"]
