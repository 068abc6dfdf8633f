"""The default customer directory is the portal itself: inviting, disabling and enabling
customers in admin never call Cognito, and customers keep their password sign-in."""

import pytest
from django.conf import settings as django_settings
from django.core import mail

from accounts import cognito, directories
from accounts.models import Invitation
from audit.models import AuditEvent
from audit.tests.helpers import admin_form_data
from conftest import TEST_PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def no_cognito(monkeypatch):
    calls = []
    monkeypatch.setattr(cognito, "call", lambda operation, **kw: calls.append(operation))
    return calls


def test_local_is_the_default():
    assert django_settings.CUSTOMER_DIRECTORY == "local"
    assert directories.current().name == "local" and directories.current().customer_passwords


def test_invite_disable_and_enable_never_call_cognito(no_cognito, tenants, client, settings):
    settings.PORTAL_ORIGINS = ["http://testserver"]
    client.force_login(tenants.consultant)
    client.post(
        "/admin/accounts/invitation/add/",
        {"organization": tenants.org_a.pk, "email": "carol@acme.example", "role": "uploader"},
    )
    invitation = Invitation.objects.get(email="carol@acme.example")
    client.post("/admin/accounts/invitation/", {"action": "resend", "_selected_action": [invitation.pk]})
    url = f"/admin/accounts/customeruser/{tenants.alice.pk}/change/"
    for active in (False, True):
        data = admin_form_data(client.get(url))
        data.pop("is_active", None)
        if active:
            data["is_active"] = "on"
        assert client.post(url, data).status_code == 302

    assert no_cognito == []
    assert len(mail.outbox) == 2 and "set a password" in mail.outbox[0].body
    assert not AuditEvent.objects.filter(action__startswith="directory.").exists()
    # Nothing to push anywhere, so admin does not offer it.
    assert "push_to_directory" not in client.get("/admin/accounts/customeruser/").content.decode()


def test_customers_sign_in_with_a_password(no_cognito, tenants, client):
    response = client.post("/accounts/login/", {"login": "alice@acme.example", "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/projects/"
