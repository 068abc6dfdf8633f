"""The storage and identity stack, deployed into moto's CloudFormation over HTTP (with the
gaps moto leaves filled from the template, deploy/tests/moto_cfn.py), is what the portal
itself would have set up: uploads.bucket.setup_storage() finds nothing to change."""

import ast
import json
from urllib.parse import unquote

from django.conf import settings

from deploy.tests import moto_cfn
from deploy.tests.conftest import REGION, aws


def test_every_output_is_set(deployed, templates):
    assert set(deployed.env) | set(deployed.secret_arns) == {
        "AWS_REGION",
        "UPLOAD_BUCKET",
        "UPLOADER_ROLE_ARN",
        "UPLOAD_ABORT_INCOMPLETE_DAYS",
        "UPLOAD_CLI_CREDENTIALS_SECONDS",
        "AUDIT_ARCHIVE_PREFIX",
        "PORTAL_ORIGINS",
        "PORTAL_BASE_URL",
        "COGNITO_SERVER_URL",
        "COGNITO_CLIENT_ID",
        "COGNITO_CLIENT_SECRET",
        "COGNITO_USER_POOL_ID",
        "CUSTOMER_DIRECTORY",
        "COGNITO_SENDS_INVITATION",
    }
    assert all(value and "None" not in value for value in deployed.env.values()), deployed.env
    assert deployed.skipped == [
        k for k, r in templates["data"]["Resources"].items() if r["Type"] in moto_cfn.NOT_ON_MOTO
    ]


