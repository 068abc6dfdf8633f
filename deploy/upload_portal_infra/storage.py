"""The upload bucket, as `manage.py setup_storage` (uploads/bucket.py) would leave it, plus what
only an administrator sets up once: server access logging and the optional Object Lock archive.

The constants below repeat uploads/bucket.py and uploads/policies.py on purpose (the
infrastructure synthesises without Django); deploy/tests/test_moto_deploy.py compares the
deployed bucket with the portal's own `desired_*()` and `bucket_policy()` so they cannot drift."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from uploads.cors import CORS_ALLOWED_HEADERS, CORS_EXPOSE_HEADERS

from .config import EnvironmentConfig
from .nag import acknowledge, objects_of

LIFECYCLE_RULE_ID = "abort-incomplete-multipart-uploads"


class UploadStorage(Construct):
    """`bucket` (UPLOAD_BUCKET), `log_bucket` (its server access logs) and, when
    `audit_archive_lock_days` is set, `archive_bucket` (Object Lock, COMPLIANCE mode)."""

    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id)
        self.config = config
        self.kms_key = kms.Key.from_key_arn(self, "Key", config.kms_key_arn) if config.kms_key_arn else None

        self.log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # the only kind S3 log delivery writes to
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(400),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.log_bucket,
            "AwsSolutions-S1",
            "This is the access-log bucket; logging it into itself would loop.",
        )

        encryption = (
            {
                "encryption": s3.BucketEncryption.KMS,
                "encryption_key": self.kms_key,
                "bucket_key_enabled": True,
            }
            if self.kms_key
            else {"encryption": s3.BucketEncryption.S3_MANAGED}
        )
        self.archive_bucket = None
        replication: dict = {}
        if config.audit_archive_lock_days:
            self.archive_bucket = s3.Bucket(
                self,
                "AuditArchive",
                **encryption,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                enforce_ssl=True,
                versioned=True,
                object_lock_enabled=True,
                object_lock_default_retention=s3.ObjectLockRetention.compliance(
                    Duration.days(config.audit_archive_lock_days)
                ),
                server_access_logs_bucket=self.log_bucket,
                server_access_logs_prefix="audit-archive/",
                removal_policy=RemovalPolicy.RETAIN,
            )
            # The portal writes its daily audit archive under AUDIT_ARCHIVE_PREFIX in the upload
            # bucket (audit/archive via uploads.s3); S3 replicates each new object into the
            # locked bucket, where nobody, root included, can delete it before retention ends.
            replication = {
                "replication_rules": [
                    s3.ReplicationRule(
                        destination=self.archive_bucket,
                        priority=1,
                        id="audit-archive-to-object-lock",
                        filter=s3.Filter(prefix=config.audit_archive_prefix),
                        delete_marker_replication=False,
                        **({"kms_key": self.kms_key} if self.kms_key else {}),
                        **({"sse_kms_encrypted_objects": True} if self.kms_key else {}),
                    )
                ]
            }

        self.bucket = s3.Bucket(
            self,
            "Uploads",
            **encryption,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            cors=[
                s3.CorsRule(
                    allowed_origins=config.origins,
                    allowed_methods=[
                        s3.HttpMethods.PUT,
                        s3.HttpMethods.POST,
                        s3.HttpMethods.GET,
                        s3.HttpMethods.HEAD,
                    ],
                    allowed_headers=CORS_ALLOWED_HEADERS,
                    exposed_headers=CORS_EXPOSE_HEADERS,
                    max_age=3600,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(
                    id=LIFECYCLE_RULE_ID,
                    abort_incomplete_multipart_upload_after=Duration.days(config.abort_incomplete_days),
                )
            ],
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="uploads/",
            removal_policy=RemovalPolicy.RETAIN,
            **replication,
        )
        if self.archive_bucket is not None:
            acknowledge(
                self.bucket.node.find_child("ReplicationRole"),
                "AwsSolutions-IAM5",
                "S3 replication reads every object version under the archive prefix and writes "
                "replicas of them; CDK scopes it to the two buckets.",
                [objects_of(self.bucket), objects_of(self.archive_bucket)],
            )
        # The bucket policy is the portal's own deny-only policy (uploads.policies.bucket_policy)
        # without revocations: at run time lifecycle.apply_bucket_policy() rewrites it whole,
        # adding live revocations, so every statement here must also be in that function.
        arn = self.bucket.bucket_arn
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyInsecureTransport",
                effect=iam.Effect.DENY,
                principals=[iam.StarPrincipal()],
                actions=["s3:*"],
                resources=[arn, f"{arn}/*"],
                conditions={"Bool": {"aws:SecureTransport": "false"}},
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenySSEC",
                effect=iam.Effect.DENY,
                principals=[iam.StarPrincipal()],
                actions=["s3:PutObject"],
                resources=[f"{arn}/*"],
                conditions={"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
            )
        )
