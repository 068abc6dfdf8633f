"""Repeated failed sign-ins are refused for a while, even with the right password."""

import pytest

from accounts.tests.conftest import password_sign_in
from audit.models import AuditEvent


@pytest.mark.django_db(transaction=True)
def test_it_refuses_after_repeated_failures(tenants, page, live_server):
    for _ in range(5):
        password_sign_in(page, live_server.url, "alice@acme.example", "wrong-password-123")
        assert page.get_by_text(
            "The email address and/or password you specified are not correct"
        ).is_visible()

    password_sign_in(page, live_server.url, "alice@acme.example")

    assert "/accounts/login/" in page.url
    assert page.get_by_text("Too many failed login attempts").is_visible()
    assert AuditEvent.objects.filter(action="auth.login.failed", data__reason="bad_credentials").count() == 5
    assert AuditEvent.objects.filter(action="auth.login.failed", data__reason="rate_limited").exists()
    assert not AuditEvent.objects.filter(action="auth.login.succeeded").exists()


@pytest.mark.django_db
def test_other_addresses_are_not_locked_out(tenants, client):
    for _ in range(5):
        client.post("/accounts/login/", {"login": "alice@acme.example", "password": "wrong-password-123"})
    response = client.post("/accounts/login/", {"login": "victor@acme.example", "password": "x" * 0 + "bad"})
    assert b"Too many failed login attempts" not in response.content
