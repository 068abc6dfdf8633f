"""Inviting customers, and accepting with a password."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import invitations
from accounts.models import Invitation, Membership
from audit.models import AuditEvent
from conftest import TEST_PASSWORD

NEW_PASSWORD = "a-long-enough-passphrase"


def link_from(message) -> str:
    return next(line for line in message.body.splitlines() if "/invitations/" in line).strip()


@pytest.fixture
def invited(tenants, settings):
    settings.PORTAL_ORIGINS = ["http://testserver"]
    invitation = invitations.create_invitation(
        tenants.org_a, "Carol@Acme.example", "viewer", tenants.consultant
    )
    return invitation


@pytest.mark.django_db(transaction=True)
def test_it_emails_an_expiring_link(invited):
    assert invited.email == "carol@acme.example"
    assert invited.expires_at - timezone.now() > timedelta(days=6)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["carol@acme.example"]
    assert link_from(mail.outbox[0]).startswith("http://testserver/invitations/")
    # Only a hash is stored.
    assert invited.token_hash not in link_from(mail.outbox[0])
    assert AuditEvent.objects.filter(action="invitation.created", organization=invited.organization).exists()


@pytest.mark.django_db(transaction=True)
def test_accepting_with_a_password_creates_the_member(invited, client):
    url = link_from(mail.outbox[0]).replace("http://testserver", "")
    assert b"Join Acme" in client.get(url).content

    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/projects/"
    carol = User.objects.get(email="carol@acme.example")
    assert carol.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=carol).role == "viewer"
    assert client.get("/projects/").status_code == 200
    assert AuditEvent.objects.filter(action="invitation.accepted", data__method="password").exists()


@pytest.mark.django_db(transaction=True)
def test_accepting_twice_says_already_accepted(invited, client):
    url = link_from(mail.outbox[0]).replace("http://testserver", "")
    client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    client.post("/accounts/logout/")

    response = client.post(url, {"password1": "another-passphrase-1", "password2": "another-passphrase-1"})

    assert response.status_code == 410
    assert b"already been accepted" in response.content
    assert User.objects.get(email="carol@acme.example").check_password(NEW_PASSWORD)


@pytest.mark.django_db(transaction=True)
def test_expired_link_says_expired_and_creates_nothing(invited, client):
    Invitation.objects.filter(pk=invited.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    url = link_from(mail.outbox[0]).replace("http://testserver", "")

    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 410
    assert b"This invitation expired on" in response.content
    assert not User.objects.filter(email="carol@acme.example").exists()


@pytest.mark.django_db(transaction=True)
def test_it_rejects_a_weak_password(invited, client):
    url = link_from(mail.outbox[0]).replace("http://testserver", "")
    response = client.post(url, {"password1": "short", "password2": "short"})
    assert response.status_code == 200
    assert b"too short" in response.content
    assert not User.objects.filter(email="carol@acme.example").exists()


@pytest.mark.django_db(transaction=True)
def test_resend_replaces_the_link_and_revoke_stops_it(invited, tenants, client):
    old_url = link_from(mail.outbox[0]).replace("http://testserver", "")
    invitations.resend_invitation(invited, tenants.consultant)
    new_url = link_from(mail.outbox[1]).replace("http://testserver", "")
    assert client.get(old_url).status_code == 404
    assert client.get(new_url).status_code == 200

    invitations.revoke_invitation(Invitation.objects.get(pk=invited.pk), tenants.consultant)

    response = client.get(new_url)
    assert response.status_code == 410 and b"withdrawn" in response.content
    assert AuditEvent.objects.filter(action="invitation.revoked").exists()
    with pytest.raises(ValidationError):
        invitations.resend_invitation(Invitation.objects.get(pk=invited.pk), tenants.consultant)


@pytest.mark.django_db
def test_it_refuses_to_invite_staff_or_existing_members(tenants):
    with pytest.raises(ValidationError, match="consultant"):
        invitations.create_invitation(tenants.org_a, "consultant@example.com", "uploader", tenants.consultant)
    with pytest.raises(ValidationError, match="already a member"):
        invitations.create_invitation(tenants.org_a, "alice@acme.example", "uploader", tenants.consultant)
    assert not Invitation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_existing_customer_signs_in_to_accept(tenants, client, settings):
    settings.PORTAL_ORIGINS = ["http://testserver"]
    invitations.create_invitation(tenants.org_b, "alice@acme.example", "viewer", tenants.consultant)
    url = link_from(mail.outbox[0]).replace("http://testserver", "")

    # No password form for an existing account: the link must not reset its password.
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert b"You already have an account" in response.content
    assert User.objects.get(email="alice@acme.example").check_password(TEST_PASSWORD)

    client.post("/accounts/login/", {"login": "alice@acme.example", "password": TEST_PASSWORD})
    response = client.post(url)
    assert response.status_code == 302
    assert Membership.objects.filter(user=tenants.alice, organization=tenants.org_b, role="viewer").exists()


@pytest.mark.django_db(transaction=True)
def test_consultant_invites_from_admin_and_resends_and_revokes(tenants, client, settings):

    settings.PORTAL_ORIGINS = ["http://testserver"]
    client.force_login(tenants.consultant)

    response = client.post(
        "/admin/accounts/invitation/add/",
        {"organization": tenants.org_a.pk, "email": "dave@acme.example", "role": "uploader"},
    )
    assert response.status_code == 302, response.content[:2000]
    invitation = Invitation.objects.get(email="dave@acme.example")
    assert invitation.invited_by == tenants.consultant
    assert len(mail.outbox) == 1

    # Another team's organisation is not offered.
    response = client.post(
        "/admin/accounts/invitation/add/",
        {"organization": tenants.org_b.pk, "email": "eve@globex.example", "role": "uploader"},
    )
    assert response.status_code == 200
    assert not Invitation.objects.filter(email="eve@globex.example").exists()

    changelist = "/admin/accounts/invitation/"
    client.post(changelist, {"action": "resend", "_selected_action": [invitation.pk]})
    assert len(mail.outbox) == 2
    client.post(changelist, {"action": "revoke", "_selected_action": [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"invitation.created", "invitation.resent", "invitation.revoked"} <= actions


@pytest.mark.django_db(transaction=True)
def test_the_email_names_who_invited_them_and_the_projects(invited, tenants):
    body = mail.outbox[0].body
    assert "consultant@example.com has invited you to Upload Portal for Acme" in body
    assert "Projects waiting for your files:\n- Oracle migration" in body
    # Acme has no SSO configured here: no promise of single sign-on.
    assert "single sign-on" not in body


@pytest.mark.django_db(transaction=True)
def test_password_fields_ask_for_a_new_password_and_sso_shows_only_for_sso_organisations(
    invited, client, settings
):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "cognito",
                    "name": "SSO",
                    "client_id": "x",
                    "secret": "y",
                    "settings": {"server_url": "http://127.0.0.1:1"},
                }
            ]
        }
    }
    url = link_from(mail.outbox[0]).replace("http://testserver", "")
    html = client.get(url).content.decode()
    assert html.count('autocomplete="new-password"') == 2
    assert "Sign in with SSO" not in html
    invited.organization.sso_providers = "AcmeAD"
    invited.organization.save()
    assert "Sign in with SSO" in client.get(url).content.decode()
