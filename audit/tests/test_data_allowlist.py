from django.urls import reverse

import audit
from audit.models import AuditEvent
from conftest import TEST_PASSWORD


class TestDataAllowlist:
    def test_it_drops_keys_outside_the_allowlist_and_says_so(self, db):
        event = audit.record("auth.logout", actor_label="a", reason="ok", favourite_colour="blue")
        assert event.data == {"reason": "ok", "_dropped": ["favourite_colour"]}

    def test_it_drops_secret_named_keys_even_when_nested(self, db):
        event = audit.record(
            "admin.organization.changed",
            actor_label="a",
            changes={"name": {"before": "A", "after": "B"}, "api_token": {"before": "x", "after": "y"}},
            session_token="IQoJb3JpZ2luX2VjEJr",
        )
        assert event.data["changes"]["name"] == {"before": "A", "after": "B"}
        assert event.data["changes"]["api_token"] == "[redacted]"
        assert "session_token" not in event.data
        assert event.data["_dropped"] == ["session_token"]

    def test_it_redacts_values_that_look_like_credentials(self, db):
        secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
        event = audit.record(
            "request.refused",
            actor_label="a",
            message=f"key ASIAIOSFODNN7EXAMPLE secret {secret} jwt {jwt}",
        )
        assert "ASIAIOSFODNN7EXAMPLE" not in event.data["message"]
        assert secret not in event.data["message"]
        assert jwt not in event.data["message"]

    def test_it_keeps_an_access_key_id_only_under_its_own_key_and_shape(self, db):
        secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        kept = audit.record(
            "upload.credentials_issued", actor_label="a", access_key_id="ASIAIOSFODNN7EXAMPLE"
        )
        assert kept.data["access_key_id"] == "ASIAIOSFODNN7EXAMPLE"
        smuggled = audit.record("upload.credentials_issued", actor_label="a", access_key_id=f"x {secret}")
        assert secret not in smuggled.data["access_key_id"]

    def test_it_keeps_checksums_and_file_names(self, db):
        sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        event = audit.record(
            "upload.completed",
            actor_label="a",
            checksum_sha256=sha,
            checksum_crc64nvme="rosUhgp5mIg=",
            version_id="3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
        )
        assert event.data["checksum_sha256"] == sha
        assert event.data["checksum_crc64nvme"] == "rosUhgp5mIg="

    def test_a_failed_sign_in_never_records_the_password(self, db, client, tenants):
        client.post(
            reverse("account_login"), {"login": "alice@acme.example", "password": "Wrong-" + TEST_PASSWORD}
        )
        event = AuditEvent.objects.get(action="auth.login.failed")
        assert event.data["identifier"] == "alice@acme.example"
        assert TEST_PASSWORD not in str(event.data)
        assert "password" not in event.data
