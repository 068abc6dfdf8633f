"""The AWS CLI path, end to end: the page's command run as it is, against moto over HTTP."""

import os
import subprocess
import sys
from pathlib import Path

from uploads import s3
from uploads.models import Upload
from uploads.tests.helpers import crc64nvme_b64, post_json

BIN = str(Path(sys.executable).parent)


def run_command(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(cwd),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    # The command is what the customer pastes into a shell, so a shell runs it.
    return subprocess.run(  # noqa: S602
        command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


class TestCliUpload:
    def test_the_shown_command_uploads_the_file_and_complete_records_it(
        self, alice_client, tenants, bucket, tmp_path
    ):
        data = os.urandom(9 * 1024 * 1024 + 5)  # above the CLI's 8 MiB multipart threshold
        (tmp_path / "big dump.dmp").write_bytes(data)
        resp = post_json(
            alice_client,
            f"/api/projects/{tenants.project_a.pk}/cli-credentials",
            {"name": "big dump.dmp", "size": len(data)},
        )
        assert resp.status_code == 201, resp.content
        assert resp["Cache-Control"] == "no-store"
        body = resp.json()
        assert body["upload"]["source"] == "cli" and body["upload"]["multipart_upload_id"] == ""
        assert "--checksum-algorithm CRC64NVME" in body["command"]
        assert f"s3://{bucket}/{body['upload']['key']}" in body["command"]

        not_yet = post_json(alice_client, f"/api/uploads/{body['upload']['id']}/complete", {})
        assert not_yet.status_code == 409 and not_yet.json()["code"] == "object_missing"

        proc = run_command(body["command"], tmp_path)
        assert proc.returncode == 0, proc.stderr

        done = post_json(alice_client, f"/api/uploads/{body['upload']['id']}/complete", {})
        assert done.status_code == 200, done.content
        row = Upload.objects.get(pk=body["upload"]["id"])
        assert row.status == Upload.Status.UPLOADED and row.version_id
        assert row.checksum_crc64nvme == crc64nvme_b64(data)
        assert s3.get_object_bytes(row.object_key, row.version_id) == data

    def test_a_file_of_another_size_is_refused(self, alice_client, tenants, bucket, tmp_path):
        (tmp_path / "small.dmp").write_bytes(b"x" * 2000)
        body = post_json(
            alice_client,
            f"/api/projects/{tenants.project_a.pk}/cli-credentials",
            {"name": "small.dmp", "size": 1000},
        ).json()
        assert run_command(body["command"], tmp_path).returncode == 0
        resp = post_json(alice_client, f"/api/uploads/{body['upload']['id']}/complete", {})
        assert resp.status_code == 409 and resp.json()["code"] == "size_mismatch"
        assert Upload.objects.get(pk=body["upload"]["id"]).status == Upload.Status.UPLOADING

    def test_cli_uploads_obey_quota_and_name_rules(self, alice_client, tenants, bucket):
        tenants.project_a.quota_bytes = 100
        tenants.project_a.save()
        url = f"/api/projects/{tenants.project_a.pk}/cli-credentials"
        assert post_json(alice_client, url, {"name": "a.dmp", "size": 101}).json()["code"] == "quota_exceeded"
        assert post_json(alice_client, url, {"name": "../a.dmp", "size": 10}).json()["code"] == "invalid_name"
        assert not Upload.objects.exists()

    def test_the_project_page_offers_the_cli_panel_to_uploaders_only(self, client, alice_client, tenants, db):
        page = alice_client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        assert 'id="cli-upload"' in page and f"/api/projects/{tenants.project_a.pk}/cli-credentials" in page
        client.force_login(tenants.victor)
        assert 'id="cli-upload"' not in client.get(f"/projects/{tenants.project_a.pk}/").content.decode()


class TestCliCredentialLifetime:
    def test_credentials_last_as_long_as_the_copy_needs_within_15_minutes_and_an_hour(self, settings):
        from uploads.lifecycle import cli_credentials_seconds

        settings.UPLOAD_CLI_MIN_SPEED = 2 * 1024 * 1024
        assert cli_credentials_seconds(10) == 900
        assert cli_credentials_seconds(2 * 1024**3) == 1024 + 600
        assert cli_credentials_seconds(200 * 10**9) == 3600

    def test_a_small_file_gets_short_credentials_revoked_once_received(
        self, alice_client, tenants, bucket, tmp_path
    ):
        from django.utils import timezone

        from uploads.models import CredentialRevocation

        data = os.urandom(1000)
        resp = post_json(
            alice_client,
            f"/api/projects/{tenants.project_a.pk}/cli-credentials",
            {"name": "s.dmp", "size": 1000},
        ).json()
        upload = Upload.objects.get(pk=resp["upload"]["id"])
        lifetime = (upload.credentials_expire_at - timezone.now()).total_seconds()
        assert 800 < lifetime <= 900
        s3.client().put_object(Bucket=bucket, Key=upload.object_key, Body=data, ChecksumAlgorithm="CRC64NVME")
        done = post_json(
            alice_client, f"/api/uploads/{upload.pk}/complete", {"checksum_crc64nvme": crc64nvme_b64(data)}
        )
        assert done.status_code == 200, done.content
        revocation = CredentialRevocation.objects.get(kind="prefix", value=upload.object_key)
        assert revocation.expires_at >= upload.credentials_expire_at
