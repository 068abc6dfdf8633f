"""Stack outputs are the portal's environment variables. CloudFormation output names cannot
hold underscores, so each output's description starts with the variable's name:
"UPLOAD_BUCKET: ..." is a value to set as is, "secret DATABASE_URL: ..." is the ARN of a
Secrets Manager secret whose value the variable takes (ECS injects those)."""

from __future__ import annotations

from aws_cdk import CfnOutput
from constructs import Construct

# The one output of ours that is no environment variable: where DNS for the portal's host points.
DNS_TARGET = "DnsTarget"
# CDK's own outputs for the runtime stack's references into the data stack (Fn::ImportValue).
EXPORT_PREFIX = "ExportsOutput"


def is_setting(key: str) -> bool:
    return key != DNS_TARGET and not key.startswith(EXPORT_PREFIX)


def logical_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.lower().split("_"))


def env_output(scope: Construct, name: str, value: str, meaning: str, *, secret: bool = False) -> CfnOutput:
    prefix = f"secret {name}" if secret else name
    return CfnOutput(scope, logical_id(name), value=value, description=f"{prefix}: {meaning}")


def parse(outputs: list[dict]) -> tuple[dict[str, str], dict[str, str]]:
    """(plain values, secret ARNs) by environment variable name, from describe_stacks' Outputs."""
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for out in outputs:
        if not is_setting(out["OutputKey"]):
            continue
        head = out.get("Description", "").split(":", 1)[0]
        if head.startswith("secret "):
            secrets[head.removeprefix("secret ")] = out["OutputValue"]
        else:
            plain[head] = out["OutputValue"]
    return plain, secrets
