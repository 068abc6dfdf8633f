"""Run IAM requests through @cloud-copilot/iam-simulate (Node) and capture the session
policy the portal really sends to STS."""

import contextlib
import json
import subprocess
from pathlib import Path

from uploads import s3

SCRIPT = Path(__file__).parent / "js" / "simulate.mjs"
ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
PRINCIPAL = f"arn:aws:sts::{ACCOUNT}:assumed-role/upload-portal-uploader/u1-session"
# The role's permissions are deliberately as wide as can be here, so the session policy
# alone has to do the narrowing.
WIDE_ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def simulate(cases: list[dict]) -> list[str]:
    payload = {"cases": [{"principal": PRINCIPAL, "accountId": ACCOUNT, **c} for c in cases]}
    proc = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    results = json.loads(proc.stdout)
    errors = [r["error"] for r in results if "error" in r]
    assert not errors, errors
    return [r["result"] for r in results]


@contextlib.contextmanager
def captured_assume_role():
    """Record the parameters of every real AssumeRole call made through uploads.s3."""
    calls: list[dict] = []

    def capture(params, **kwargs):
        calls.append(dict(params))

    sts = s3.client("sts")
    sts.meta.events.register("provide-client-params.sts.AssumeRole", capture, unique_id="test-capture")
    try:
        yield calls
    finally:
        sts.meta.events.unregister("provide-client-params.sts.AssumeRole", unique_id="test-capture")
