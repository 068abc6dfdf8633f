"""With moto's IAM-auth mode on, requests signed with the vended credentials are accepted
for the upload and anything tampered with is refused. (moto does not evaluate session
policies: test_session_policy covers those with an IAM evaluator.)"""

import dataclasses
import json
import os

import pytest
from botocore.exceptions import ClientError

from uploads import s3
from uploads.bucket import ensure_local_uploader_role
from uploads.models import Upload
from uploads.tests.helpers import (
    client_with,
    complete,
    create,
    credentials_of,
    post_json,
    send_parts,
)


@pytest.fixture
def iam_enforced(moto, bucket, monkeypatch):
    """The portal runs as an IAM user with its own keys; the uploader role exists; then
    moto starts checking every signature and policy."""
    iam = s3.client("iam")
    iam.create_user(UserName="portal-server")
    iam.put_user_policy(
        UserName="portal-server",
        PolicyName="portal",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:*", "sts:AssumeRole", "sts:SetSourceIdentity"],
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="portal-server")["AccessKey"]
    ensure_local_uploader_role()
    # Trust exactly the portal's identity, as docs/storage.md tells AWS administrators to.
    user_arn = iam.get_user(UserName="portal-server")["User"]["Arn"]
    iam.update_assume_role_policy(
        RoleName="upload-portal-uploader",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": user_arn},
                        "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                    }
                ],
            }
        ),
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    # No bucket policy here: moto's IAM-auth mode ignores condition keys, so the portal's
    # conditional deny statements (non-TLS, SSE-C) would deny every request.
    moto.set_auth(True)
    yield
    moto.set_auth(False)


def start(client, project, data):
    up = create(client, project, data).json()
    resp = post_json(client, f"/api/uploads/{up['id']}/credentials")
    assert resp.status_code == 200, resp.content
    return up, credentials_of(resp.json())


class TestIamAuthMode:
    def test_parts_signed_with_the_credentials_are_accepted(self, alice_client, tenants, iam_enforced):
        data = os.urandom(9000)
        up, creds = start(alice_client, tenants.project_a, data)
        send_parts(creds, up, data)
        resp = complete(alice_client, up, data)
        assert resp.status_code == 200, resp.content
        assert Upload.objects.get(pk=up["id"]).status == Upload.Status.UPLOADED

    def test_a_wrong_secret_is_refused(self, alice_client, tenants, iam_enforced):
        data = os.urandom(5000)
        up, creds = start(alice_client, tenants.project_a, data)
        forged = dataclasses.replace(creds, secret_access_key=creds.secret_access_key[:-4] + "AAAA")
        with pytest.raises(ClientError) as exc:
            send_parts(forged, up, data)
        assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"

    def test_an_unknown_key_or_token_is_refused(self, alice_client, tenants, iam_enforced):
        data = os.urandom(5000)
        up, creds = start(alice_client, tenants.project_a, data)
        # S3's own codes for each forgery, so a refusal for another reason (a policy, a
        # missing bucket) cannot pass for this one.
        for forged, code in (
            (dataclasses.replace(creds, access_key_id="ASIAFORGEDFORGEDFORG"), "InvalidAccessKeyId"),
            (dataclasses.replace(creds, session_token="bm90LWEtdG9rZW4="), "InvalidToken"),
        ):
            with pytest.raises(ClientError) as exc:
                send_parts(forged, up, data)
            assert exc.value.response["Error"]["Code"] == code

    def test_actions_outside_the_role_are_refused(self, alice_client, tenants, iam_enforced, bucket):
        data = os.urandom(5000)
        up, creds = start(alice_client, tenants.project_a, data)
        send_parts(creds, up, data)
        c = client_with(creds)
        for call in (
            lambda: c.list_objects_v2(Bucket=bucket),
            lambda: c.list_multipart_uploads(Bucket=bucket),
            lambda: c.abort_multipart_upload(
                Bucket=bucket, Key=up["key"], UploadId=up["multipart_upload_id"]
            ),
            lambda: c.delete_bucket_policy(Bucket=bucket),
        ):
            with pytest.raises(ClientError) as exc:
                call()
            assert exc.value.response["Error"]["Code"] == "AccessDenied"
