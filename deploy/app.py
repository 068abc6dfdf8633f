"""The CDK app: `cdk synth -c env=example` in deploy/, or `python deploy/app.py` from the
repository root (synthesises into deploy/cdk.out without the CDK CLI)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The repository root too: the CORS headers come from uploads/cors.py, shared with the portal.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402
from upload_portal_infra import config, stacks  # noqa: E402


def main() -> cdk.App:
    outdir = os.environ.get("CDK_OUTDIR") or str(Path(__file__).resolve().parent / "cdk.out")
    app = cdk.App(outdir=outdir)
    name = app.node.try_get_context("env") or os.environ.get("PORTAL_DEPLOY_ENV", "example")
    stacks.build(app, config.load(name))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()
    return app


if __name__ == "__main__":
    main()
