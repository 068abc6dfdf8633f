"""CUSTOMER_DIRECTORY=cognito with Cognito unreachable: staff get a clear admin message,
never a 500, and nothing is lost. The invitation stays and is retried with "Resend"; a
disabled customer stays disabled and is pushed again with an action."""

import pytest
from django.contrib.auth.models import User
from django.core import mail

from accounts.models import Invitation
from audit.models import AuditEvent
from audit.tests.helpers import admin_form_data
from conftest import free_port

pytestmark = [pytest.mark.django_db(transaction=True)]

CHANGELIST = "/admin/accounts/invitation/"


@pytest.fixture
def cognito_down(cognito_pool, settings):
    working = settings.AWS_ENDPOINT_URL
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    return working


def test_an_invitation_is_kept_and_resending_retries_it(
    cognito_pool, cognito_down, tenants, client, settings
):
    settings.PORTAL_ORIGINS = ["http://testserver"]
    client.force_login(tenants.consultant)

    response = client.post(
        "/admin/accounts/invitation/add/",
        {"organization": tenants.org_a.pk, "email": "carol@acme.example", "role": "uploader"},
        follow=True,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Cognito did not create the user carol@acme.example: it could not be reached." in html
    assert "choose “Resend” to try again" in html
    invitation = Invitation.objects.get(email="carol@acme.example")
    assert invitation.is_pending and invitation.sent_at is None
    assert mail.outbox == []
    failed = AuditEvent.objects.get(action="directory.failed")
    assert failed.data["operation"] == "create_user" and failed.data["code"] == "Unavailable"
    assert AuditEvent.objects.filter(action="invitation.created").exists()

    settings.AWS_ENDPOINT_URL = cognito_down
    response = client.post(CHANGELIST, {"action": "resend", "_selected_action": [invitation.pk]}, follow=True)

    assert "1 invitation(s) resent." in response.content.decode()
    assert cognito_pool.user("carol@acme.example") is not None
    assert len(mail.outbox) == 1


def test_a_failed_resend_says_so_instead_of_counting_it(cognito_pool, tenants, client, settings):
    from accounts import invitations

    org, by = tenants.org_a, tenants.consultant
    invitation = invitations.create_invitation(org, "carol@acme.example", "uploader", by)
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    client.force_login(tenants.consultant)

    response = client.post(CHANGELIST, {"action": "resend", "_selected_action": [invitation.pk]}, follow=True)

    html = response.content.decode()
    assert "Cognito did not create the user carol@acme.example" in html
    assert "invitation(s) resent" not in html
    assert Invitation.objects.get(pk=invitation.pk).is_pending


def test_disabling_is_kept_here_and_can_be_pushed_again(
    cognito_pool, cognito_down, tenants, client, settings
):
    cognito_pool.add_user("alice@acme.example")
    client.force_login(tenants.consultant)
    url = f"/admin/accounts/customeruser/{tenants.alice.pk}/change/"
    data = admin_form_data(client.get(url))
    data.pop("is_active")

    response = client.post(url, data, follow=True)

    assert response.status_code == 200
    assert "Cognito did not disable the user alice@acme.example: it could not be reached." in (
        response.content.decode()
    )
    assert not User.objects.get(pk=tenants.alice.pk).is_active
    assert AuditEvent.objects.get(action="directory.failed").data["operation"] == "disable_user"

    settings.AWS_ENDPOINT_URL = cognito_down
    response = client.post(
        "/admin/accounts/customeruser/",
        {"action": "push_to_directory", "_selected_action": [tenants.alice.pk]},
        follow=True,
    )

    assert "1 user(s) updated in the customer directory." in response.content.decode()
    assert cognito_pool.user("alice@acme.example")["Enabled"] is False
