"""CUSTOMER_DIRECTORY=cognito: customers sign in through Cognito's managed login only (the
SSO button); staff keep their local password and TOTP. Users of the pool itself are accepted
for the organisation that invited them, whatever its SSO lists say."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import sso
from accounts.directories.cognito import CognitoDirectory
from accounts.models import Invitation
from audit.models import AuditEvent
from conftest import TEST_PASSWORD

pytestmark = [pytest.mark.django_db]

SSO_ONLY = "Customers sign in with the &quot;Sign in with SSO&quot; button below."


@pytest.fixture
def cognito_directory(settings):
    settings.CUSTOMER_DIRECTORY = "cognito"


def pending_invitation(org, email: str) -> Invitation:
    # Made directly: these tests are about sign-in, not about reaching the pool.
    return Invitation.objects.create(
        organization=org, email=email, token_hash=email, expires_at=timezone.now() + timedelta(days=1)
    )


def test_a_customer_password_is_refused_with_a_pointer_to_sso(cognito_directory, tenants, client):
    response = client.post("/accounts/login/", {"login": "alice@acme.example", "password": TEST_PASSWORD})

    assert response.status_code == 200
    html = response.content.decode()
    assert SSO_ONLY in html
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.login.failed")
    assert event.data["reason"] == "customer_directory_sso_only"
    assert event.data["identifier"] == "alice@acme.example"


def test_an_unknown_address_gets_the_same_answer(cognito_directory, tenants, client):
    response = client.post("/accounts/login/", {"login": "nobody@acme.example", "password": "whatever-it-is"})
    assert SSO_ONLY in response.content.decode()


def test_staff_still_sign_in_with_their_password(cognito_directory, tenants, client):
    response = client.post("/accounts/login/", {"login": "consultant@example.com", "password": TEST_PASSWORD})
    # On to the TOTP step: the password was accepted.
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"


def test_the_login_page_sends_customers_to_the_sso_button(cognito_directory, client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "cognito",
                    "name": "SSO",
                    "client_id": "c",
                    "secret": "s",
                    "settings": {"server_url": "http://127.0.0.1:9/unused"},
                }
            ]
        }
    }
    html = client.get("/accounts/login/").content.decode()
    assert 'Customers: use <a href="#sso-form">Sign in with SSO</a> below.' in html
    assert 'id="sso-form"' in html


def test_a_pool_user_is_accepted_for_the_organisation_that_invited_them(cognito_directory, tenants):
    # Acme lists no SSO identity providers or domains at all.
    invitation = pending_invitation(tenants.org_a, "carol@acme.example")
    token = {"email": "carol@acme.example", "email_verified": "true"}  # no identities: a pool user

    decision = sso.decide(sso.COGNITO_PROVIDER_ID, {"id_token": token}, None)

    assert not decision.refused and decision.invitation == invitation


def test_only_pool_users_are_vouched_for_not_federated_ones():
    directory = CognitoDirectory()
    assert directory.vouches_for({sso.COGNITO_NATIVE})
    assert not directory.vouches_for({"GlobexOkta"})
    assert not directory.vouches_for({sso.COGNITO_NATIVE, "GlobexOkta"})


def test_a_federated_identity_still_needs_the_organisations_lists(cognito_directory, tenants):
    pending_invitation(tenants.org_a, "carol@acme.example")
    token = {
        "email": "carol@acme.example",
        "email_verified": True,
        "identities": [{"providerName": "GlobexOkta"}],
    }
    assert sso.decide(sso.COGNITO_PROVIDER_ID, {"id_token": token}, None).refusal == "organization_mismatch"
