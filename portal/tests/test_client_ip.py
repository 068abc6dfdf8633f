import pytest
from django.test import RequestFactory

from audit.models import AuditEvent
from portal.net import client_ip


@pytest.fixture
def rf():
    return RequestFactory()


class TestClientIp:
    def test_it_uses_the_socket_peer_without_proxies(self, rf, settings):
        settings.TRUSTED_PROXY_COUNT = 0
        request = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
        assert client_ip(request) == "198.51.100.7"

    def test_it_ignores_addresses_the_client_forged(self, rf, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        # The client sent "1.2.3.4" itself; the one proxy appended the real peer.
        request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
        assert client_ip(request) == "203.0.113.9"

    def test_it_counts_two_proxies_from_the_right(self, rf, settings):
        settings.TRUSTED_PROXY_COUNT = 2
        request = rf.get("/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9, 10.0.0.2")
        assert client_ip(request) == "203.0.113.9"

    def test_it_falls_back_to_the_peer_when_the_header_is_short(self, rf, settings):
        settings.TRUSTED_PROXY_COUNT = 2
        request = rf.get("/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="203.0.113.9")
        assert client_ip(request) == "10.0.0.3"


@pytest.mark.django_db
def test_audit_events_carry_the_client_address_and_agent(client, tenants, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client.post(
        "/accounts/login/",
        {"login": "alice@acme.example", "password": "wrong"},
        HTTP_X_FORWARDED_FOR="203.0.113.50",
        HTTP_USER_AGENT="TestBrowser/1.0",
    )
    event = AuditEvent.objects.filter(action="auth.login.failed").latest("id")
    assert event.ip == "203.0.113.50"
    assert event.user_agent == "TestBrowser/1.0"
    assert "wrong" not in str(event.data)
