"""What differs per consultancy, read at synth time from one JSON file
(`deploy/environments/<name>.json`, chosen with `-c env=<name>` or PORTAL_DEPLOY_ENV).

Synth-time values rather than CloudFormation parameters: each environment gets a plain,
reviewable template, and optional parts (Object Lock archive, federated IdPs, a KMS key) are
simply present or absent instead of wrapped in conditions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENVIRONMENTS = Path(__file__).resolve().parent.parent / "environments"


@dataclass(frozen=True)
class IdentityProvider:
    """A customer's IdP federated through Cognito. `kind` is "SAML" or "OIDC"; `details`
    are Cognito's ProviderDetails (MetadataURL for SAML; client_id, client_secret, oidc_issuer,
    authorize_scopes, attributes_request_method for OIDC). `email_verified_attribute`: the
    IdP claim mapped to Cognito's email_verified (OIDC: "email_verified"; SAML: an attribute
    the IdP sends as "true" for addresses it vouches for, see docs/sign-in.md)."""

    name: str
    kind: str
    details: dict[str, str]
    email_attribute: str = "email"
    email_verified_attribute: str = "email_verified"


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    # The portal's public host name (DNS is the consultancy's) and its ACM certificate.
    domain_name: str
    certificate_arn: str = ""
    account: str | None = None
    region: str = "eu-west-1"
    # SSE-KMS with this key ARN; empty means SSE-S3.
    kms_key_arn: str = ""
    # Cognito managed login lives at https://<prefix>.auth.<region>.amazoncognito.com
    cognito_domain_prefix: str = ""
    cognito_mfa: str = "OPTIONAL"  # OFF, OPTIONAL or ON (TOTP)
    identity_providers: tuple[IdentityProvider, ...] = ()
    # Also let the user pool's own users sign in (organisations listing "COGNITO").
    cognito_pool_users: bool = True
    # CUSTOMER_DIRECTORY: "local" (the portal keeps customers' passwords) or "cognito" (the
    # user pool does; the server role may then create, disable and enable its users).
    customer_directory: str = "local"
    # COGNITO_SENDS_INVITATION: Cognito emails its own invitation instead of the portal.
    cognito_sends_invitation: bool = False
    # Audit archive: a separate bucket with Object Lock (COMPLIANCE) receiving a replica of
    # everything under AUDIT_ARCHIVE_PREFIX. 0 days = no archive bucket.
    audit_archive_lock_days: int = 0
    audit_archive_prefix: str = "_audit/"
    abort_incomplete_days: int = 7
    # The portal's longest vended credentials (UPLOAD_CLI_CREDENTIALS_SECONDS); role
    # chaining caps AssumeRole at one hour whatever the role allows.
    max_session_seconds: int = 3600
    # Sizes.
    web_count: int = 1
    web_cpu: int = 512
    web_memory_mib: int = 1024
    worker_count: int = 1
    worker_cpu: int = 1024
    worker_memory_mib: int = 2048
    db_instance_class: str = "t4g.micro"
    db_allocated_storage_gib: int = 20
    db_multi_az: bool = False
    cache_node_type: str = "cache.t4g.micro"
    cache_replicas: int = 0
    nat_gateways: int = 1
    # "build" builds the project's Dockerfile at deploy (a CDK asset pushed to the bootstrap
    # ECR repository); otherwise a full image URI built and pushed by CI.
    image: str = "build"
    from_email: str = ""
    alarm_email: str = ""
    extra_origins: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"https://{self.domain_name}"

    @property
    def origins(self) -> list[str]:
        return [self.base_url, *self.extra_origins]

    @property
    def callback_urls(self) -> list[str]:
        return [f"{o}/accounts/oidc/cognito/login/callback/" for o in self.origins]

    @property
    def logout_urls(self) -> list[str]:
        return [f"{o}/accounts/login/" for o in self.origins]

    @property
    def prefix(self) -> str:
        """A name fragment for resources: lower case letters, digits and hyphens."""
        return re.sub(r"[^a-z0-9-]", "-", f"upload-portal-{self.name}".lower())

    def validate(self) -> EnvironmentConfig:
        problems = []
        if not re.fullmatch(r"[a-z0-9.-]+", self.domain_name):
            problems.append(f"domain_name {self.domain_name!r} is not a host name")
        if self.customer_directory not in ("local", "cognito"):
            problems.append("customer_directory must be local or cognito")
        if self.cognito_mfa not in ("OFF", "OPTIONAL", "ON"):
            problems.append("cognito_mfa must be OFF, OPTIONAL or ON")
        if not 3600 <= self.max_session_seconds <= 43200:
            problems.append("max_session_seconds must be 3600..43200")
        if not self.audit_archive_prefix.endswith("/"):
            problems.append("audit_archive_prefix must end with /")
        for idp in self.identity_providers:
            if idp.kind not in ("SAML", "OIDC"):
                problems.append(f"identity provider {idp.name}: kind must be SAML or OIDC")
            secret = idp.details.get("client_secret", "")
            if secret and not secret.startswith("{{resolve:secretsmanager:"):
                # A literal would sit in the template in plain text.
                problems.append(f"identity provider {idp.name}: client_secret must be a dynamic reference")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def from_dict(data: dict[str, Any]) -> EnvironmentConfig:
    data = dict(data)
    data["identity_providers"] = tuple(IdentityProvider(**p) for p in data.get("identity_providers", ()))
    data["extra_origins"] = tuple(data.get("extra_origins", ()))
    return EnvironmentConfig(**data).validate()


def load(name: str) -> EnvironmentConfig:
    path = ENVIRONMENTS / f"{name}.json"
    data = json.loads(path.read_text())
    data.setdefault("name", name)
    return from_dict(data)
