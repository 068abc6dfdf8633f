import pytest

from accounts.models import Membership, Organization
from uploads.models import UploadProject


@pytest.mark.django_db
class TestProjectList:
    def test_it_requires_sign_in(self, client):
        response = client.get("/projects/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_it_shows_only_own_organisations_projects(self, client, tenants):
        client.force_login(tenants.alice)
        html = client.get("/projects/").content.decode()
        assert "Oracle migration" in html
        assert "Globex ledger" not in html

    def test_it_shows_projects_of_every_membership(self, client, tenants):
        Membership.objects.create(user=tenants.alice, organization=tenants.org_b, role="viewer")
        client.force_login(tenants.alice)
        html = client.get("/projects/").content.decode()
        assert "Oracle migration" in html and "Globex ledger" in html

    def test_it_hides_projects_of_inactive_organisations(self, client, tenants):
        Organization.objects.filter(pk=tenants.org_a.pk).update(is_active=False)
        client.force_login(tenants.alice)
        html = client.get("/projects/").content.decode()
        assert "Oracle migration" not in html
        assert client.get(f"/projects/{tenants.project_a.pk}/").status_code == 404

    def test_staff_without_membership_see_no_customer_projects(self, client, tenants):
        client.force_login(tenants.consultant)
        html = client.get("/projects/").content.decode()
        assert "Oracle migration" not in html

    def test_closed_project_is_marked_closed(self, client, tenants):
        UploadProject.objects.filter(pk=tenants.project_a.pk).update(status="closed")
        client.force_login(tenants.alice)
        html = client.get("/projects/").content.decode()
        assert "Closed" in html
