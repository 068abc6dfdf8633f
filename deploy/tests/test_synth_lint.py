"""The templates synthesise and cfn-lint finds nothing in them."""

import json
import re
from pathlib import Path

from cfnlint.api import lint
from upload_portal_infra import outputs

SETTINGS = (Path(__file__).resolve().parents[2] / "portal" / "settings.py").read_text()


def test_both_stacks_synthesise(templates):
    assert set(templates) == {"data", "runtime"}
    data = templates["data"]
    # No bootstrap-version rule: the storage and identity stack deploys on its own (and into moto).
    assert "Rules" not in data and "BootstrapVersion" not in data.get("Parameters", {})


# W3005 (a DependsOn also implied by a Ref): CDK makes each ECS service depend on its listener
# rule and also refers to the target group; harmless, and not ours to remove.
IGNORED = {"W3005"}


def test_cfn_lint_is_clean(templates):
    for name, template in templates.items():
        matches = lint(json.dumps(template), regions=["eu-west-1", "us-east-1"])
        matches = [m for m in matches if m.rule.id not in IGNORED]
        assert not matches, f"{name}: " + "\n".join(str(m) for m in matches)


def test_every_output_is_a_setting_the_portal_reads(templates):
    for template in templates.values():
        for key, out in template["Outputs"].items():
            if not outputs.is_setting(key):
                continue
            name = out["Description"].split(":", 1)[0].removeprefix("secret ")
            assert key == outputs.logical_id(name)
            assert re.search(rf"env\.\w+\(\s*\"{name}\"", SETTINGS) or f'"{name}"' in SETTINGS, name
