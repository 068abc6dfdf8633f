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
