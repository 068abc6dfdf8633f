"""Synthesis of the example environment, shared by the deploy tests (once per session: it
starts the jsii runtime, about ten seconds)."""

import os
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parent.parent
if str(DEPLOY) not in sys.path:
    sys.path.insert(0, str(DEPLOY))
# jsii prints a banner on Node 20; the synthesis itself does not depend on the Node version.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


RUNTIME = False


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
