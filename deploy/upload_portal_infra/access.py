"""Two IAM roles, as docs/storage.md describes them:

- `server_role`: the portal's own identity (the ECS task role of web, worker and beat). It
  starts, lists, completes and aborts multipart uploads, verifies and downloads, rewrites the
  bucket policy for revocations, and assumes the uploader role to vend credentials.
- `uploader_role` (UPLOADER_ROLE_ARN): the ceiling of every credential handed to a browser.
  Its policy is uploads.policies.uploader_role_policy(): s3:PutObject on the bucket's objects
  (plus the KMS key through S3 with SSE-KMS); each AssumeRole narrows that to one key with
  uploads.policies.session_policy(). Aborting and listing parts stay with the server role, so
  the uploader role never gets them. Only the server role may assume it, and only while
  setting a SourceIdentity (CloudTrail then names the customer behind every part)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from constructs import Construct

from .config import EnvironmentConfig
from .nag import acknowledge, objects_of
from .storage import UploadStorage

# docs/storage.md also lists s3:CreateMultipartUpload, which is no IAM action (cfn-lint W3037):
# s3:PutObject covers starting a multipart upload.
SERVER_OBJECT_ACTIONS = [
    "s3:PutObject",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAttributes",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:DeleteObjectVersion",
]
SERVER_BUCKET_ACTIONS = [
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    # Read-only checks of what setup_storage / check_aws compare (the Put* side is this stack's).
    "s3:GetBucketVersioning",
    "s3:GetBucketCORS",
    "s3:GetLifecycleConfiguration",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketPublicAccessBlock",
]
# accounts/cognito.py: reading the app client and users (check_aws, and the directory)...
COGNITO_READ_ACTIONS = ["cognito-idp:DescribeUserPoolClient", "cognito-idp:AdminGetUser"]
# ...and, with CUSTOMER_DIRECTORY=cognito, what invitations and admin's disable/enable do.
COGNITO_DIRECTORY_ACTIONS = [
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
]


class PortalAccess(Construct):
    def __init__(
        self, scope: Construct, id: str, *, config: EnvironmentConfig, storage: UploadStorage
    ) -> None:
        super().__init__(scope, id)
        bucket = storage.bucket
        objects = bucket.arn_for_objects("*")

        self.server_role = iam.Role(
            self,
            "Server",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="Upload Portal web, worker and beat (ECS task role)",
        )
        self.server_role.add_to_policy(
            iam.PolicyStatement(sid="Objects", actions=SERVER_OBJECT_ACTIONS, resources=[objects])
        )
        self.server_role.add_to_policy(
            iam.PolicyStatement(sid="Bucket", actions=SERVER_BUCKET_ACTIONS, resources=[bucket.bucket_arn])
        )

        uploader_statements = [
            iam.PolicyStatement(effect=iam.Effect.ALLOW, actions=["s3:PutObject"], resources=[objects])
        ]
        if config.kms_key_arn:
            kms = iam.PolicyStatement(
                sid="UseTheBucketKeyThroughS3",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[config.kms_key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{config.region}.amazonaws.com"}},
            )
            uploader_statements.append(kms)
            # The server creates, completes and reads SSE-KMS objects too.
            self.server_role.add_to_policy(
                iam.PolicyStatement(
                    sid="BucketKey",
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[config.kms_key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{config.region}.amazonaws.com"}},
                )
            )

        # The boundary repeats the role's policy: whatever is later attached to the role, a
        # vended credential can never do more than put objects into this one bucket.
        self.boundary = iam.ManagedPolicy(
            self,
            "UploaderBoundary",
            description="Permissions boundary of the Upload Portal uploader role",
            statements=uploader_statements,
        )
        self.uploader_role = iam.Role(
            self,
            "Uploader",
            assumed_by=iam.ArnPrincipal(self.server_role.role_arn),  # replaced below
            description="Ceiling of the credentials the Upload Portal vends to browsers and the CLI",
            max_session_duration=Duration.seconds(config.max_session_seconds),
            permissions_boundary=self.boundary,
            inline_policies={"PutObjects": iam.PolicyDocument(statements=uploader_statements)},
        )
        # One statement, as docs/storage.md gives it: SetSourceIdentity next to AssumeRole, and
        # only with a source identity set.
        trust_document = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    actions=["sts:AssumeRole", "sts:SetSourceIdentity"],
                    principals=[iam.ArnPrincipal(self.server_role.role_arn)],
                    conditions={"StringLike": {"sts:SourceIdentity": "*"}},
                )
            ]
        )
        self.uploader_role.node.default_child.add_property_override(
            "AssumeRolePolicyDocument", trust_document
        )
        self.server_role.add_to_policy(
            iam.PolicyStatement(
                sid="VendCredentials",
                actions=["sts:AssumeRole", "sts:SetSourceIdentity"],
                resources=[self.uploader_role.role_arn],
            )
        )
        reason = (
            "Object keys are chosen per upload by the portal (<org>/<project>/<upload-id>/<name>), so "
            "the actions apply to every object of this one bucket; browsers get one key each through "
            "the session policy (uploads/policies.py)."
        )
        acknowledge(
            [self.server_role, self.uploader_role, self.boundary],
            "AwsSolutions-IAM5",
            reason,
            [objects_of(bucket)],
        )

    def allow_user_pool(self, user_pool: cognito.IUserPool, *, directory: bool) -> None:
        """The server role's Cognito calls (accounts/cognito.py), on this one pool only."""
        actions = COGNITO_READ_ACTIONS + (COGNITO_DIRECTORY_ACTIONS if directory else [])
        # A policy of its own, so the role's default policy does not wait on the pool.
        iam.Policy(
            self,
            "UserPool",
            roles=[self.server_role],
            statements=[
                iam.PolicyStatement(sid="UserPool", actions=actions, resources=[user_pool.user_pool_arn])
            ],
        )
