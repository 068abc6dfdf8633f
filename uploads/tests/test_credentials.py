import json
import logging
import os
from datetime import timedelta

from django.apps import apps
from django.core import serializers
from django.utils import timezone

from audit.models import AuditEvent
from uploads.models import Upload
from uploads.tests.helpers import create, post_json, upload_fully


def everything_in_the_database() -> str:
    """Every row of every table, serialised: where a leaked secret would show."""
    chunks = []
    for model in apps.get_models():
        chunks.append(serializers.serialize("json", model._default_manager.all()))
    return "\n".join(chunks)


class TestCredentials:
    def test_it_issues_short_lived_credentials_for_the_upload(self, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 5000).json()
        resp = post_json(alice_client, f"/api/uploads/{up['id']}/credentials")
        assert resp.status_code == 200
        assert resp["Cache-Control"] == "no-store"
        body = resp.json()
        assert body["key"] == up["key"] and body["bucket"] == bucket
        assert body["access_key_id"] and body["secret_access_key"] and body["session_token"]
        expires = timezone.datetime.fromisoformat(body["expiration"].replace("Z", "+00:00"))
        server_time = timezone.datetime.fromisoformat(body["server_time"].replace("Z", "+00:00"))
        assert timedelta(minutes=14) < expires - server_time <= timedelta(minutes=15, seconds=5)
        row = Upload.objects.get(pk=up["id"])
        assert row.status == Upload.Status.UPLOADING
        assert abs(row.credentials_expire_at - expires) < timedelta(milliseconds=1)
        event = AuditEvent.objects.get(action="upload.credentials_issued")
        assert event.data["expires_at"] == row.credentials_expire_at.isoformat()
        assert event.actor == tenants.alice

    def test_secrets_never_reach_the_database_audit_or_logs(self, alice_client, tenants, bucket, caplog):
        caplog.set_level(logging.DEBUG)
        up = create(alice_client, tenants.project_a, 5000).json()
        browser = post_json(alice_client, f"/api/uploads/{up['id']}/credentials").json()
        cli = post_json(
            alice_client,
            f"/api/projects/{tenants.project_a.pk}/cli-credentials",
            {"name": "big.dmp", "size": 10_000},
        ).json()["credentials"]
        dump = everything_in_the_database()
        logs = caplog.text
        for secret in (
            browser["secret_access_key"],
            browser["session_token"],
            cli["secret_access_key"],
            cli["session_token"],
        ):
            assert secret not in dump
            assert secret not in logs
        assert browser["access_key_id"] in dump  # the audit keeps the key id for CloudTrail

    def test_it_refuses_once_the_upload_is_complete(self, alice_client, tenants, bucket):
        done = upload_fully(alice_client, tenants.project_a, os.urandom(5000))
        resp = post_json(alice_client, f"/api/uploads/{done['id']}/credentials")
        assert resp.status_code == 409 and resp.json()["code"] == "upload_not_active"

    def test_it_refuses_after_abort(self, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 5000).json()
        post_json(alice_client, f"/api/uploads/{up['id']}/abort")
        resp = post_json(alice_client, f"/api/uploads/{up['id']}/credentials")
        assert resp.status_code == 409 and resp.json()["code"] == "upload_not_active"

    def test_it_refuses_when_the_project_is_closed(self, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 5000).json()
        tenants.project_a.status = "closed"
        tenants.project_a.save()
        resp = post_json(alice_client, f"/api/uploads/{up['id']}/credentials")
        assert resp.status_code == 409 and resp.json()["code"] == "project_closed"

    def test_uploads_started_before_the_deadline_may_continue(self, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 5000).json()
        tenants.project_a.open_until = timezone.now() - timedelta(seconds=1)
        tenants.project_a.save()
        assert post_json(alice_client, f"/api/uploads/{up['id']}/credentials").status_code == 200

    def test_it_rejects_a_viewer_and_other_tenants(self, client, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 5000).json()
        client.force_login(tenants.victor)
        resp = post_json(client, f"/api/uploads/{up['id']}/credentials")
        assert resp.status_code == 403 and resp.json()["code"] == "not_allowed"
        client.force_login(tenants.bob)
        resp = post_json(client, f"/api/uploads/{up['id']}/credentials")
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
        assert post_json(client, "/api/uploads/not-a-uuid/credentials").status_code == 404
        assert not AuditEvent.objects.filter(action="upload.credentials_issued").exists()

    def test_the_configured_lifetime_is_used(self, alice_client, tenants, bucket, settings):
        settings.UPLOAD_CREDENTIALS_SECONDS = 3600
        up = create(alice_client, tenants.project_a, 5000).json()
        post_json(alice_client, f"/api/uploads/{up['id']}/credentials")
        assert AuditEvent.objects.get(action="upload.credentials_issued").data["seconds"] == 3600

    def test_audit_data_is_plain_json(self, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 5000).json()
        post_json(alice_client, f"/api/uploads/{up['id']}/credentials")
        data = AuditEvent.objects.get(action="upload.credentials_issued").data
        assert set(data) == {"expires_at", "seconds", "access_key_id", "session_name", "source_identity"}
        json.dumps(data)
