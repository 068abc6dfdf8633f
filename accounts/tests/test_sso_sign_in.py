"""Sign in with SSO, in Chromium, through the local Cognito-like IdP."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from accounts import invitations
from accounts.models import Invitation, Membership
from accounts.tests.conftest import idp_form_login, sso_sign_in
from audit.models import AuditEvent

pytestmark = [pytest.mark.django_db(transaction=True)]

ACME_IDP = [{"providerName": "AcmeAD", "providerType": "SAML", "userId": "x", "primary": "true"}]
GLOBEX_IDP = [{"providerName": "GlobexOkta", "providerType": "OIDC", "userId": "y", "primary": "true"}]


@pytest.fixture
def sso_tenants(tenants):
    tenants.org_a.sso_providers = "AcmeAD"
    tenants.org_a.email_domains = "acme.example"
    tenants.org_a.idp_hint = "AcmeAD"
    tenants.org_a.save()
    tenants.org_b.sso_providers = "GlobexOkta"
    tenants.org_b.email_domains = "globex.example"
    tenants.org_b.save()
    return tenants


def invite(org, email, by, **kw):
    return invitations.create_invitation(org, email, "uploader", by, **kw)


def refusals(reason):
    return AuditEvent.objects.filter(action="auth.sso.refused", data__reason=reason)


def test_invited_user_signs_in_and_lands_on_projects(sso_tenants, idp, page, live_server):
    invite(sso_tenants.org_a, "carol@acme.example", sso_tenants.consultant)
    idp.set_account("carol", email="carol@acme.example", email_verified=True, identities=ACME_IDP)

    sso_sign_in(page, live_server.url, "carol")

    assert page.url == f"{live_server.url}/projects/"
    assert page.get_by_text("Oracle migration").is_visible()
    carol = User.objects.get(email="carol@acme.example")
    assert not carol.has_usable_password()
    assert Membership.objects.get(user=carol).organization == sso_tenants.org_a
    assert Invitation.objects.get(email="carol@acme.example").accepted_by == carol
    assert AuditEvent.objects.filter(action="invitation.accepted", data__method="sso").exists()
    assert AuditEvent.objects.filter(action="auth.login.succeeded", actor=carol).exists()


def test_existing_member_signs_in_again_with_linked_identity(sso_tenants, idp, page, live_server):
    idp.set_account("alice", email="alice@acme.example", email_verified="true", identities=ACME_IDP)
    sso_sign_in(page, live_server.url, "alice")
    assert page.url == f"{live_server.url}/projects/"
    page.click("text=Sign out")
    # The IdP still has a session (as Cognito's hosted UI would): no second login form.
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("text=Sign in with SSO")
    page.wait_for_url(f"{live_server.url}/projects/")
    assert sso_tenants.alice.socialaccount_set.count() == 1


def test_unknown_identity_is_refused(sso_tenants, idp, page, live_server):
    idp.set_account("mallory", email="mallory@acme.example", email_verified=True, identities=ACME_IDP)
    users_before = User.objects.count()

    sso_sign_in(page, live_server.url, "mallory")

    assert page.get_by_role("heading", name="No access").is_visible()
    assert page.get_by_text("There is no invitation for this email address").is_visible()
    assert User.objects.count() == users_before
    assert refusals("not_invited").filter(data__email="mallory@acme.example").exists()


@pytest.mark.parametrize("verified", [False, "false", "False", None])
def test_unverified_email_is_refused(sso_tenants, idp, page, live_server, verified):
    invite(sso_tenants.org_a, "carol@acme.example", sso_tenants.consultant)
    claims = {"email": "carol@acme.example", "identities": ACME_IDP}
    if verified is not None:
        claims["email_verified"] = verified
    idp.set_account("carol", **claims)

    sso_sign_in(page, live_server.url, "carol")

    assert page.get_by_role("heading", name="No access").is_visible()
    assert page.get_by_text("did not confirm that your email address is verified").is_visible()
    assert not User.objects.filter(email="carol@acme.example").exists()
    assert Invitation.objects.get(email="carol@acme.example").accepted_at is None
    assert refusals("email_unverified").exists()


def test_expired_invitation_is_refused(sso_tenants, idp, page, live_server):
    invitation = invite(sso_tenants.org_a, "carol@acme.example", sso_tenants.consultant)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    idp.set_account("carol", email="carol@acme.example", email_verified=True, identities=ACME_IDP)

    sso_sign_in(page, live_server.url, "carol")

    assert page.get_by_text("Your invitation has expired").is_visible()
    assert not User.objects.filter(email="carol@acme.example").exists()
    assert refusals("invitation_expired").exists()


def test_other_organisations_idp_cannot_claim_an_acme_address(sso_tenants, idp, page, live_server):
    invite(sso_tenants.org_a, "carol@acme.example", sso_tenants.consultant)
    # Globex's IdP asserts an Acme address as verified: Cognito would pass that through.
    idp.set_account("evil", email="carol@acme.example", email_verified=True, identities=GLOBEX_IDP)

    sso_sign_in(page, live_server.url, "evil")

    assert page.get_by_role("heading", name="No access").is_visible()
    assert not User.objects.filter(email="carol@acme.example").exists()
    assert refusals("organization_mismatch").exists()


def test_other_organisations_idp_cannot_take_over_existing_user(sso_tenants, idp, page, live_server):
    idp.set_account("evil", email="alice@acme.example", email_verified=True, identities=GLOBEX_IDP)
    sso_sign_in(page, live_server.url, "evil")
    assert page.get_by_role("heading", name="No access").is_visible()
    assert not sso_tenants.alice.socialaccount_set.exists()


def test_sso_never_links_to_a_staff_account(sso_tenants, idp, page, live_server):
    sso_tenants.org_a.email_domains = "acme.example, example.com"
    sso_tenants.org_a.save()
    idp.set_account("c", email="consultant@example.com", email_verified=True, identities=ACME_IDP)

    sso_sign_in(page, live_server.url, "c")

    assert page.get_by_text("Consultant accounts cannot sign in with SSO").is_visible()
    consultant = User.objects.get(email="consultant@example.com")
    assert consultant.has_usable_password()
    assert not consultant.socialaccount_set.exists()


def test_work_email_sends_organisation_idp_hint_to_cognito(sso_tenants, idp, page, live_server):
    authorize_urls = []
    page.on("request", lambda r: authorize_urls.append(r.url) if "/oauth2/authorize" in r.url else None)
    idp.set_account("alice", email="alice@acme.example", email_verified=True, identities=ACME_IDP)

    sso_sign_in(page, live_server.url, "alice", email_hint="alice@acme.example")

    assert page.url == f"{live_server.url}/projects/"
    assert "identity_provider=AcmeAD" in authorize_urls[0]
    assert "code_challenge_method=S256" in authorize_urls[0]


def test_invitation_link_offers_sso_with_the_organisation_hint(sso_tenants, idp, page, live_server, settings):
    settings.PORTAL_ORIGINS = [live_server.url]
    invite(sso_tenants.org_a, "carol@acme.example", sso_tenants.consultant)
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/invitations/" in line).strip()
    idp.set_account("carol", email="carol@acme.example", email_verified=True, identities=ACME_IDP)
    authorize_urls = []
    page.on("request", lambda r: authorize_urls.append(r.url) if "/oauth2/authorize" in r.url else None)

    page.goto(link)
    assert page.get_by_role("heading", name="Join Acme").is_visible()
    page.click("text=Sign in with SSO")
    idp_form_login(page, "carol")

    assert page.url == f"{live_server.url}/projects/"
    assert "identity_provider=AcmeAD" in authorize_urls[0]
    page.goto(link)
    assert page.get_by_text("already been accepted").is_visible()
