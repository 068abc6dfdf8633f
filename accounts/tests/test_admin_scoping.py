"""A non-superuser consultant sees and edits only their account teams' organisations, in
admin too, and cannot escalate anyone's privileges."""

import uuid

import pytest
from django.contrib.auth.models import User

from accounts.models import Membership, Organization
from audit.models import AuditEvent
from conftest import with_mfa
from uploads.models import Upload, UploadProject


@pytest.fixture
def consultant_client(client, tenants):
    client.force_login(with_mfa(tenants.consultant))
    return client


@pytest.mark.django_db
class TestOrganizationAdmin:
    def test_it_lists_only_team_organisations(self, consultant_client):
        html = consultant_client.get("/admin/accounts/organization/").content.decode()
        assert "Acme" in html
        assert "Globex" not in html

    def test_foreign_organisation_change_page_is_not_found(self, consultant_client, tenants):
        response = consultant_client.get(f"/admin/accounts/organization/{tenants.org_b.pk}/change/")
        # Django admin redirects to the index with "doesn't exist" for a missing object.
        assert response.status_code == 302
        assert Organization.objects.get(pk=tenants.org_b.pk).name == "Globex"

    def test_consultant_creates_organisation_and_stays_on_its_team(self, consultant_client, tenants):
        response = consultant_client.post(
            "/admin/accounts/organization/add/",
            {
                "name": "Initech",
                "slug": "initech",
                "is_active": "on",
                "memberships-TOTAL_FORMS": "0",
                "memberships-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        org = Organization.objects.get(slug="initech")
        assert tenants.consultant in org.account_team.all()
        assert AuditEvent.objects.filter(action="admin.organization.created", organization=org).exists()

    def test_it_refuses_unsafe_slugs(self, consultant_client):
        for slug in ["..", "a/b", "acme\u0430", "", "UPPER", "-lead", "a..b", "a b"]:
            response = consultant_client.post(
                "/admin/accounts/organization/add/",
                {
                    "name": "Bad",
                    "slug": slug,
                    "memberships-TOTAL_FORMS": "0",
                    "memberships-INITIAL_FORMS": "0",
                },
            )
            assert response.status_code == 200, slug
            html = response.content.decode()
            assert "This field is required" in html or "storage path" in html, slug
        assert not Organization.objects.filter(name="Bad").exists()

    def test_slug_cannot_change_once_projects_exist(self, consultant_client, tenants):
        response = consultant_client.post(
            f"/admin/accounts/organization/{tenants.org_a.pk}/change/",
            {
                "name": "Acme",
                "slug": "acme-renamed",
                "is_active": "on",
                "account_team": [tenants.consultant.pk],
                "memberships-TOTAL_FORMS": "0",
                "memberships-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 200
        assert "can no longer change" in response.content.decode()
        assert Organization.objects.get(pk=tenants.org_a.pk).slug == "acme"

    def test_edit_is_audited_with_before_and_after(self, consultant_client, tenants):
        memberships = Membership.objects.filter(organization=tenants.org_a).order_by("pk")
        data = {
            "name": "Acme Ltd",
            "slug": "acme",
            "is_active": "on",
            "account_team": [tenants.consultant.pk],
            "memberships-TOTAL_FORMS": str(len(memberships)),
            "memberships-INITIAL_FORMS": str(len(memberships)),
        }
        for i, m in enumerate(memberships):
            data.update(
                {
                    f"memberships-{i}-id": m.pk,
                    f"memberships-{i}-organization": tenants.org_a.pk,
                    f"memberships-{i}-user": m.user_id,
                    f"memberships-{i}-role": m.role,
                }
            )
        response = consultant_client.post(f"/admin/accounts/organization/{tenants.org_a.pk}/change/", data)
        assert response.status_code == 302
        event = AuditEvent.objects.get(action="admin.organization.changed")
        assert event.data["changes"]["name"] == {"before": "Acme", "after": "Acme Ltd"}
        assert event.actor == tenants.consultant


@pytest.mark.django_db
class TestProjectAdmin:
    def test_it_lists_only_team_projects(self, consultant_client):
        html = consultant_client.get("/admin/uploads/uploadproject/").content.decode()
        assert "Oracle migration" in html
        assert "Globex ledger" not in html

    def test_it_creates_a_project_with_derived_prefix(self, consultant_client, tenants):
        response = consultant_client.post(
            "/admin/uploads/uploadproject/add/",
            {
                "organization": tenants.org_a.pk,
                "name": "Q4 data",
                "slug": "q4-data",
                "status": "open",
                "quota_bytes": 10**12,
                "grace_period_hours": 24,
                "abandon_after_hours": 168,
                "max_file_size": 10**11,
                "uploads-TOTAL_FORMS": "0",
                "uploads-INITIAL_FORMS": "0",
                "expected_files-TOTAL_FORMS": "0",
                "expected_files-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302, (
            response.context["adminform"].form.errors,
            [
                (f.formset.prefix, f.formset.errors, f.formset.non_form_errors())
                for f in response.context["inline_admin_formsets"]
            ],
        )
        project = UploadProject.objects.get(slug="q4-data")
        assert project.key_prefix == "acme/q4-data/"
        assert project.created_by == tenants.consultant

    def test_sizes_are_typed_and_shown_in_units(self, consultant_client, tenants):
        form = {
            "organization": tenants.org_a.pk,
            "name": "Sized",
            "slug": "sized",
            "status": "open",
            "quota_bytes": "2 TiB",
            "grace_period_hours": 24,
            "abandon_after_hours": 168,
            "max_file_size": "200 GB",
            "uploads-TOTAL_FORMS": "0",
            "uploads-INITIAL_FORMS": "0",
            "expected_files-TOTAL_FORMS": "0",
            "expected_files-INITIAL_FORMS": "0",
        }
        assert consultant_client.post("/admin/uploads/uploadproject/add/", form).status_code == 302
        project = UploadProject.objects.get(slug="sized")
        assert (project.quota_bytes, project.max_file_size) == (2 * 1024**4, 200 * 10**9)
        html = consultant_client.get(f"/admin/uploads/uploadproject/{project.pk}/change/").content.decode()
        assert 'value="2.0 TiB"' in html and 'value="186.3 GiB"' in html
        assert "Organisation" in html and "Organization" not in html
        response = consultant_client.post(
            "/admin/uploads/uploadproject/add/", {**form, "slug": "x", "quota_bytes": "lots"}
        )
        assert response.status_code == 200 and "is not a size" in response.content.decode()

    def test_it_refuses_a_project_in_a_foreign_organisation(self, consultant_client, tenants):
        response = consultant_client.post(
            "/admin/uploads/uploadproject/add/",
            {
                "organization": tenants.org_b.pk,
                "name": "Sneaky",
                "slug": "sneaky",
                "status": "open",
                "quota_bytes": 10**12,
                "grace_period_hours": 24,
                "abandon_after_hours": 168,
                "max_file_size": 10**11,
                "uploads-TOTAL_FORMS": "0",
                "uploads-INITIAL_FORMS": "0",
                "expected_files-TOTAL_FORMS": "0",
                "expected_files-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        assert not UploadProject.objects.filter(slug="sneaky").exists()

    def test_project_slug_cannot_change_once_uploads_exist(self, consultant_client, tenants):
        Upload.objects.create(
            project=tenants.project_a,
            original_name="a.dmp",
            object_key=f"acme/oracle/{uuid.uuid4()}/a.dmp",
            size=1,
            part_size=1,
            part_count=1,
        )
        response = consultant_client.post(
            f"/admin/uploads/uploadproject/{tenants.project_a.pk}/change/",
            {
                "organization": tenants.org_a.pk,
                "name": "Oracle migration",
                "slug": "renamed",
                "status": "open",
                "quota_bytes": 10**12,
                "grace_period_hours": 24,
                "abandon_after_hours": 168,
                "max_file_size": 10**11,
                "uploads-TOTAL_FORMS": "1",
                "uploads-INITIAL_FORMS": "1",
            },
        )
        assert response.status_code == 200
        assert "can no longer change" in response.content.decode()
        assert UploadProject.objects.get(pk=tenants.project_a.pk).key_prefix == "acme/oracle/"

    def test_foreign_uploads_are_not_listed(self, consultant_client, tenants):
        Upload.objects.create(
            project=tenants.project_b,
            original_name="globex.dmp",
            object_key=f"globex/ledger/{uuid.uuid4()}/globex.dmp",
            size=1,
            part_size=1,
            part_count=1,
        )
        html = consultant_client.get("/admin/uploads/upload/").content.decode()
        assert "globex.dmp" not in html


@pytest.mark.django_db
class TestCustomerUserAdmin:
    def test_it_lists_only_customers_of_team_organisations(self, consultant_client):
        html = consultant_client.get("/admin/accounts/customeruser/").content.decode()
        assert "alice@acme.example" in html
        assert "bob@globex.example" not in html
        assert "other-consultant@example.com" not in html

    def test_foreign_customer_is_not_found(self, consultant_client, tenants):
        response = consultant_client.get(f"/admin/accounts/customeruser/{tenants.bob.pk}/change/")
        assert response.status_code == 302

    def test_stock_user_admin_is_for_superusers_only(self, consultant_client, tenants):
        assert consultant_client.get("/admin/auth/user/").status_code == 403
        assert consultant_client.get(f"/admin/auth/user/{tenants.alice.pk}/change/").status_code == 403

    def test_consultant_creates_a_customer_in_their_organisation(self, consultant_client, tenants):
        response = consultant_client.post(
            "/admin/accounts/customeruser/add/",
            {
                "email": "Carol@Acme.example",
                "first_name": "Carol",
                "last_name": "C",
                "organization": tenants.org_a.pk,
                "role": "uploader",
                "password": "",
                "is_active": "on",
                # Forged privilege fields: not in the form, so ignored.
                "is_staff": "on",
                "is_superuser": "on",
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        carol = User.objects.get(email="carol@acme.example")
        assert not carol.is_staff and not carol.is_superuser
        assert not carol.has_usable_password()
        assert Membership.objects.get(user=carol).organization == tenants.org_a
        assert AuditEvent.objects.filter(action="membership.added", organization=tenants.org_a).exists()

    def test_consultant_cannot_make_anyone_staff(self, consultant_client, tenants):
        response = consultant_client.post(
            f"/admin/accounts/customeruser/{tenants.alice.pk}/change/",
            {
                "email": "alice@acme.example",
                "first_name": "",
                "last_name": "",
                "is_active": "on",
                "is_staff": "on",
                "is_superuser": "on",
                "groups": [],
                "user_permissions": [],
                "memberships-TOTAL_FORMS": "0",
                "memberships-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302
        tenants.alice.refresh_from_db()
        assert not tenants.alice.is_staff and not tenants.alice.is_superuser

    def test_it_refuses_a_customer_in_a_foreign_organisation(self, consultant_client, tenants):
        response = consultant_client.post(
            "/admin/accounts/customeruser/add/",
            {
                "email": "mallory@example.com",
                "organization": tenants.org_b.pk,
                "role": "uploader",
                "is_active": "on",
            },
        )
        assert response.status_code == 200
        assert not User.objects.filter(email="mallory@example.com").exists()

    def test_customers_cannot_open_admin(self, client, tenants):
        client.force_login(tenants.alice)
        response = client.get("/admin/accounts/organization/")
        assert response.status_code == 302
        assert "/login/" in response["Location"]
