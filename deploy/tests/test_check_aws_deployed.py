"""`manage.py check_aws`, pointed at the stack deployed into moto, passes: what the
deployment creates is what the portal's preflight asks for (what moto cannot prove is
reported as not checked, never as passed)."""

import io

from django.core.management import call_command


def test_check_aws_passes_against_the_deployed_stack(deployed, settings):
    env = deployed.env
    # The deployment writes the bucket policy; the preflight reads it (moto cannot apply it).
    settings.UPLOAD_BUCKET_POLICY = True
    settings.COGNITO_CLIENT_ID = env["COGNITO_CLIENT_ID"]
    settings.COGNITO_USER_POOL_ID = env["COGNITO_SERVER_URL"].rstrip("/").rpartition("/")[2]
    out = io.StringIO()
    try:
        call_command("check_aws", stdout=out, no_color=True)
    except SystemExit as exc:
        raise AssertionError(f"check_aws failed (exit {exc.code}):\n{out.getvalue()}") from None
    report = out.getvalue()
    passed = {line.split()[1] for line in report.splitlines() if line.startswith("PASS")}
    assert {
        "bucket-exists",
        "bucket-versioning",
        "bucket-encryption",
        "bucket-public-access-block",
        "bucket-lifecycle",
        "bucket-cors",
        "bucket-policy",
        "uploader-role",
        "cognito-discovery",
        "cognito-callback",
        "clock",
    } <= passed, report
