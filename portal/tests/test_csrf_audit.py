"""A failed CSRF check is refused and audited, at most ten a minute per address."""

import pytest
from django.core.cache import cache
from django.test import Client

from audit.models import AuditEvent


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_a_forged_post_is_refused_and_audited(tenants):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenants.alice)
    response = client.post(
        f"/api/projects/{tenants.project_a.pk}/uploads", {}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    response = client.post("/accounts/logout/")
    assert response.status_code == 403
    events = AuditEvent.objects.filter(action="request.refused", data__code="csrf_failed")
    assert events.count() == 2
    assert events.first().actor == tenants.alice


@pytest.mark.django_db
def test_a_flood_is_audited_only_up_to_the_limit(tenants):
    client = Client(enforce_csrf_checks=True)
    for _ in range(30):
        assert client.post("/accounts/login/", {"login": "x", "password": "y"}).status_code == 403
    assert AuditEvent.objects.filter(action="request.refused", data__code="csrf_failed").count() == 10