def test_the_bucket_is_configured_as_the_portal_wants_it(deployed, moto):
    from uploads import bucket as portal_bucket
    from uploads import s3

    client = aws("s3", moto)
    name = deployed.env["UPLOAD_BUCKET"]
    assert client.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    rules = client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    pab = client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert pab == portal_bucket.PUBLIC_ACCESS_BLOCK
    (cors,) = client.get_bucket_cors(Bucket=name)["CORSRules"]
    assert "ETag" in cors["ExposeHeaders"] and cors["AllowedOrigins"] == settings.PORTAL_ORIGINS
    lifecycle = client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert any(
        r["ID"] == portal_bucket.LIFECYCLE_RULE_ID
        and r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
        for r in lifecycle
    )
    logging = client.get_bucket_logging(Bucket=name)["LoggingEnabled"]
    assert logging["TargetPrefix"] == "uploads/"
    # The portal's own set-up, run against the deployed bucket, has nothing left to do.
    assert portal_bucket.setup_storage() == [
        "left the bucket policy out (UPLOAD_BUCKET_POLICY=false: the local S3 stand-in "
        "treats its conditional denies as unconditional)"
    ]
    # The bucket policy is exactly the portal's own (without revocations), so the portal's
    # rewrites for revocations keep every statement CloudFormation wrote.
    from uploads import policies

    deployed_policy = s3.get_bucket_policy()
    assert normalise(deployed_policy) == normalise(
        policies.bucket_policy(revoked_identities=[], closed_prefixes=[])
    )
    # moto cannot show the deny working: it ignores conditions and so refuses every request
    # once a conditional deny on s3:* is in place (docs/storage.md); the statement is read.
    (tls,) = [s for s in deployed_policy["Statement"] if s["Sid"] == "DenyInsecureTransport"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_audit_archive_bucket_has_object_lock_and_receives_the_archive_prefix(deployed, moto, templates):
    client = aws("s3", moto)
    (archive,) = [
        k
        for k, r in templates["data"]["Resources"].items()
        if k.startswith("UploadStorageAuditArchive") and r["Type"] == "AWS::S3::Bucket"
    ]
    lock = client.get_object_lock_configuration(Bucket=deployed.physical[archive])["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled" and lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    (rule,) = client.get_bucket_replication(Bucket=deployed.env["UPLOAD_BUCKET"])["ReplicationConfiguration"][
        "Rules"
    ]
    assert rule["Status"] == "Enabled"
    assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{deployed.physical[archive]}"
    # moto answers GetBucketReplication with Filter {"Prefix": ""} whatever was put: the
    # prefix is checked in the template.
    (uploads,) = [
        r
        for k, r in templates["data"]["Resources"].items()
        if "ReplicationConfiguration" in r.get("Properties", {})
    ]
    (template_rule,) = uploads["Properties"]["ReplicationConfiguration"]["Rules"]
    assert (
        template_rule["Filter"]["Prefix"]
        == settings.AUDIT_ARCHIVE_PREFIX
        == deployed.env["AUDIT_ARCHIVE_PREFIX"]
    )


def test_the_roles_are_the_portals(deployed, moto, templates):
    from uploads import policies

    iam = aws("iam", moto)
    uploader = iam.get_role(RoleName=deployed.env["UPLOADER_ROLE_ARN"].rsplit("/", 1)[1])["Role"]
    assert uploader["MaxSessionDuration"] == 3600 >= settings.UPLOAD_CLI_CREDENTIALS_SECONDS
    assert uploader["PermissionsBoundary"]["PermissionsBoundaryArn"].startswith("arn:aws:iam::")
    (name,) = iam.list_role_policies(RoleName=uploader["RoleName"])["PolicyNames"]
    inline = iam.get_role_policy(RoleName=uploader["RoleName"], PolicyName=name)["PolicyDocument"]
    assert normalise(inline) == normalise(policies.uploader_role_policy())
    (trust,) = document(uploader["AssumeRolePolicyDocument"])["Statement"]
    assert trust["Principal"]["AWS"] == server_role_arn(iam, templates)
    assert sorted(trust["Action"]) == ["sts:AssumeRole", "sts:SetSourceIdentity"]
    assert trust["Condition"] == {"StringLike": {"sts:SourceIdentity": "*"}}
    # The server role (the ECS task role) may assume it, and is trusted by ECS tasks only.
    server = iam.get_role(RoleName=server_role_arn(iam, templates).rsplit("/", 1)[1])["Role"]
    (ecs,) = document(server["AssumeRolePolicyDocument"])["Statement"]
    assert ecs["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}


def server_role_arn(iam, templates) -> str:
    (logical,) = [
        k for k in templates["data"]["Resources"] if k.startswith("AccessServer") and "Policy" not in k
    ]
    roles = [r for r in iam.list_roles()["Roles"] if logical in r["RoleName"]]
    return roles[0]["Arn"]


def test_cognito_pool_domain_and_client(deployed, moto):
    cognito = aws("cognito-idp", moto)
    pool_id = deployed.env["COGNITO_SERVER_URL"].rsplit("/", 1)[1]
    assert deployed.env["COGNITO_SERVER_URL"] == f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["MfaConfiguration"] == "OPTIONAL"
    client = cognito.describe_user_pool_client(
        UserPoolId=pool_id, ClientId=deployed.env["COGNITO_CLIENT_ID"]
    )["UserPoolClient"]
    assert client["CallbackURLs"] == [
        "https://uploads.consultancy.example/accounts/oidc/cognito/login/callback/"
    ]
    assert client["LogoutURLs"] == ["https://uploads.consultancy.example/accounts/login/"]
    assert client["AllowedOAuthFlows"] == ["code"]
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert set(client["SupportedIdentityProviders"]) == {"COGNITO", "AcmeEntra", "GlobexOkta"}
    for idp in ("AcmeEntra", "GlobexOkta"):
        described = cognito.describe_identity_provider(UserPoolId=pool_id, ProviderName=idp)[
            "IdentityProvider"
        ]
        assert set(described["AttributeMapping"]) == {"email", "email_verified"}
    secret = aws("secretsmanager", moto).get_secret_value(
        SecretId=deployed.secret_arns["COGNITO_CLIENT_SECRET"]
    )
    assert secret["SecretString"] == client["ClientSecret"]


def listify(value):
    return value if isinstance(value, list) else [value]


def document(policy) -> dict:
    """moto answers some policy documents as (URL-encoded) JSON text, and the inline policies
    of a role it made from a template as Python's repr of the dict."""
    if not isinstance(policy, str):
        return policy
    text = unquote(policy)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return ast.literal_eval(text)


def normalise(policy: dict) -> list:
    """Statements compared without Sid order, list-vs-string or `"*"` vs `{"AWS": "*"}`."""
    policy = document(policy)
    out = []
    for s in policy["Statement"]:
        principal = s.get("Principal")
        if principal in ({"AWS": "*"}, "*"):
            principal = "*"
        out.append(
            json.dumps(
                {
                    "Effect": s["Effect"],
                    "Principal": principal,
                    "Action": sorted(listify(s["Action"])),
                    "Resource": sorted(listify(s["Resource"])),
                    "Condition": s.get("Condition"),
                },
                sort_keys=True,
            )
        )
    return sorted(out)
