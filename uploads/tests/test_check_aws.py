"""`manage.py check_aws` against the local S3 (moto over HTTP): it passes on an environment
set up as the portal needs, and names the one thing broken, with its fix, on each broken
variant."""

import io
import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command

from uploads import s3
from uploads.bucket import desired_cors, setup_storage
from uploads.preflight import clock
from uploads.preflight.identity import callback_url

pytestmark = pytest.mark.django_db


def run_check_aws(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("check_aws", *args, stdout=out, no_color=True)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def line(output: str, name: str) -> str:
    """The report's line for one check, with its fix line when there is one."""
    lines = output.splitlines()
    for i, text in enumerate(lines):
        if text[5:].startswith(f"{name} "):
            fix = lines[i + 1] if i + 1 < len(lines) and "fix:" in lines[i + 1] else ""
            return f"{text}\n{fix}".strip()
    raise AssertionError(f"no line for {name} in:\n{output}")


@pytest.fixture
def environment(moto, settings):
    """An environment set up as setup_storage sets it on the local S3 (as `make run` does)."""
    setup_storage(create_local_role=True)
    return settings


@pytest.fixture
def with_bucket_policy(environment):
    """The bucket policy the portal writes in AWS (moto then refuses every object request:
    it applies the policy's conditional denies to all)."""
    environment.UPLOAD_BUCKET_POLICY = True
    setup_storage()
    return environment


def test_it_passes_on_an_environment_set_up_as_the_portal_needs(environment):
    code, out = run_check_aws()
    assert code == 0, out
    assert "FAIL" not in out
    for name in (
        "bucket-exists",
        "bucket-versioning",
        "bucket-encryption",
        "bucket-public-access-block",
        "bucket-lifecycle",
        "bucket-cors",
        "uploader-role",
        "clock",
    ):
        assert line(out, name).startswith("PASS"), out
    # What moto cannot prove is said, not passed.
    assert line(out, "vended-credentials").startswith("N/A")
    assert "does not enforce session policies" in line(out, "vended-credentials")
    assert line(out, "email").startswith("N/A")
    assert line(out, "bucket-policy").startswith("N/A")
    assert "13 checks: 8 passed, 0 failed, 5 not checked" in out


def test_it_passes_the_bucket_policy_the_portal_writes(with_bucket_policy):
    code, out = run_check_aws("--only", "bucket-policy")
    assert code == 0, out
    assert "denies plain-HTTP requests and SSE-C uploads" in line(out, "bucket-policy")


def test_it_leaves_no_scratch_object_behind(environment):
    run_check_aws()
    assert s3.list_keys("_preflight/") == []


def test_it_fails_on_a_missing_bucket(moto):
    code, out = run_check_aws("--only", "bucket-exists")
    assert code == 1
    assert line(out, "bucket-exists").startswith("FAIL")
    assert "does not exist" in line(out, "bucket-exists")
    assert "setup_storage" in line(out, "bucket-exists")


def test_it_fails_on_cors_without_etag(environment):
    rules = desired_cors()
    rules[0]["ExposeHeaders"] = [h for h in rules[0]["ExposeHeaders"] if h != "ETag"]
    s3.put_bucket_cors(rules)
    code, out = run_check_aws()
    assert code == 1
    assert line(out, "bucket-cors").startswith("FAIL")
    assert "does not expose ETag" in line(out, "bucket-cors")
    assert out.count("FAIL") == 1, out


def test_it_fails_on_cors_for_another_origin(environment):
    rules = desired_cors()
    rules[0]["AllowedOrigins"] = ["https://elsewhere.example"]
    s3.put_bucket_cors(rules)
    code, out = run_check_aws("--only", "bucket-cors")
    assert code == 1
    assert f"no CORS rule lets {environment.PORTAL_ORIGINS[0]} PUT parts" in line(out, "bucket-cors")


def test_it_fails_with_versioning_off(environment):
    s3.client().put_bucket_versioning(Bucket=s3.bucket(), VersioningConfiguration={"Status": "Suspended"})
    code, out = run_check_aws()
    assert code == 1
    assert line(out, "bucket-versioning").startswith("FAIL")
    assert "versioning is Suspended" in line(out, "bucket-versioning")
    assert out.count("FAIL") == 1, out


def test_it_fails_without_default_encryption(environment):
    s3.client().delete_bucket_encryption(Bucket=s3.bucket())
    code, out = run_check_aws("--only", "bucket-encryption")
    assert code == 1
    assert "SSE-S3" in line(out, "bucket-encryption")


def test_it_fails_when_public_access_is_not_blocked(environment):
    s3.client().delete_public_access_block(Bucket=s3.bucket())
    code, out = run_check_aws("--only", "bucket-public-access-block")
    assert code == 1
    assert "BlockPublicAcls" in line(out, "bucket-public-access-block")


def test_it_fails_without_the_abandoned_upload_lifecycle_rule(environment):
    s3.client().delete_bucket_lifecycle(Bucket=s3.bucket())
    code, out = run_check_aws("--only", "bucket-lifecycle")
    assert code == 1
    assert "no lifecycle rule aborts abandoned multipart uploads" in line(out, "bucket-lifecycle")


def test_it_fails_without_the_tls_only_policy(with_bucket_policy):
    s3.client().delete_bucket_policy(Bucket=s3.bucket())
    code, out = run_check_aws("--only", "bucket-policy")
    assert code == 1
    assert "does not deny plain-HTTP requests or SSE-C uploads" in line(out, "bucket-policy")


def test_it_fails_on_a_policy_that_allows_plain_http(with_bucket_policy):
    policy = s3.get_bucket_policy()
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "DenyInsecureTransport"]
    s3.put_bucket_policy(policy)
    code, out = run_check_aws("--only", "bucket-policy")
    assert code == 1
    assert "does not deny plain-HTTP requests" in line(out, "bucket-policy")
    assert "SSE-C" not in line(out, "bucket-policy").split("fix:")[0]


