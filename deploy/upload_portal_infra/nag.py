"""cdk-nag (AwsSolutions pack) acknowledgements, each with its reason.

cdk-nag 3 reports through CDK's policy-validation plugins: synthesis stops on any finding
that is not acknowledged on the construct (or a parent) it concerns."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(
    scope: IConstruct | list[IConstruct], rule: str, reason: str, findings: list[str] = ()
) -> None:
    """Acknowledge `rule` (e.g. "AwsSolutions-S1") on each construct and its children; with
    `findings`, only those findings of it (e.g. "Resource::<Bucket.Arn>/*")."""
    ids = [f"AwsSolutions::{rule}[{f}]" for f in findings] if findings else [f"AwsSolutions::{rule}"]
    for construct in scope if isinstance(scope, list) else [scope]:
        cdk.Validations.of(construct).acknowledge(*(cdk.Acknowledgment(id=i, reason=reason) for i in ids))


def objects_of(bucket) -> str:
    """The IAM5 finding of a grant on every object of `bucket`: "Resource::<LogicalId.Arn>/*"."""
    cfn = bucket.node.default_child
    stack = cdk.Stack.of(cfn)
    return f"Resource::<{stack.resolve(stack.get_logical_id(cfn))}.Arn>/*"
