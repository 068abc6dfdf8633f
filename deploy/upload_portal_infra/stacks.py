"""The two stacks of one environment.

- `StorageAndIdentityStack`: bucket(s), the server and uploader roles, Cognito. It holds the
  customers' data and sign-in, so it has no assets and no bootstrap-version rule: it deploys
  alone (the tests deploy it into moto's CloudFormation).
- `RuntimeStack`: network, ECS Fargate (web, worker, beat), ALB, RDS, ElastiCache, SES,
  secrets, logs. Replaceable without touching stored files."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from .access import PortalAccess
from .config import EnvironmentConfig
from .identity import Identity
from .outputs import env_output
from .storage import UploadStorage


def _env(config: EnvironmentConfig) -> cdk.Environment:
    return cdk.Environment(account=config.account, region=config.region)


class StorageAndIdentityStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(
            scope,
            id,
            env=_env(config),
            description=f"Upload Portal {config.name}: upload bucket, uploader role, Cognito",
            synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
            termination_protection=True,
        )
        self.config = config
        self.storage = UploadStorage(self, "UploadStorage", config=config)
        self.access = PortalAccess(self, "Access", config=config, storage=self.storage)
        self.identity = Identity(self, "Identity", config=config)
        self.access.allow_user_pool(self.identity.user_pool, directory=config.customer_directory == "cognito")

        env_output(self, "AWS_REGION", self.region, "the region of the bucket and the user pool")
        env_output(self, "UPLOAD_BUCKET", self.storage.bucket.bucket_name, "the upload bucket")
        env_output(
            self,
            "UPLOADER_ROLE_ARN",
            self.access.uploader_role.role_arn,
            "the role vended credentials come from",
        )
        if config.kms_key_arn:
            env_output(self, "UPLOAD_KMS_KEY_ID", config.kms_key_arn, "the bucket's SSE-KMS key")
        env_output(
            self,
            "UPLOAD_ABORT_INCOMPLETE_DAYS",
            str(config.abort_incomplete_days),
            "the bucket's lifecycle rule for abandoned multipart uploads",
        )
        env_output(
            self,
            "UPLOAD_CLI_CREDENTIALS_SECONDS",
            str(min(config.max_session_seconds, 3600)),
            "longest vended credentials (the role's maximum session, capped by role chaining)",
        )
        if config.audit_archive_lock_days:
            env_output(
                self,
                "AUDIT_ARCHIVE_PREFIX",
                config.audit_archive_prefix,
                "replicated into the Object Lock archive bucket",
            )
        env_output(
            self, "PORTAL_ORIGINS", ",".join(config.origins), "origins allowed by the bucket's CORS rule"
        )
        env_output(self, "PORTAL_BASE_URL", config.base_url, "links in emails")
        env_output(
            self, "COGNITO_SERVER_URL", self.identity.server_url, "OpenID Connect issuer of the user pool"
        )
        env_output(
            self, "COGNITO_CLIENT_ID", self.identity.client.user_pool_client_id, "the portal's app client"
        )
        env_output(self, "COGNITO_USER_POOL_ID", self.identity.user_pool.user_pool_id, "the user pool")
        env_output(
            self, "CUSTOMER_DIRECTORY", config.customer_directory, "who keeps customers' passwords and MFA"
        )
        env_output(
            self,
            "COGNITO_SENDS_INVITATION",
            str(config.cognito_sends_invitation).lower(),
            "Cognito emails its own invitation (else the portal does)",
        )
        env_output(
            self,
            "COGNITO_CLIENT_SECRET",
            self.identity.client_secret.secret_arn,
            "the app client's secret",
            secret=True,
        )


# CDK feature flags this app relies on (set before any construct is made).
FEATURE_FLAGS = {
    # Server access logs delivered under a bucket policy, not the LogDeliveryWrite ACL (the
    # buckets have ACLs disabled).
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def build(app: cdk.App, config: EnvironmentConfig, *, runtime: bool = True) -> dict[str, cdk.Stack]:
    for flag, value in FEATURE_FLAGS.items():
        app.node.set_context(flag, value)
    name = "".join(part.capitalize() for part in config.name.replace("_", "-").split("-"))
    stacks: dict[str, cdk.Stack] = {}
    core = StorageAndIdentityStack(app, f"UploadPortal{name}Data", config=config)
    stacks["data"] = core
    if runtime:
        from .runtime import RuntimeStack

        stacks["runtime"] = RuntimeStack(app, f"UploadPortal{name}Runtime", config=config, data=core)
    for key, value in config.tags.items():
        cdk.Tags.of(app).add(key, value)
    return stacks
