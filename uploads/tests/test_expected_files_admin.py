"""Staff list a project's expected files in admin; each change is audited, bad entries refused."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.tests.helpers import admin_form_data
from conftest import with_mfa
from uploads.models import ExpectedFile

pytestmark = pytest.mark.django_db


def post_entries(client, project, *entries: dict):
    url = reverse("admin:uploads_uploadproject_change", args=[project.pk])
    data = admin_form_data(client.get(url))
    data["expected_files-TOTAL_FORMS"] = str(len(entries))
    for i, entry in enumerate(entries):
        data.update({f"expected_files-{i}-{k}": v for k, v in entry.items()})
    return client.post(url, data)


@pytest.fixture
def consultant(client, tenants):
    client.force_login(with_mfa(tenants.consultant))
    return client


def test_a_consultant_adds_a_data_pump_set_and_its_log(consultant, tenants):
    response = post_entries(
        consultant,
        tenants.project_a,
        {"order": "1", "kind": "pattern", "pattern": "DUMPFILE=dir1:exp_%U.dmp", "min_size": "1 KiB"},
        {"order": "2", "kind": "datapump_log", "pattern": "exp.log"},
        {"order": "3", "kind": "name", "pattern": "checksums.sha256", "declared_sha256": "AB" * 32},
    )
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    entries = list(tenants.project_a.expected_files.values_list("pattern", "min_size"))
    assert entries == [("DUMPFILE=dir1:exp_%U.dmp", 1024), ("exp.log", None), ("checksums.sha256", None)]
    events = AuditEvent.objects.filter(action="admin.expectedfile.created")
    assert events.count() == 3
    assert {e.project_id for e in events} == {tenants.project_a.pk}
    assert events.first().actor_id == tenants.consultant.pk
    page = consultant.get(reverse("admin:uploads_uploadproject_change", args=[tenants.project_a.pk]))
    assert "Data Pump export log" in page.content.decode()


@pytest.mark.parametrize(
    "entry, field",
    [
        ({"kind": "pattern", "pattern": "/u01/dpdump/exp_%U.dmp"}, "pattern"),
        ({"kind": "name", "pattern": "a.dmp", "min_size": "2 GB", "max_size": "1 GB"}, "max_size"),
        ({"kind": "name", "pattern": "a.dmp", "declared_sha256": "not-hex"}, "declared_sha256"),
        ({"kind": "pattern", "pattern": "exp_%U.dmp", "declared_sha256": "ab" * 32}, "declared_sha256"),
    ],
)
def test_entries_that_cannot_work_are_refused(consultant, tenants, entry, field):
    response = post_entries(consultant, tenants.project_a, {"order": "1", **entry})
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert field in errors[0]
    assert not ExpectedFile.objects.exists()


def test_another_teams_project_is_out_of_reach(client, tenants):
    client.force_login(with_mfa(tenants.other_consultant))
    url = reverse("admin:uploads_uploadproject_change", args=[tenants.project_a.pk])
    assert client.get(url).status_code in (302, 404)
