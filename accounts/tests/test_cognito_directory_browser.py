"""The invitee's path under CUSTOMER_DIRECTORY=cognito, in Chromium: a consultant invites
in admin (the pool user is created in moto's cognito-idp), the invitee opens the emailed
link, finds only "Sign in with SSO", signs in at the managed login (the local IdP stands in
for it: moto has no hosted UI) as a user of the pool, and lands on the projects."""

import pytest
from django.contrib.auth.models import User
from django.core import mail

from accounts.models import Invitation, Membership
from accounts.tests.conftest import idp_form_login

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_an_invited_customer_signs_in_through_the_sso_button(
    cognito_pool, idp, tenants, page, live_server, client
):
    # Acme lists no SSO identity providers or domains: the directory made this user.
    client.force_login(tenants.consultant)
    response = client.post(
        "/admin/accounts/invitation/add/",
        {"organization": tenants.org_a.pk, "email": "carol@acme.example", "role": "uploader"},
    )
    assert response.status_code == 302
    assert cognito_pool.user("carol@acme.example")["attributes"]["email_verified"] == "true"
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/invitations/" in line).strip()
    # Admin was driven with Django's test client, whose host is "testserver".
    link = link.replace("http://testserver", live_server.url)
    # What the pool's managed login would say of its own user: no `identities` claim.
    idp.set_account("carol", email="carol@acme.example", email_verified="true")

    page.goto(link)
    assert page.get_by_role("heading", name="Join Acme").is_visible()
    assert page.locator("input[type=password]").count() == 0
    page.get_by_role("button", name="Sign in with SSO").click()
    idp_form_login(page, "carol")

    assert page.url == f"{live_server.url}/projects/"
    assert page.get_by_text("Oracle migration").is_visible()
    carol = User.objects.get(email="carol@acme.example")
    assert not carol.has_usable_password()
    assert Membership.objects.get(user=carol).organization == tenants.org_a
    assert Invitation.objects.get(email="carol@acme.example").accepted_by == carol

    # Signed out, the password form refuses her and points to the button.
    page.click("text=Sign out")
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("#customer-sign-in").is_visible()
    page.fill("#id_login", "carol@acme.example")
    page.fill("#id_password", "any-password-at-all")
    page.click("form[action='/accounts/login/'] button[type=submit]")
    assert page.get_by_text('Customers sign in with the "Sign in with SSO" button below.').is_visible()
