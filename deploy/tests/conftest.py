"""Synthesis of the example environment, shared by the deploy tests (once per session: it
starts the jsii runtime, about ten seconds)."""

import os
import sys
from pathlib import Path

import boto3
import pytest

DEPLOY = Path(__file__).resolve().parent.parent
if str(DEPLOY) not in sys.path:
    sys.path.insert(0, str(DEPLOY))
# jsii prints a banner on Node 20; the synthesis itself does not depend on the Node version.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


RUNTIME = True


def synth(outdir: Path, *, nag: bool = False, config=None):
    import aws_cdk as cdk
    from upload_portal_infra import config as configs
    from upload_portal_infra import stacks

    app = cdk.App(outdir=str(outdir))
    built = stacks.build(app, config or configs.load("example"), runtime=RUNTIME)
    if nag:
        from cdk_nag import AwsSolutionsChecks

        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    assembly = app.synth()
    return {key: assembly.get_stack_by_name(stack.stack_name).template for key, stack in built.items()}


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    """{"data": ..., "runtime": ...}: the example environment's two templates."""
    return synth(tmp_path_factory.mktemp("cdk-out"))


REGION = "eu-west-1"


def aws(service, moto):
    return boto3.session.Session(region_name=REGION).client(service, endpoint_url=moto.url)


@pytest.fixture
def deployed(moto, templates, settings):
    """The data stack on a clean moto, and the portal's settings pointed at its outputs."""
    from upload_portal_infra import outputs as stack_outputs

    from deploy.tests import moto_cfn

    deployment = moto_cfn.deploy(
        templates["data"], stack_name="portal-data", endpoint=moto.url, region=REGION
    )
    described = aws("cloudformation", moto).describe_stacks(StackName="portal-data")["Stacks"][0]
    # Descriptions name the variables; values are the outputs evaluated after the gaps were filled.
    by_key = {
        o["OutputKey"]: {**o, "OutputValue": deployment.outputs[o["OutputKey"]]} for o in described["Outputs"]
    }
    template_keys = set(templates["data"]["Outputs"])
    for key in {k for k in template_keys - set(by_key) if stack_outputs.is_setting(k)}:
        out = templates["data"]["Outputs"][key]
        by_key[key] = {
            "OutputKey": key,
            "OutputValue": deployment.outputs[key],
            "Description": out["Description"],
        }
    env, secret_arns = stack_outputs.parse(list(by_key.values()))
    settings.AWS_REGION = env["AWS_REGION"]
    settings.UPLOAD_BUCKET = env["UPLOAD_BUCKET"]
    settings.UPLOADER_ROLE_ARN = env["UPLOADER_ROLE_ARN"]
    settings.UPLOAD_KMS_KEY_ID = env.get("UPLOAD_KMS_KEY_ID", "")
    settings.PORTAL_ORIGINS = env["PORTAL_ORIGINS"].split(",")
    settings.PORTAL_BASE_URL = env["PORTAL_BASE_URL"]
    settings.UPLOAD_ABORT_INCOMPLETE_DAYS = int(env["UPLOAD_ABORT_INCOMPLETE_DAYS"])
    settings.UPLOAD_CLI_CREDENTIALS_SECONDS = int(env["UPLOAD_CLI_CREDENTIALS_SECONDS"])
    # moto treats the policy's conditional denies as unconditional (docs/storage.md); the
    # policy is on the bucket (put from the template) but the portal does not rewrite it here.
    settings.UPLOAD_BUCKET_POLICY = False
    deployment.env, deployment.secret_arns = env, secret_arns
    return deployment
