"""Removing a member or closing a project cuts off live credentials through the bucket
policy. moto does not evaluate condition keys, so the written policy is checked with the
IAM evaluator, together with the real session policy."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership
from audit.models import AuditEvent
from uploads import lifecycle, s3
from uploads.models import CredentialRevocation
from uploads.tests.helpers import create, post_json
from uploads.tests.iam import WIDE_ROLE_POLICY, captured_assume_role, simulate


@pytest.fixture(autouse=True)
def bucket_policy_on(settings):
    # The policy is what these tests are about; it is off by default on moto.
    settings.UPLOAD_BUCKET_POLICY = True


@pytest.fixture
def live_upload(alice_client, tenants, bucket):
    with captured_assume_role() as calls:
        up = create(alice_client, tenants.project_a, 5000).json()
        assert post_json(alice_client, f"/api/uploads/{up['id']}/credentials").status_code == 200
    return up, json.loads(calls[0]["Policy"])


def put_result(bucket: str, key: str, session_policy: dict, identity: str) -> str:
    (result,) = simulate(
        [
            {
                "action": "s3:PutObject",
                "resource": f"arn:aws:s3:::{bucket}/{key}",
                "identityPolicies": [WIDE_ROLE_POLICY],
                "sessionPolicy": session_policy,
                "resourcePolicy": s3.get_bucket_policy(),
                "context": {
                    "aws:SourceIdentity": identity,
                    "aws:PrincipalArn": "arn:aws:iam::123456789012:role/upload-portal-uploader",
                    "aws:SecureTransport": "true",
                },
            }
        ]
    )
    return result


class TestRevocation:
    def test_removing_a_member_denies_their_source_identity(
        self, live_upload, tenants, bucket, django_capture_on_commit_callbacks
    ):
        up, policy = live_upload
        lifecycle.apply_bucket_policy()
        assert put_result(bucket, up["key"], policy, "alice@acme.example") == "Allowed"
        with django_capture_on_commit_callbacks(execute=True):
            Membership.objects.get(user=tenants.alice).delete()
        statement = {s["Sid"]: s for s in s3.get_bucket_policy()["Statement"]}["DenyRevokedIdentities"]
        assert statement["Condition"] == {"StringEquals": {"aws:SourceIdentity": ["alice@acme.example"]}}
        assert put_result(bucket, up["key"], policy, "alice@acme.example") == "ExplicitlyDenied"
        assert put_result(bucket, up["key"], policy, "someone@else.example") == "Allowed"
        event = AuditEvent.objects.get(action="credentials.revoked")
        assert event.data["reason"] == "membership removed" and event.organization == tenants.org_a

    def test_demoting_to_viewer_revokes_too(self, live_upload, tenants, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            m = Membership.objects.get(user=tenants.alice)
            m.role = Membership.Role.VIEWER
            m.save()
        assert CredentialRevocation.objects.get().value == "alice@acme.example"

    def test_members_without_live_credentials_change_nothing(self, tenants, bucket):
        Membership.objects.get(user=tenants.bob).delete()
        assert not CredentialRevocation.objects.exists()
        assert not AuditEvent.objects.filter(action="credentials.revoked").exists()

    def test_closing_a_project_denies_puts_under_its_prefix(
        self, live_upload, tenants, bucket, django_capture_on_commit_callbacks
    ):
        up, policy = live_upload
        with django_capture_on_commit_callbacks(execute=True):
            tenants.project_a.status = "closed"
            tenants.project_a.save()
        statement = {s["Sid"]: s for s in s3.get_bucket_policy()["Statement"]}["DenyClosedProjects"]
        assert statement["Resource"] == [f"arn:aws:s3:::{bucket}/acme/oracle/*"]
        assert put_result(bucket, up["key"], policy, "alice@acme.example") == "ExplicitlyDenied"
        assert AuditEvent.objects.filter(action="credentials.revoked", project=tenants.project_a).exists()

        with django_capture_on_commit_callbacks(execute=True):
            tenants.project_a.status = "open"
            tenants.project_a.save()
        assert "DenyClosedProjects" not in json.dumps(s3.get_bucket_policy())

    def test_revocations_are_dropped_after_the_credentials_expired(
        self, live_upload, tenants, bucket, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            Membership.objects.get(user=tenants.alice).delete()
        assert "DenyRevokedIdentities" in json.dumps(s3.get_bucket_policy())
        rev = CredentialRevocation.objects.get()
        assert rev.expires_at > timezone.now() + timedelta(minutes=14)
        CredentialRevocation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        assert lifecycle.apply_bucket_policy() is True
        assert "DenyRevokedIdentities" not in json.dumps(s3.get_bucket_policy())
        assert not CredentialRevocation.objects.exists()
        assert lifecycle.apply_bucket_policy() is False

    def test_the_bucket_policy_refuses_plain_http_and_sse_c(self, bucket, db):
        lifecycle.apply_bucket_policy()
        base = {
            "identityPolicies": [WIDE_ROLE_POLICY],
            "resourcePolicy": s3.get_bucket_policy(),
            "action": "s3:PutObject",
            "resource": f"arn:aws:s3:::{bucket}/acme/oracle/x",
        }
        results = simulate(
            [
                {**base, "context": {"aws:SecureTransport": "true"}},
                {**base, "context": {"aws:SecureTransport": "false"}},
                {
                    **base,
                    "context": {
                        "aws:SecureTransport": "true",
                        "s3:x-amz-server-side-encryption-customer-algorithm": "AES256",
                    },
                },
            ]
        )
        assert results == ["Allowed", "ExplicitlyDenied", "ExplicitlyDenied"]
