"""The credentials can PUT one object and nothing else. moto ignores session policies, so
the policy the portal really sends to STS is evaluated by an independent IAM evaluator."""

import json
import uuid

import pytest

from uploads.tests.helpers import create, post_json
from uploads.tests.iam import WIDE_ROLE_POLICY, captured_assume_role, simulate

ALLOWED = "Allowed"


def expectations(bucket: str, key: str) -> list[tuple[str, str, bool]]:
    """(action, resource ARN, should be allowed) for one upload's key."""
    obj = f"arn:aws:s3:::{bucket}/"
    org, project, upload_id, *_ = key.split("/")
    other_id = str(uuid.uuid4())
    denied_puts = [
        f"{key}.evil",
        f"{key}/more",
        f"{org}/{project}/{upload_id}/",
        f"{org}/{project}/{upload_id}/other.dmp",
        f"{org}/{project}/{other_id}/dump.dmp",
        f"{org}/{project}-evil/{upload_id}/dump.dmp",
        f"{org}/{project}-evil/x",
        f"{org}/other-project/x.dmp",
        f"globex/ledger/{upload_id}/dump.dmp",
        f"{org}/{project}/{upload_id}/%2e%2e/%2e%2e/globex/x",
        f"{org}/{project}/{upload_id}/../../../globex/ledger/x",
        "x.dmp",
    ]
    cases = [("s3:PutObject", obj + key, True)]
    cases += [("s3:PutObject", obj + k, False) for k in denied_puts]
    for action in [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:PutObjectAcl",
        "s3:PutObjectTagging",
        "s3:PutObjectRetention",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:RestoreObject",
    ]:
        cases.append((action, obj + key, False))
    bucket_arn = f"arn:aws:s3:::{bucket}"
    for action in [
        "s3:ListBucket",
        "s3:ListBucketMultipartUploads",
        "s3:ListBucketVersions",
        "s3:PutBucketPolicy",
        "s3:PutBucketCORS",
        "s3:DeleteBucket",
        "s3:PutLifecycleConfiguration",
    ]:
        cases.append((action, bucket_arn, False))
    cases.append(("s3:PutObject", f"arn:aws:s3:::other-bucket/{key}", False))
    cases.append(("s3:GetObject", f"{obj}globex/ledger/{other_id}/secret.dmp", False))
    cases.append(("kms:Decrypt", f"arn:aws:kms:us-east-1:123456789012:key/{other_id}", False))
    cases.append(("sts:AssumeRole", "arn:aws:iam::123456789012:role/admin", False))
    return cases


def failures(session_policy: dict, bucket: str, key: str) -> list[str]:
    cases = expectations(bucket, key)
    results = simulate(
        [
            {
                "action": a,
                "resource": r,
                "identityPolicies": [WIDE_ROLE_POLICY],
                "sessionPolicy": session_policy,
            }
            for a, r, _ in cases
        ]
    )
    return [
        f"{a} {r}: {got}"
        for (a, r, allowed), got in zip(cases, results, strict=True)
        if (got == ALLOWED) != allowed
    ]


def issue_and_capture(client, project, name: str = "dump.dmp", relative_path: str = "") -> tuple[dict, dict]:
    with captured_assume_role() as calls:
        up = create(client, project, 5000, name=name, relative_path=relative_path).json()
        assert post_json(client, f"/api/uploads/{up['id']}/credentials").status_code == 200
    (call,) = calls
    return up, call


class TestSessionPolicy:
    def test_the_real_policy_allows_only_putobject_on_the_one_key(self, alice_client, tenants, bucket):
        up, call = issue_and_capture(alice_client, tenants.project_a)
        policy = json.loads(call["Policy"])
        assert len(expectations(bucket, up["key"])) >= 20
        assert failures(policy, bucket, up["key"]) == []

    def test_a_too_wide_policy_fails_the_same_check(self, alice_client, tenants, bucket):
        up, call = issue_and_capture(alice_client, tenants.project_a)
        # The classic mistake: a prefix without its trailing slash, and a wildcard key.
        wide = json.loads(call["Policy"])
        wide["Statement"][0]["Resource"] = f"arn:aws:s3:::{bucket}/acme/oracle*"
        found = failures(wide, bucket, up["key"])
        assert any("oracle-evil" in f for f in found), found

    @pytest.mark.parametrize("name", ["dump*.dmp", "what?.dmp", "${aws:username}.dmp", "a${*}?b.dmp"])
    def test_wildcards_in_names_never_reach_the_policy(self, alice_client, tenants, bucket, name):
        up, call = issue_and_capture(alice_client, tenants.project_a, name=name)
        resource = json.loads(call["Policy"])["Statement"][0]["Resource"]
        assert not set("*?$") & set(resource), resource
        assert up["name"] == name
        assert failures(json.loads(call["Policy"]), bucket, up["key"]) == []

    def test_session_name_and_source_identity_name_the_user(self, alice_client, tenants, bucket):
        up, call = issue_and_capture(alice_client, tenants.project_a)
        assert call["RoleSessionName"] == f"u{tenants.alice.pk}-{up['id']}"
        assert call["SourceIdentity"] == "alice@acme.example"
        assert call["DurationSeconds"] == 900

    def test_the_policy_stays_short_for_the_longest_names(self, alice_client, tenants, bucket):
        folders = "/".join(["f" * 200] * 3)
        name = "n" * 250 + ".dmp"
        up, call = issue_and_capture(
            alice_client, tenants.project_a, name=name, relative_path=f"{folders}/{name}"
        )
        assert len(call["Policy"]) < 2048
        assert len(call["RoleSessionName"]) <= 64
        assert failures(json.loads(call["Policy"]), bucket, up["key"]) == []

    def test_kms_actions_are_added_only_for_the_configured_key(self, alice_client, tenants, bucket, settings):
        key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
        settings.UPLOAD_KMS_KEY_ID = key_arn
        up, call = issue_and_capture(alice_client, tenants.project_a)
        policy = json.loads(call["Policy"])
        other_key = key_arn.replace("1111", "9999")
        # KMS needs the key policy too; the usual one delegates to the account's IAM policies.
        key_policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
        via_s3 = {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
        results = simulate(
            [
                {
                    "action": a,
                    "resource": r,
                    "identityPolicies": [WIDE_ROLE_POLICY],
                    "sessionPolicy": policy,
                    "resourcePolicy": key_policy,
                    "context": context,
                }
                for a, r, context in [
                    ("kms:GenerateDataKey", key_arn, via_s3),
                    ("kms:Decrypt", key_arn, via_s3),
                    ("kms:Decrypt", other_key, via_s3),
                    ("kms:Encrypt", key_arn, via_s3),
                    ("kms:ScheduleKeyDeletion", key_arn, via_s3),
                    # Called directly, or through another service, the key is refused.
                    ("kms:Decrypt", key_arn, {}),
                    ("kms:GenerateDataKey", key_arn, {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}),
                    ("kms:Decrypt", key_arn, {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}),
                ]
            ]
        )
        assert results[:2] == [ALLOWED, ALLOWED]
        assert ALLOWED not in results[2:]
        assert failures(policy, bucket, up["key"]) == []
