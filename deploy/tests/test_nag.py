"""cdk-nag's AwsSolutions pack. cdk-nag 3 reports through CDK's policy-validation plugins:
synthesis stops on any finding not acknowledged with a reason (upload_portal_infra/nag.py)."""

import json

from deploy.tests.conftest import synth


def test_aws_solutions_checks_pass_and_every_acknowledgement_has_a_reason(tmp_path):
    synth(tmp_path, nag=True)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["pluginName"] == "AwsSolutions"
    assert plugin["conclusion"] == "success" and plugin["violations"] == []
    for acknowledged in plugin["suppressedViolations"]:
        assert len(acknowledged["reason"]) > 40, acknowledged["ruleName"]
    # Each acknowledged rule is one a finding needed (no blanket acknowledgements).
    used = {v["ruleName"].split("[")[0] for v in plugin["suppressedViolations"]}
    assert used == {
        "AwsSolutions-AEC4",
        "AwsSolutions-COG2",
        "AwsSolutions-COG8",
        "AwsSolutions-EC23",
        "AwsSolutions-ECS2",
        "AwsSolutions-IAM5",
        "AwsSolutions-RDS11",
        "AwsSolutions-RDS3",
        "AwsSolutions-S1",
        "AwsSolutions-SMG4",
    }
