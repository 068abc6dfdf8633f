"""The portal, pointed at the deployed stack's outputs (bucket, uploader role, region), takes
an upload end to end through its own API: create, vended credentials, parts sent with them
the way the browser sends them, complete. The object is then in the deployed bucket."""

import os

import pytest

from deploy.tests.conftest import aws
from uploads.tests.helpers import client_with, complete, send_parts, sha256_hex, start


@pytest.fixture
def small_parts(settings):
    # The tests' moto accepts 1 KiB parts; the portal plans with the same unit.
    settings.UPLOAD_MIN_PART_SIZE = 4 * 1024
    settings.UPLOAD_PART_SIZE_UNIT = 1024


def test_a_customer_upload_lands_in_the_deployed_bucket(
    deployed, moto, small_parts, tenants, client, settings
):
    from uploads.models import Upload

    # The deployed bucket policy's conditional denies (non-TLS, SSE-C) are read by moto as
    # unconditional and refuse everything (docs/storage.md), so it goes for this test, as the
    # portal itself leaves it out on moto (UPLOAD_BUCKET_POLICY=false). test_moto_deploy
    # checks the policy that was deployed.
    s3 = aws("s3", moto)
    s3.delete_bucket_policy(Bucket=deployed.env["UPLOAD_BUCKET"])
    client.force_login(tenants.alice)
    data = os.urandom(10 * 1024 + 321)
    up, creds = start(client, tenants.project_a, data)
    assert up["bucket"] == deployed.env["UPLOAD_BUCKET"]
    send_parts(creds, up, data)
    done = complete(client, up, data)
    assert done.status_code == 200, done.content
    version = done.json()["version_id"]

    head = s3.head_object(Bucket=deployed.env["UPLOAD_BUCKET"], Key=up["key"], VersionId=version)
    assert head["ContentLength"] == len(data)
    body = s3.get_object(Bucket=deployed.env["UPLOAD_BUCKET"], Key=up["key"], VersionId=version)[
        "Body"
    ].read()
    assert sha256_hex(body) == sha256_hex(data)
    row = Upload.objects.get(pk=up["id"])
    assert row.status == Upload.Status.UPLOADED and row.version_id == version
    # The credentials the browser used are a session of the deployed uploader role.
    caller = client_with(creds, "sts").get_caller_identity()["Arn"]
    role_name = deployed.env["UPLOADER_ROLE_ARN"].rsplit("/", 1)[1]
    assert caller.startswith(f"arn:aws:sts::123456789012:assumed-role/{role_name}/")
