"""CUSTOMER_DIRECTORY=cognito: deactivating a customer in admin disables them in the Cognito
user pool, activating enables them again (moto's cognito-idp over HTTP)."""

import pytest
from django.contrib.auth.models import User

from audit.models import AuditEvent
from audit.tests.helpers import admin_form_data

pytestmark = [pytest.mark.django_db(transaction=True)]


def change_url(user) -> str:
    return f"/admin/accounts/customeruser/{user.pk}/change/"


def set_active(client, user, active: bool):
    data = admin_form_data(client.get(change_url(user)))
    if active:
        data["is_active"] = "on"
    else:
        data.pop("is_active", None)
    response = client.post(change_url(user), data, follow=True)
    assert response.redirect_chain, response.content[:2000]
    return response


def test_disable_then_enable_in_admin_reaches_the_pool(cognito_pool, tenants, client):
    cognito_pool.add_user("alice@acme.example")
    client.force_login(tenants.consultant)

    set_active(client, tenants.alice, False)

    assert not User.objects.get(pk=tenants.alice.pk).is_active
    assert cognito_pool.user("alice@acme.example")["Enabled"] is False
    disabled = AuditEvent.objects.get(action="directory.user_disabled")
    assert disabled.data == {"email": "alice@acme.example", "directory": "cognito", "existed": True}
    assert disabled.actor == tenants.consultant

    set_active(client, tenants.alice, True)

    assert User.objects.get(pk=tenants.alice.pk).is_active
    assert cognito_pool.user("alice@acme.example")["Enabled"] is True
    assert AuditEvent.objects.filter(action="directory.user_enabled").count() == 1


def test_saving_without_changing_is_active_calls_nothing(cognito_pool, tenants, client):
    cognito_pool.add_user("alice@acme.example")
    client.force_login(tenants.consultant)
    set_active(client, tenants.alice, True)
    assert not AuditEvent.objects.filter(action__startswith="directory.").exists()


def test_a_customer_the_pool_does_not_know_is_disabled_here_without_error(cognito_pool, tenants, client):
    client.force_login(tenants.consultant)
    response = set_active(client, tenants.alice, False)
    assert not User.objects.get(pk=tenants.alice.pk).is_active
    assert "Cognito did not" not in response.content.decode()
    assert AuditEvent.objects.get(action="directory.user_disabled").data["existed"] is False
