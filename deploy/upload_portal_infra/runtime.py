"""The portal itself: the image from the project's Dockerfile, web (gunicorn behind an ALB with
the ACM certificate, health-checked on /healthz), a Celery worker and exactly one beat on
ECS Fargate; PostgreSQL on RDS, Redis on ElastiCache (TLS and AUTH), SES for mail, every secret
in Secrets Manager, every log in CloudWatch. Task role: the data stack's server role."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration, RemovalPolicy, SecretValue
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from constructs import Construct

from .config import EnvironmentConfig
from .nag import acknowledge
from .outputs import DNS_TARGET, env_output

REPO = Path(__file__).resolve().parents[2]
# Not part of the image (the Dockerfile installs packages itself); keeps the asset small.
IMAGE_EXCLUDE = [".git", ".venv", "node_modules", "var", "staticfiles", "deploy/cdk.out", "**/__pycache__"]
# Generated passwords go into URLs (DATABASE_URL, the Redis URLs) unescaped: letters and digits only.
URL_SAFE = secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=40)
REDIS_PORT = 6380
PORT = 8000


class RuntimeStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig, data) -> None:
        super().__init__(
            scope,
            id,
            env=cdk.Environment(account=config.account, region=config.region),
            description=f"Upload Portal {config.name}: ECS Fargate web, worker, beat; RDS; ElastiCache; SES",
        )
        self._network(config)
        self._secrets(config)
        self._database(config)
        self._redis(config)
        mail = ses.EmailIdentity(self, "Mail", identity=ses.Identity.domain(config.domain_name))
        self._services(config, data, mail)

    # Network --------------------------------------------------------------------------

    def _network(self, config: EnvironmentConfig) -> None:
        self.vpc = ec2.Vpc(
            self,
            "Network",
            max_azs=2,
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(
                    name="tasks", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
                ec2.SubnetConfiguration(
                    name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
            flow_logs={
                "all": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                        logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.THREE_MONTHS)
                    ),
                    traffic_type=ec2.FlowLogTrafficType.REJECT,
                )
            },
        )
        # Verification reads every byte of every upload: through the gateway endpoint that
        # costs nothing, through the NAT gateway it would cost per GB.
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        self.tasks_sg = ec2.SecurityGroup(self, "Tasks", vpc=self.vpc, description="Portal tasks")

    # Secrets --------------------------------------------------------------------------

    def _secrets(self, config: EnvironmentConfig) -> None:
        self.secret_key = secretsmanager.Secret(
            self,
            "SecretKeySecret",
            description="SECRET_KEY of the Upload Portal",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64),
        )
        # SES SMTP credentials are derived from an IAM access key by an algorithm CloudFormation
        # cannot run: an administrator creates them once and writes the URL here (docs/deploy.md).
        self.email_url = secretsmanager.Secret(
            self,
            "EmailUrlSecret",
            description="EMAIL_URL: smtp+tls://<SES SMTP user>:<password>@email-smtp.<region>.amazonaws.com",
            secret_string_value=SecretValue.unsafe_plain_text("consolemail://"),
        )
        acknowledge(
            [self.secret_key, self.email_url],
            "AwsSolutions-SMG4",
            "SECRET_KEY signs sessions (rotating it signs everyone out, so it is an operator's decision); "
            "EMAIL_URL holds SES SMTP credentials that only IAM can rotate.",
        )

    # PostgreSQL -----------------------------------------------------------------------

    def _database(self, config: EnvironmentConfig) -> None:
        self.db_sg = ec2.SecurityGroup(self, "DatabaseAccess", vpc=self.vpc, description="PostgreSQL")
        self.db_sg.add_ingress_rule(self.tasks_sg, ec2.Port.tcp(5432), "portal tasks")
        self.db = rds.DatabaseInstance(
            self,
            "Database",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_18_3),
            instance_type=ec2.InstanceType(config.db_instance_class),
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[self.db_sg],
            credentials=rds.Credentials.from_generated_secret(
                "portal", exclude_characters=" %+~`#$&*()|[]{}:;<>?!'/@\"\\,=^.-_"
            ),
            database_name="portal",
            multi_az=config.db_multi_az,
            allocated_storage=config.db_allocated_storage_gib,
            max_allocated_storage=config.db_allocated_storage_gib * 5,
            storage_encrypted=True,
            backup_retention=Duration.days(14),
            deletion_protection=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
            cloudwatch_logs_exports=["postgresql"],
            # No cloudwatch_logs_retention: CDK would add a Lambda to set it. Set the retention of
            # /aws/rds/instance/<id>/postgresql once by hand (docs/deploy.md).
            auto_minor_version_upgrade=True,
        )
        password = self.db.secret.secret_value_from_json("password").unsafe_unwrap()
        url = f"postgres://portal:{password}@{self.db.db_instance_endpoint_address}:5432/portal"
        # A dynamic reference resolved by CloudFormation at deploy: no password in the template.
        self.database_url = secretsmanager.Secret(
            self,
            "DatabaseUrlSecret",
            description="DATABASE_URL",
            secret_string_value=SecretValue.unsafe_plain_text(url),
        )
        acknowledge(
            [self.db, self.database_url],
            "AwsSolutions-SMG4",
            "DATABASE_URL is built from the generated password at deploy; a rotation Lambda would change "
            "the password under it. Rotate by a stack update with a new generated secret.",
        )
        acknowledge(
            self.db,
            "AwsSolutions-RDS11",
            "The default port, in isolated subnets reachable only from the security group of the portal's "
            "tasks.",
        )
        if not config.db_multi_az:
            acknowledge(
                self.db,
                "AwsSolutions-RDS3",
                "Single-AZ for a small environment (backups and deletion protection on); "
                "db_multi_az=true for HA.",
            )

    # Redis ----------------------------------------------------------------------------

    def _redis(self, config: EnvironmentConfig) -> None:
        sg = ec2.SecurityGroup(self, "RedisAccess", vpc=self.vpc, description="Redis")
        sg.add_ingress_rule(self.tasks_sg, ec2.Port.tcp(REDIS_PORT), "portal tasks")
        subnets = elasticache.CfnSubnetGroup(
            self,
            "RedisSubnets",
            description="Upload Portal Redis",
            subnet_ids=self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
        )
        self.redis_auth = secretsmanager.Secret(
            self, "RedisAuth", description="Redis AUTH token", generate_secret_string=URL_SAFE
        )
        token = self.redis_auth.secret_value.unsafe_unwrap()
        replicas = config.cache_replicas
        group = elasticache.CfnReplicationGroup(
            self,
            "Redis",
            replication_group_description="Upload Portal broker and cache",
            engine="redis",
            engine_version="7.1",
            cache_node_type=config.cache_node_type,
            num_cache_clusters=1 + replicas,
            automatic_failover_enabled=replicas > 0,
            multi_az_enabled=replicas > 0,
            port=REDIS_PORT,
            transit_encryption_enabled=True,
            at_rest_encryption_enabled=True,
            auth_token=token,
            cache_subnet_group_name=subnets.ref,
            security_group_ids=[sg.security_group_id],
            snapshot_retention_limit=1,
        )
        host = group.attr_primary_end_point_address
        base = f"rediss://:{token}@{host}:{REDIS_PORT}"
        self.broker_url = secretsmanager.Secret(
            self,
            "BrokerUrlSecret",
            description="CELERY_BROKER_URL",
            secret_string_value=SecretValue.unsafe_plain_text(f"{base}/0?ssl_cert_reqs=required"),
        )
        self.cache_url = secretsmanager.Secret(
            self,
            "CacheUrlSecret",
            description="CACHE_URL",
            secret_string_value=SecretValue.unsafe_plain_text(f"{base}/1"),
        )
        acknowledge(
            [self.redis_auth, self.broker_url, self.cache_url],
            "AwsSolutions-SMG4",
            "The AUTH token is set on the replication group at deploy and the URLs are built from it; "
            "rotate by a stack update (ElastiCache's ROTATE strategy), not a rotation Lambda.",
        )
        if not replicas:
            acknowledge(
                group,
                "AwsSolutions-AEC4",
                "One node for a small environment; cache_replicas>=1 turns on Multi-AZ with "
                "automatic failover.",
            )

    # ECS ------------------------------------------------------------------------------

    def _services(self, config: EnvironmentConfig, data, mail: ses.EmailIdentity) -> None:
        cluster = ecs.Cluster(
            self, "Cluster", vpc=self.vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        image = (
            ecs.ContainerImage.from_asset(str(REPO), file="Dockerfile", exclude=IMAGE_EXCLUDE)
            if config.image == "build"
            else ecs.ContainerImage.from_registry(config.image)
        )
        identity = data.identity
        environment = {
            "DEBUG": "false",
            "ALLOWED_HOSTS": config.domain_name,
            "PORTAL_ORIGINS": ",".join(config.origins),
            "PORTAL_BASE_URL": config.base_url,
            "BEHIND_TLS_PROXY": "true",
            "TRUSTED_PROXY_COUNT": "1",
            "AWS_ENDPOINT_URL": "",
            "AWS_REGION": config.region,
            "UPLOAD_BUCKET": data.storage.bucket.bucket_name,
            "UPLOADER_ROLE_ARN": data.access.uploader_role.role_arn,
            "UPLOAD_KMS_KEY_ID": config.kms_key_arn,
            "UPLOAD_ABORT_INCOMPLETE_DAYS": str(config.abort_incomplete_days),
            "UPLOAD_CLI_CREDENTIALS_SECONDS": str(min(config.max_session_seconds, 3600)),
            "AUDIT_ARCHIVE_PREFIX": config.audit_archive_prefix,
            "COGNITO_SERVER_URL": identity.server_url,
            "COGNITO_CLIENT_ID": identity.client.user_pool_client_id,
            "COGNITO_USER_POOL_ID": identity.user_pool.user_pool_id,
            "CUSTOMER_DIRECTORY": config.customer_directory,
            "COGNITO_SENDS_INVITATION": str(config.cognito_sends_invitation).lower(),
        }
        if config.from_email:
            environment["DEFAULT_FROM_EMAIL"] = config.from_email
        secrets = {
            "SECRET_KEY": ecs.Secret.from_secrets_manager(self.secret_key),
            "DATABASE_URL": ecs.Secret.from_secrets_manager(self.database_url),
            "CELERY_BROKER_URL": ecs.Secret.from_secrets_manager(self.broker_url),
            "CACHE_URL": ecs.Secret.from_secrets_manager(self.cache_url),
            "EMAIL_URL": ecs.Secret.from_secrets_manager(self.email_url),
            "COGNITO_CLIENT_SECRET": ecs.Secret.from_secrets_manager(identity.client_secret),
        }
        log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.ONE_YEAR)

        def task(name: str, command: list[str], cpu: int, memory: int, health: list[str] | None = None):
            definition = ecs.FargateTaskDefinition(
                self,
                f"{name}Task",
                cpu=cpu,
                memory_limit_mib=memory,
                task_role=data.access.server_role,
                runtime_platform=ecs.RuntimePlatform(
                    cpu_architecture=ecs.CpuArchitecture.X86_64,
                    operating_system_family=ecs.OperatingSystemFamily.LINUX,
                ),
            )
            definition.add_container(
                name.lower(),
                image=image,
                command=command,
                environment=environment,
                secrets=secrets,
                logging=ecs.LogDrivers.aws_logs(stream_prefix=name.lower(), log_group=log_group),
                port_mappings=[ecs.PortMapping(container_port=PORT)] if name == "Web" else None,
                health_check=ecs.HealthCheck(command=health) if health else None,
                readonly_root_filesystem=False,
            )
            acknowledge(
                definition,
                "AwsSolutions-ECS2",
                "Only non-secret settings are plain environment variables; every secret comes from "
                "Secrets Manager through the task's secrets.",
            )
            acknowledge(
                definition,
                "AwsSolutions-IAM5",
                "The execution role's grants CDK writes: pulling the image from ECR (GetAuthorizationToken "
                "has no resource) and writing to this stack's log group.",
                ["Resource::*"],
            )
            return definition

        # The container's own check speaks to gunicorn with the portal's host name (Django
        # refuses other Host headers); the ALB's check below asks /healthz too.
        web_health = [
            "CMD",
            "python",
            "-c",
            "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', "
            f"headers={{'Host': '{config.domain_name}'}}), timeout=4)",
        ]
        web_task = task(
            "Web",
            ["gunicorn", "portal.wsgi", "--bind", f"0.0.0.0:{PORT}", "--workers", "3", "--timeout", "60"],
            config.web_cpu,
            config.web_memory_mib,
            web_health,
        )
        worker_task = task(
            "Worker",
            ["celery", "-A", "portal", "worker", "--loglevel=INFO", "--concurrency=4"],
            config.worker_cpu,
            config.worker_memory_mib,
        )
        beat_task = task(
            "Beat",
            [
                "celery",
                "-A",
                "portal",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                "/app/var/celerybeat-schedule",
            ],
            256,
            512,
        )
        placement = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

        def service(name, definition, count, **extra):
            return ecs.FargateService(
                self,
                name,
                cluster=cluster,
                task_definition=definition,
                desired_count=count,
                security_groups=[self.tasks_sg],
                vpc_subnets=placement,
                circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
                enable_execute_command=False,
                **extra,
            )

        web = service(
            "WebService", web_task, config.web_count, health_check_grace_period=Duration.seconds(60)
        )
        service("WorkerService", worker_task, config.worker_count)
        # Exactly one beat, also during a deployment: the old one stops before the new starts.
        service("BeatService", beat_task, 1, min_healthy_percent=0, max_healthy_percent=100)

        # Load balancer -----------------------------------------------------------------
        alb_logs = s3.Bucket(
            self,
            "LoadBalancerLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # what ELB log delivery supports
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(400))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            alb_logs,
            "AwsSolutions-S1",
            "This bucket holds the load balancer's access logs; logging access to the log bucket itself "
            "would only log the log delivery.",
        )
        alb = elbv2.ApplicationLoadBalancer(
            self, "LoadBalancer", vpc=self.vpc, internet_facing=True, drop_invalid_header_fields=True
        )
        alb.log_access_logs(alb_logs, prefix="alb")
        acknowledge(
            alb,
            "AwsSolutions-EC23",
            "The portal is a public web site: its load balancer takes HTTPS (and HTTP, redirected) "
            "from anywhere.",
        )
        self.tasks_sg.add_ingress_rule(
            alb.connections.security_groups[0], ec2.Port.tcp(PORT), "load balancer"
        )
        certificate = acm.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn)
        https = alb.add_listener(
            "Https",
            port=443,
            certificates=[certificate],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            open=True,
        )
        https.add_targets(
            "Web",
            port=PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[web],
            health_check=elbv2.HealthCheck(
                path="/healthz",
                healthy_http_codes="200",
                interval=Duration.seconds(30),
                timeout=Duration.seconds(5),
            ),
            deregistration_delay=Duration.seconds(30),
        )
        alb.add_redirect(source_port=80, target_port=443)

        env_output(self, "ALLOWED_HOSTS", config.domain_name, "the portal's host name")
        env_output(self, "BEHIND_TLS_PROXY", "true", "TLS ends at the load balancer")
        env_output(self, "TRUSTED_PROXY_COUNT", "1", "the load balancer appends to X-Forwarded-For")
        if config.from_email:
            env_output(
                self,
                "DEFAULT_FROM_EMAIL",
                config.from_email,
                f"sender, on the SES identity {config.domain_name}",
            )
        for name, secret in (
            ("SECRET_KEY", self.secret_key),
            ("DATABASE_URL", self.database_url),
            ("CELERY_BROKER_URL", self.broker_url),
            ("CACHE_URL", self.cache_url),
            ("EMAIL_URL", self.email_url),
        ):
            env_output(self, name, secret.secret_arn, name, secret=True)
        cdk.CfnOutput(
            self,
            DNS_TARGET,
            value=alb.load_balancer_dns_name,
            description=f"not a setting: point {config.domain_name} here (CNAME, or an alias record)",
        )
