"""Generated coverage for the audit admin's URLs: every URL the AuditEvent admin serves is
walked, so a new one cannot go untested. Customers never get in; a consultant never sees
another team's event through any of them."""

import pytest
from django.contrib import admin
from django.urls import reverse

import audit
from audit.models import AuditEvent

SECRET_LABEL = "globex-only-file.dmp"


def audit_admin_urls() -> list[tuple[str, tuple[str, ...]]]:
    model_admin = admin.site._registry[AuditEvent]
    names = []
    for pattern in model_admin.get_urls():
        if pattern.name:
            names.append((pattern.name, tuple(pattern.pattern.converters)))
    return names


URLS = audit_admin_urls()


def build(name: str, params: tuple[str, ...], event: AuditEvent) -> str:
    kwargs = {}
    for param in params:
        kwargs[param] = {"object_id": str(event.pk), "fmt": "jsonl"}.get(param, "x")
    return reverse(f"admin:{name}", kwargs=kwargs)


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_the_walk_finds_the_export_and_the_detail():
    names = {n for n, _ in URLS}
    assert {"audit_auditevent_changelist", "audit_auditevent_change", "audit_auditevent_export"} <= names


@pytest.mark.parametrize(("name", "params"), URLS, ids=[n for n, _ in URLS])
class TestAuditAdminIsolation:
    def test_a_customer_is_sent_to_the_admin_sign_in(self, name, params, client, tenants):
        event = audit.record("upload.created", actor=tenants.alice, target=tenants.project_a, name="a.dmp")
        client.force_login(tenants.alice)
        response = client.get(build(name, params, event))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]

    def test_a_consultant_never_sees_another_teams_event(self, name, params, client, tenants):
        foreign = audit.record(
            "upload.created", actor=tenants.bob, target=tenants.project_b, name=SECRET_LABEL
        )
        client.force_login(tenants.consultant)
        response = client.get(build(name, params, foreign), follow=True)
        assert response.status_code in (200, 403, 404)
        assert SECRET_LABEL not in body(response)


def test_a_consultant_sees_sign_ins_of_their_own_and_their_customers_but_no_one_elses(client, tenants):
    own = audit.record("mfa.enabled", actor=tenants.consultant, target=tenants.consultant)
    customer = audit.record("auth.login.succeeded", actor=tenants.alice, target=tenants.alice)
    foreign = audit.record("auth.login.succeeded", actor=tenants.bob, target=tenants.bob)
    other_staff = audit.record("auth.login.succeeded", actor=tenants.other_consultant)
    client.force_login(tenants.consultant)
    page = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    shown = {e.pk for e in (own, customer, foreign, other_staff) if f"/{e.pk}/change/" in page}
    assert shown == {own.pk, customer.pk}
    filtered = client.get(reverse("admin:audit_auditevent_changelist"), {"action": "auth.login.succeeded"})
    assert f"/{customer.pk}/change/" in filtered.content.decode()
