"""Consultants must use an authenticator app; /admin/login/ goes through allauth."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value

from accounts.tests.conftest import password_sign_in
from audit.models import AuditEvent
from conftest import TEST_PASSWORD, without_mfa


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture(autouse=True)
def _one_step_tolerance(settings):
    # A code computed just before a 30 s boundary must not make the test flaky.
    settings.MFA_TOTP_TOLERANCE = 1


@pytest.mark.django_db(transaction=True)
def test_staff_is_sent_to_set_up_totp_before_admin(tenants, page, live_server):
    without_mfa(tenants.consultant)
    page.goto(f"{live_server.url}/admin/")
    assert "/accounts/login/" in page.url
    password_sign_in(page, live_server.url, "consultant@example.com", next_url="/admin/")

    # allauth asks for the password again before a security change.
    assert "/accounts/reauthenticate/" in page.url
    assert "totp" in page.url
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/" not in page.url.replace(live_server.url, "").split("?")[0], "admin reachable without MFA"
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/2fa/totp/activate/" in page.url

    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", totp_code(secret))
    page.click("main button[type=submit]")
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/admin/")
    assert page.url == f"{live_server.url}/admin/"
    assert page.get_by_text("Upload Portal: consultants").first.is_visible()
    assert Authenticator.objects.filter(user=tenants.consultant, type="totp").exists()
    assert AuditEvent.objects.filter(action="mfa.enabled", actor=tenants.consultant).exists()


@pytest.mark.django_db(transaction=True)
def test_staff_with_totp_gets_mfa_challenge(tenants, page, live_server):
    secret = generate_totp_secret()
    TOTP.activate(without_mfa(tenants.consultant), secret)

    password_sign_in(page, live_server.url, "consultant@example.com", next_url="/admin/")
    assert "/accounts/2fa/authenticate/" in page.url
    page.fill("input[name=code]", "000000" if totp_code(secret) != "000000" else "111111")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/2fa/authenticate/" in page.url
    assert AuditEvent.objects.filter(action="auth.login.failed", data__reason="mfa_code_invalid").exists()

    page.fill("input[name=code]", totp_code(secret))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/admin/"


@pytest.mark.django_db
def test_password_only_post_to_admin_login_does_not_reach_admin(tenants, client):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "consultant@example.com", "password": TEST_PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_staff_password_sign_in_without_totp_is_held_at_setup(tenants, client):
    without_mfa(tenants.consultant)
    response = client.post("/accounts/login/", {"login": "consultant@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/admin/accounts/organization/").status_code == 302


@pytest.mark.django_db
def test_customer_of_organisation_requiring_mfa_must_set_it_up(tenants, client):
    tenants.org_a.mfa_required = True
    tenants.org_a.save()
    client.post("/accounts/login/", {"login": "alice@acme.example", "password": TEST_PASSWORD})
    response = client.get("/projects/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


@pytest.mark.django_db
def test_customer_of_organisation_not_requiring_mfa_goes_straight_in(tenants, client):
    client.post("/accounts/login/", {"login": "alice@acme.example", "password": TEST_PASSWORD})
    assert client.get("/projects/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_background_requests_and_reloads_do_not_change_the_secret_being_set_up(tenants, page, live_server):
    # A desktop browser fetches /favicon.ico after drawing each page, with the page's cookies;
    # headless Chromium does not always, so the page does it here as a person's browser would.
    without_mfa(tenants.consultant)
    password_sign_in(page, live_server.url, "consultant@example.com", next_url="/admin/")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/2fa/totp/activate/" in page.url
    secret = page.input_value("#authenticator_secret")

    favicon = page.evaluate(
        "async () => { const r = await fetch('/favicon.ico', {credentials: 'same-origin'});"
        " return [r.status, r.headers.get('content-type'), r.redirected]; }"
    )
    assert favicon == [200, "image/x-icon", False]
    background = page.evaluate(
        "async () => { const r = await fetch('/projects/', {credentials: 'same-origin'});"
        " return [r.status, r.redirected]; }"
    )
    assert background == [403, False]
    page.reload()
    assert page.input_value("#authenticator_secret") == secret

    page.fill("input[name=code]", totp_code(secret))
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "Incorrect code" not in page.content()
    assert Authenticator.objects.filter(user=tenants.consultant, type="totp").exists()


@pytest.mark.django_db
def test_favicon_and_health_check_are_served_to_a_user_without_required_mfa(tenants, client):
    without_mfa(tenants.consultant)
    client.force_login(tenants.consultant)
    response = client.get("/favicon.ico", headers={"Sec-Fetch-Dest": "image"})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_background_request_of_a_page_is_refused_not_redirected_to_mfa_setup(tenants, client):
    without_mfa(tenants.consultant)
    client.force_login(tenants.consultant)
    response = client.get("/admin/", headers={"Sec-Fetch-Dest": "image"})
    assert response.status_code == 403
    response = client.get("/admin/", headers={"Sec-Fetch-Dest": "document"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
