"""Every customer URL, found by walking the URL configuration, keeps tenants apart: a
second organisation's ids answer 404 and its names never appear. A new URL whose
parameters this test does not know fails here until it is covered."""

import json
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from uploads.models import DeletionCertificate, Upload

# Prefixes that are not customer-facing data views: Django admin (scoped separately, see
# accounts/tests/test_admin_scoping.py), allauth's sign-in pages, static files and the
# API's own schema/docs pages.
NOT_CUSTOMER_DATA = ("admin/", "accounts/", "static/", "api/schema", "api/docs", "invitations/")

# Request bodies that pass validation, so the tenant check (not the schema) answers.
SAMPLE_BODIES: dict[str, dict] = {
    "uploads": {"name": "x.dmp", "relative_path": "", "size": 10, "content_type": "", "last_modified": 0},
    "cli-credentials": {"name": "x.dmp", "size": 10},
    "complete": {"checksum_crc64nvme": "AAAAAAAAAAA=", "checksum_sha256": "0" * 64},
    "progress": {"bytes_done": 0, "parts": []},
}


def walk(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route, p


def customer_routes():
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith(NOT_CUSTOMER_DATA) or route.startswith("^"):
            continue
        yield route, pattern


def fill(route: str, values: dict[str, str]) -> str:
    import re

    def sub(m):
        name = m.group("name")
        if name not in values:
            pytest.fail(
                f"URL {route!r} has a parameter {name!r} this test cannot fill: "
                "add a foreign value for it so the route is tested."
            )
        return str(values[name])

    return "/" + re.sub(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>", sub, route)


@pytest.fixture
def foreign(tenants):
    upload_b = Upload.objects.create(
        project=tenants.project_b,
        uploaded_by=tenants.bob,
        original_name="globex-secret.dmp",
        object_key=f"{tenants.project_b.key_prefix}{uuid.uuid4()}/globex-secret.dmp",
        size=100,
        part_size=100,
        part_count=1,
    )
    certificate_b = DeletionCertificate.objects.create(
        project=tenants.project_b,
        scope=DeletionCertificate.Scope.FILE,
        target=upload_b.object_key,
        rule="globex-secret deleted",
        completed_at=timezone.now(),
    )
    return {
        "project_id": tenants.project_b.pk,
        "upload_id": upload_b.pk,
        "id": upload_b.pk,
        "certificate_id": certificate_b.pk,
    }


def test_routes_were_found():
    routes = [r for r, _ in customer_routes()]
    assert any("project_id" in r for r in routes)


@pytest.mark.django_db
def test_every_customer_url_hides_other_tenants(client, tenants, foreign):
    client.force_login(tenants.alice)
    checked = 0
    for route, _pattern in customer_routes():
        has_params = "<" in route
        url = fill(route, foreign)
        last = route.rstrip("/").rsplit("/", 1)[-1]
        responses = [client.get(url)]
        if has_params:
            body = SAMPLE_BODIES.get(last, {})
            responses.append(client.post(url, json.dumps(body), content_type="application/json"))
        for response in responses:
            if has_params:
                # 405 means the route has no such method at all: nothing was reached.
                assert response.status_code in (404, 405), (
                    f"{response.request['REQUEST_METHOD']} {url} answered "
                    f"{response.status_code} for another tenant's id"
                )
            body_text = response.content.decode(errors="replace")
            assert "Globex" not in body_text, f"{url} shows another tenant's organisation"
            assert "globex-secret" not in body_text, f"{url} shows another tenant's upload"
        checked += 1
    assert checked >= 2


@pytest.mark.django_db
def test_own_project_is_reachable(client, tenants):
    client.force_login(tenants.alice)
    response = client.get(f"/projects/{tenants.project_a.pk}/")
    assert response.status_code == 200
    assert "Oracle migration" in response.content.decode()
