"""CUSTOMER_DIRECTORY=cognito: an invitation made in admin creates the invitee's user in the
Cognito user pool (moto's cognito-idp over HTTP), marked verified."""

import pytest
from django.core import mail

from accounts.models import Invitation
from audit.models import AuditEvent

pytestmark = [pytest.mark.django_db(transaction=True)]

ADD = "/admin/accounts/invitation/add/"
CHANGELIST = "/admin/accounts/invitation/"


@pytest.fixture
def consultant(tenants, client, settings):
    settings.PORTAL_ORIGINS = ["http://testserver"]
    client.force_login(tenants.consultant)
    return client


def invite(client, tenants, email="carol@acme.example"):
    response = client.post(ADD, {"organization": tenants.org_a.pk, "email": email, "role": "uploader"})
    assert response.status_code == 302, response.content[:2000]
    return Invitation.objects.get(email=email)


def test_an_invitation_in_admin_creates_the_verified_pool_user(cognito_pool, consultant, tenants):
    invitation = invite(consultant, tenants)

    user = cognito_pool.user("carol@acme.example")
    assert user is not None and user["Enabled"]
    assert user["attributes"]["email"] == "carol@acme.example"
    assert user["attributes"]["email_verified"] == "true"
    # Cognito stayed silent: the portal's email went out, leading to the SSO button.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["carol@acme.example"]
    assert 'choose "Sign in with SSO"' in mail.outbox[0].body
    assert "set a password" not in mail.outbox[0].body
    event = AuditEvent.objects.get(action="directory.user_created")
    assert event.data == {
        "email": "carol@acme.example",
        "directory": "cognito",
        "existed": False,
        "directory_email": False,
    }
    assert event.organization == tenants.org_a and event.target_id == str(invitation.pk)


def test_inviting_someone_already_in_the_pool_is_fine_and_so_is_resending(cognito_pool, consultant, tenants):
    cognito_pool.add_user("carol@acme.example")

    invitation = invite(consultant, tenants)
    resend = {"action": "resend", "_selected_action": [invitation.pk]}
    response = consultant.post(CHANGELIST, resend, follow=True)

    assert "1 invitation(s) resent." in response.content.decode()
    assert len(mail.outbox) == 2
    events = AuditEvent.objects.filter(action="directory.user_created").order_by("id")
    assert [e.data["existed"] for e in events] == [True, True]
    assert not AuditEvent.objects.filter(action="directory.failed").exists()


def test_cognito_can_send_its_own_invitation_instead(cognito_pool, consultant, tenants, settings):
    settings.COGNITO_SENDS_INVITATION = True

    invitation = invite(consultant, tenants)

    assert cognito_pool.user("carol@acme.example")["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert mail.outbox == []
    assert Invitation.objects.get(pk=invitation.pk).sent_at is not None
    assert AuditEvent.objects.get(action="directory.user_created").data["directory_email"] is True
    # A re-invitation finds the user there: Cognito sends nothing, so the portal does.
    consultant.post(CHANGELIST, {"action": "resend", "_selected_action": [invitation.pk]})
    assert len(mail.outbox) == 1


def test_the_invitation_page_offers_only_the_sso_button(cognito_pool, consultant, tenants, client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "cognito",
                    "name": "SSO",
                    "client_id": cognito_pool.client_id,
                    "secret": "s",
                    "settings": {"server_url": f"{settings.AWS_ENDPOINT_URL}/{cognito_pool.pool_id}"},
                }
            ]
        }
    }
    invite(consultant, tenants)
    consultant.logout()
    link = next(line for line in mail.outbox[0].body.splitlines() if "/invitations/" in line).strip()
    path = link.replace("http://testserver", "")

    html = client.get(path).content.decode()
    assert "Sign in with SSO" in html
    assert "Set a password" not in html and 'name="password1"' not in html
    # Nor can a password be set by posting one.
    client.post(path, {"password1": "a-long-enough-passphrase", "password2": "a-long-enough-passphrase"})
    assert Invitation.objects.get(email="carol@acme.example").accepted_at is None
