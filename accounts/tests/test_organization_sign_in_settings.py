"""Consultants set an organisation's SSO and MFA rules in admin."""

import pytest

from accounts.models import Organization
from audit.models import AuditEvent


@pytest.fixture
def consultant_client(tenants, client):
    client.force_login(tenants.consultant)
    return client


def form_data(org, **changes):
    data = {
        "name": org.name,
        "slug": org.slug,
        "is_active": "on",
        "account_team": [u.pk for u in org.account_team.all()],
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "sso_providers": "",
        "email_domains": "",
        "idp_hint": "",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_it_saves_sso_settings_and_audits_them(tenants, consultant_client):
    url = f"/admin/accounts/organization/{tenants.org_a.pk}/change/"
    response = consultant_client.post(
        url,
        form_data(
            tenants.org_a,
            sso_providers="AcmeAD, AcmeOkta",
            email_domains="acme.example",
            idp_hint="AcmeAD",
            mfa_required="on",
        ),
    )
    assert response.status_code == 302, response.content[:3000]
    org = Organization.objects.get(pk=tenants.org_a.pk)
    assert org.accepted_sso_providers() == {"AcmeAD", "AcmeOkta"}
    assert org.mfa_required
    event = AuditEvent.objects.get(action="admin.organization.changed")
    assert event.data["changes"]["sso_providers"]["after"] == "AcmeAD, AcmeOkta"


@pytest.mark.django_db
def test_it_rejects_a_malformed_domain(tenants, consultant_client):
    url = f"/admin/accounts/organization/{tenants.org_a.pk}/change/"
    response = consultant_client.post(url, form_data(tenants.org_a, email_domains="acme.example, @evil"))
    assert response.status_code == 200
    assert b"is not a domain name" in response.content
    assert Organization.objects.get(pk=tenants.org_a.pk).email_domains == ""


def test_accepts_sso_identity_needs_both_idp_and_domain():
    org = Organization(sso_providers="AcmeAD", email_domains="acme.example")
    assert org.accepts_sso_identity({"AcmeAD"}, "a@ACME.example")
    assert not org.accepts_sso_identity({"GlobexOkta"}, "a@acme.example")
    assert not org.accepts_sso_identity({"AcmeAD", "GlobexOkta"}, "a@acme.example")
    assert not org.accepts_sso_identity({"AcmeAD"}, "a@sub.acme.example")
    assert not org.accepts_sso_identity(set(), "a@acme.example")
    assert not Organization().accepts_sso_identity({"COGNITO"}, "a@acme.example")
