"""Deploy a synthesised template into moto's CloudFormation over HTTP, then do with boto3
what moto's CloudFormation leaves out, from the template's own properties:

- AWS::S3::Bucket: moto applies only BucketEncryption and Tags; versioning, public access
  block, lifecycle, CORS, logging, ownership controls, Object Lock and replication are put
  here with the S3 API.
- AWS::S3::BucketPolicy, AWS::Cognito::* and AWS::SecretsManager::Secret: moto has no
  CloudFormation model for them (it logs "No Moto CloudFormation support") and skips them;
  they are created here with their APIs, with the template's property names passed through
  where the API uses the same names (botocore's own model says which do).
- AWS::Cognito::ManagedLoginBranding: moto has no API for it either; it is left out.

An AWS::IAM::Policy that names a resource moto skips (a grant on the user pool) would fail
the whole stack in moto: it is left out of the template moto gets and put on its roles here
once that resource exists.

Then the template's Outputs are evaluated again (moto rendered those that name a skipped
resource as "None"). Intrinsics understood: Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Sub;
anything else fails loudly."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import boto3

ACCOUNT = "123456789012"
# Resource types moto's CloudFormation creates itself (with the caveats above).
MOTO_NATIVE = {"AWS::S3::Bucket", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}
NOT_ON_MOTO = {"AWS::Cognito::ManagedLoginBranding"}


@dataclass
class Deployment:
    stack_name: str
    outputs: dict[str, str]
    physical: dict[str, str]
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


class Resolver:
    def __init__(self, template: dict, stack_name: str, region: str):
        self.template = template
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::NoValue": None,
        }
        self.physical: dict[str, str] = {}
        self.attributes: dict[tuple[str, str], str] = {}

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self(v) for v in node if v != {"Ref": "AWS::NoValue"}]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                if arg in self.pseudo:
                    return self.pseudo[arg]
                return self.physical[arg]
            if key == "Fn::GetAtt":
                logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.attributes[(logical, attr)]
            if key == "Fn::Join":
                sep, parts = arg
                return sep.join(str(self(p)) for p in self(parts))
            if key == "Fn::Select":
                index, items = arg
                return self(items)[int(self(index))]
            if key == "Fn::Sub":
                text, names = (arg, {}) if isinstance(arg, str) else (arg[0], self(arg[1]))

                def sub(m):
                    name = m.group(1)
                    if name in names:
                        return str(names[name])
                    if "." in name:
                        return str(self({"Fn::GetAtt": name.split(".", 1)}))
                    return str(self({"Ref": name}))

                return re.sub(r"\$\{([^}!]+)\}", sub, text)
            if key.startswith("Fn::") or key == "Condition":
                raise NotImplementedError(f"intrinsic {key} in a template deployed to moto")
        return {k: self(v) for k, v in node.items()}


def _api_args(client, operation: str, props: dict, renames: dict[str, str] | None = None) -> dict:
    """The properties whose names the API operation takes (after `renames`)."""
    members = client.meta.service_model.operation_model(operation).input_shape.members
    args = {}
    for key, value in props.items():
        key = (renames or {}).get(key, key)
        if key in members:
            args[key] = value
    return args


def _lifecycle(rules: list[dict]) -> list[dict]:
    out = []
    for r in rules:
        rule: dict[str, Any] = {
            "ID": r["Id"],
            "Status": r["Status"],
            "Filter": {"Prefix": r.get("Prefix", "")},
        }
        if "AbortIncompleteMultipartUpload" in r:
            rule["AbortIncompleteMultipartUpload"] = r["AbortIncompleteMultipartUpload"]
        if "ExpirationInDays" in r:
            rule["Expiration"] = {"Days": r["ExpirationInDays"]}
        if "NoncurrentVersionExpiration" in r:
            rule["NoncurrentVersionExpiration"] = r["NoncurrentVersionExpiration"]
        out.append(rule)
    return out


def _cors(rules: list[dict]) -> list[dict]:
    names = {"ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
    return [{names.get(k, k): v for k, v in r.items() if k != "Id"} for r in rules]


def _replication(config: dict) -> dict:
    rules = []
    for r in config["Rules"]:
        rule = {("ID" if k == "Id" else k): v for k, v in r.items()}
        rules.append(rule)
    return {"Role": config["Role"], "Rules": rules}


def _complete_bucket(s3, name: str, props: dict) -> None:
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    if "OwnershipControls" in props:
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
    if "LifecycleConfiguration" in props:
        rules = _lifecycle(props["LifecycleConfiguration"]["Rules"])
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    if "CorsConfiguration" in props:
        rules = _cors(props["CorsConfiguration"]["CorsRules"])
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    if "ObjectLockConfiguration" in props:
        s3.put_object_lock_configuration(
            Bucket=name, ObjectLockConfiguration=props["ObjectLockConfiguration"]
        )


def _connect_bucket(s3, name: str, props: dict) -> None:
    """What needs the other buckets and their policies in place (moto checks that the log
    bucket's policy lets the logging service write)."""
    if "LoggingConfiguration" in props:
        logging = props["LoggingConfiguration"]
        status = {
            "LoggingEnabled": {
                "TargetBucket": logging["DestinationBucketName"],
                "TargetPrefix": logging.get("LogFilePrefix", ""),
            }
        }
        s3.put_bucket_logging(Bucket=name, BucketLoggingStatus=status)
    if "ReplicationConfiguration" in props:
        s3.put_bucket_replication(
            Bucket=name, ReplicationConfiguration=_replication(props["ReplicationConfiguration"])
        )


def _references(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_references(v) for v in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set()
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value)
        elif key == "Fn::GetAtt":
            found.add(value[0] if isinstance(value, list) else value.split(".", 1)[0])
        else:
            found |= _references(value)
    return found


def _deferred_policies(template: dict) -> list[str]:
    """Policies naming a resource moto's CloudFormation does not create."""
    resources = template["Resources"]
    return [
        logical
        for logical, res in resources.items()
        if res["Type"] == "AWS::IAM::Policy"
        and any(
            resources.get(ref, {}).get("Type", "AWS::IAM::Role") not in MOTO_NATIVE
            for ref in _references(res.get("Properties", {}))
        )
    ]


def deploy(template: dict, *, stack_name: str, endpoint: str, region: str) -> Deployment:
    session = boto3.session.Session(region_name=region)

    def client(service):
        return session.client(service, endpoint_url=endpoint)

    cf, s3, iam = client("cloudformation"), client("s3"), client("iam")
    deferred = _deferred_policies(template)
    kept = {k: v for k, v in template["Resources"].items() if k not in deferred}
    for_moto = {**template, "Resources": kept}
    cf.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(for_moto),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    stack = cf.describe_stacks(StackName=stack_name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    moto_outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    resolve = Resolver(template, stack_name, region)
    for r in cf.describe_stack_resources(StackName=stack_name)["StackResources"]:
        if r.get("LogicalResourceId") and r.get("PhysicalResourceId"):
            resolve.physical[r["LogicalResourceId"]] = r["PhysicalResourceId"]
    resources = template["Resources"]
    for logical, res in resources.items():
        kind = res["Type"]
        if kind == "AWS::S3::Bucket":
            name = resolve.physical[logical]
            resolve.attributes[(logical, "Arn")] = f"arn:aws:s3:::{name}"
            resolve.attributes[(logical, "DomainName")] = f"{name}.s3.amazonaws.com"
        elif kind == "AWS::IAM::Role":
            role = iam.get_role(RoleName=resolve.physical[logical])["Role"]
            resolve.attributes[(logical, "Arn")] = role["Arn"]

    skipped = []
    # Buckets first (others refer to them), then what moto skipped, in dependency order.
    for logical, res in resources.items():
        if res["Type"] == "AWS::S3::Bucket":
            _complete_bucket(s3, resolve.physical[logical], resolve(res.get("Properties", {})))
    for logical, res in resources.items():
        if res["Type"] == "AWS::S3::BucketPolicy":
            props = resolve(res["Properties"])
            s3.put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"]))
            resolve.physical[logical] = props["Bucket"]
    for logical, res in resources.items():
        if res["Type"] == "AWS::S3::Bucket":
            _connect_bucket(s3, resolve.physical[logical], resolve(res.get("Properties", {})))
    order = [
        "AWS::Cognito::UserPool",
        "AWS::Cognito::UserPoolDomain",
        "AWS::Cognito::UserPoolIdentityProvider",
        "AWS::Cognito::UserPoolClient",
        "AWS::SecretsManager::Secret",
    ]
    unknown = {r["Type"] for r in resources.values()} - MOTO_NATIVE - NOT_ON_MOTO - set(order)
    unknown -= {"AWS::S3::BucketPolicy"}
    assert not unknown, f"no moto stand-in for {sorted(unknown)}"
    cognito, secrets = client("cognito-idp"), client("secretsmanager")
    for kind in order:
        for logical, res in resources.items():
            if res["Type"] != kind:
                continue
            props = resolve(res.get("Properties", {}))
            if kind == "AWS::Cognito::UserPool":
                args = _api_args(cognito, "CreateUserPool", props, {"UserPoolName": "PoolName"})
                args.setdefault("PoolName", f"{stack_name}-{logical}")
                pool = cognito.create_user_pool(**args)["UserPool"]
                if "SOFTWARE_TOKEN_MFA" in props.get("EnabledMfas", []):
                    cognito.set_user_pool_mfa_config(
                        UserPoolId=pool["Id"],
                        SoftwareTokenMfaConfiguration={"Enabled": True},
                        MfaConfiguration=props.get("MfaConfiguration", "OFF"),
                    )
                resolve.physical[logical] = pool["Id"]
                resolve.attributes[(logical, "Arn")] = pool["Arn"]
                resolve.attributes[(logical, "ProviderName")] = (
                    f"cognito-idp.{region}.amazonaws.com/{pool['Id']}"
                )
                resolve.attributes[(logical, "ProviderURL")] = (
                    f"https://cognito-idp.{region}.amazonaws.com/{pool['Id']}"
                )
            elif kind == "AWS::Cognito::UserPoolDomain":
                cognito.create_user_pool_domain(**_api_args(cognito, "CreateUserPoolDomain", props))
                resolve.physical[logical] = props["Domain"]
            elif kind == "AWS::Cognito::UserPoolIdentityProvider":
                cognito.create_identity_provider(**_api_args(cognito, "CreateIdentityProvider", props))
                resolve.physical[logical] = props["ProviderName"]
            elif kind == "AWS::Cognito::UserPoolClient":
                args = _api_args(cognito, "CreateUserPoolClient", props)
                args.setdefault("ClientName", f"{stack_name}-{logical}")
                made = cognito.create_user_pool_client(**args)["UserPoolClient"]
                resolve.physical[logical] = made["ClientId"]
                resolve.attributes[(logical, "ClientSecret")] = made.get("ClientSecret", "")
            elif kind == "AWS::SecretsManager::Secret":
                made = secrets.create_secret(
                    Name=props.get("Name", f"{stack_name}-{logical}"),
                    SecretString=props["SecretString"],
                    **({"Description": props["Description"]} if "Description" in props else {}),
                )
                resolve.physical[logical] = made["ARN"]
    for logical in deferred:
        props = resolve(resources[logical]["Properties"])
        for role in props.get("Roles", []):
            document = json.dumps(props["PolicyDocument"])
            iam.put_role_policy(RoleName=role, PolicyName=props["PolicyName"], PolicyDocument=document)
        resolve.physical[logical] = props["PolicyName"]
    skipped = [logical for logical, res in resources.items() if res["Type"] in NOT_ON_MOTO]

    outputs = {key: str(resolve(out["Value"])) for key, out in template.get("Outputs", {}).items()}
    for key, value in moto_outputs.items():
        if "None" not in value:
            assert outputs[key] == value, (key, value, outputs[key])
    return Deployment(stack_name, outputs, dict(resolve.physical), dict(resolve.attributes), skipped)