def test_it_fails_on_a_clock_that_is_off(environment, monkeypatch):
    # The one thing that cannot be broken for real here: this machine's clock.
    real = clock.local_now
    monkeypatch.setattr(clock, "local_now", lambda: real() + timedelta(minutes=7))
    code, out = run_check_aws("--only", "clock")
    assert code == 1
    # S3's Date header has whole seconds.
    skew = int(re.search(r"clock is \+(\d+) s from S3's", line(out, "clock")).group(1))
    assert 419 <= skew <= 421
    assert "chrony" in line(out, "clock")


def test_it_fails_when_smtp_does_not_answer(environment, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 1  # nothing listens there
    code, out = run_check_aws("--only", "email")
    assert code == 1
    assert line(out, "email").startswith("FAIL")
    assert "ConnectionRefusedError" in line(out, "email")
    assert "SES" in line(out, "email")


def test_it_names_the_role_it_could_not_assume(environment, settings, moto, monkeypatch):
    iam_user_with_keys(monkeypatch)
    # A trust policy naming someone else: the portal may not assume the role.
    s3.client("iam").update_assume_role_policy(
        RoleName="upload-portal-uploader",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::123456789012:user/someone-else"},
                        "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                    }
                ],
            }
        ),
    )
    moto.set_auth(True)
    code, out = run_check_aws("--only", "uploader-role")
    assert code == 1
    assert line(out, "uploader-role").startswith("FAIL")
    assert "AccessDenied" in line(out, "uploader-role")
    assert "sts:SetSourceIdentity" in line(out, "uploader-role")


def iam_user_with_keys(monkeypatch) -> None:
    """The portal acts as an IAM user of its own, so moto's IAM-auth mode can judge it."""
    iam = s3.client("iam")
    iam.create_user(UserName="portal-server")
    iam.put_user_policy(
        UserName="portal-server",
        PolicyName="portal",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sts:*"], "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="portal-server")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])


@pytest.fixture
def cognito(environment):
    """A user pool and the portal's app client on moto, calling back to PORTAL_BASE_URL."""
    idp = s3.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="customers")["UserPool"]["Id"]
    app = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="portal",
        GenerateSecret=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        AllowedOAuthFlowsUserPoolClient=True,
        CallbackURLs=[callback_url()],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    environment.COGNITO_USER_POOL_ID = pool
    environment.COGNITO_CLIENT_ID = app["ClientId"]
    return pool, app["ClientId"]


def test_it_passes_cognito_that_calls_back_to_the_portal(cognito):
    code, out = run_check_aws("--only", "cognito-discovery", "--only", "cognito-callback")
    assert code == 0, out
    assert line(out, "cognito-discovery").startswith("PASS")
    assert line(out, "cognito-callback").startswith("PASS")
    assert callback_url() in line(out, "cognito-callback")


def test_it_fails_on_a_wrong_callback_url(cognito):
    pool, client_id = cognito
    s3.client("cognito-idp").update_user_pool_client(
        UserPoolId=pool,
        ClientId=client_id,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        AllowedOAuthFlowsUserPoolClient=True,
        CallbackURLs=["https://old-portal.example/accounts/oidc/cognito/login/callback/"],
    )
    code, out = run_check_aws()
    assert code == 1
    report = line(out, "cognito-callback")
    assert report.startswith("FAIL")
    assert f"do not include {callback_url()}" in report
    assert "PORTAL_BASE_URL" in report
    assert out.count("FAIL") == 1, out


def test_it_fails_when_the_discovery_document_does_not_answer(cognito, settings):
    # (moto answers for any pool id, so the address is what breaks here.)
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:1"
    code, out = run_check_aws("--only", "cognito-discovery")
    assert code == 1
    report = line(out, "cognito-discovery")
    assert report.startswith("FAIL")
    assert "could not run: URLError" in report
    assert "COGNITO_SERVER_URL" in report
