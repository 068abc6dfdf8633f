"""What the important events say, beyond being written (the walking test checks that)."""

from django.urls import reverse

from audit.models import AuditEvent
from audit.tests.helpers import events_since, last_id
from audit.tests.scenarios import Ctx, change_organisation, change_role
from conftest import TEST_PASSWORD


def ctx(client, tenants, make_user, request) -> Ctx:
    return Ctx(client=client, tenants=tenants, make_user=make_user, request=request)


class TestEventContent:
    def test_an_admin_edit_keeps_before_and_after_values(self, client, tenants, make_user, request):
        before = last_id()
        change_organisation(ctx(client, tenants, make_user, request))
        event = events_since(before, "admin.organization.changed").get()
        assert event.data["changes"] == {"name": {"before": "Acme", "after": "Acme Corporation"}}
        assert event.actor_label == "consultant@example.com"
        assert event.organization_id == tenants.org_a.pk

    def test_a_role_change_names_the_user_and_the_new_role(self, client, tenants, make_user, request):
        before = last_id()
        change_role(ctx(client, tenants, make_user, request))
        event = events_since(before, "membership.role_changed").get()
        assert event.data == {"user": "victor@acme.example", "role": "uploader"}

    def test_a_sign_in_records_where_it_came_from(self, client, tenants):
        client.post(
            reverse("account_login"),
            {"login": "alice@acme.example", "password": TEST_PASSWORD},
            REMOTE_ADDR="198.51.100.23",
            HTTP_USER_AGENT="Mozilla/5.0 Test",
        )
        event = AuditEvent.objects.get(action="auth.login.succeeded")
        assert (event.ip, event.user_agent, event.actor_id) == (
            "198.51.100.23",
            "Mozilla/5.0 Test",
            tenants.alice.pk,
        )
