"""Every Amazon Cognito user pool call the portal makes; boto3 is imported here and in the
storage package (uploads/s3/) only. Answers are small dataclasses, never boto3's dicts, and
every error is a `CognitoError` with the AWS error code ("Unavailable" when AWS could not be
reached at all)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from portal.errors import AwsError


class CognitoError(AwsError):
    """A Cognito call failed (or Cognito is not configured: code "NotConfigured")."""


@dataclass(frozen=True)
class CognitoUser:
    username: str
    enabled: bool
    status: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class AppClient:
    client_id: str
    callback_urls: tuple[str, ...]
    logout_urls: tuple[str, ...]
    allowed_oauth_flows: tuple[str, ...]
    allowed_oauth_scopes: tuple[str, ...]
    supported_identity_providers: tuple[str, ...]


@functools.lru_cache(maxsize=8)
def _cached_client(endpoint: str | None, region: str, key_id: str | None) -> Any:
    return boto3.session.Session().client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=region,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=20),
    )


def client() -> Any:
    return _cached_client(settings.AWS_ENDPOINT_URL, settings.AWS_REGION, os.environ.get("AWS_ACCESS_KEY_ID"))


def call(operation: str, /, **kwargs) -> dict:
    try:
        return getattr(client(), operation)(**kwargs)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code = err.get("Code") or str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
        raise CognitoError(code, err.get("Message", "")) from None
    except BotoCoreError as exc:
        raise CognitoError("Unavailable", type(exc).__name__) from None


def user_pool_id() -> str:
    if not settings.COGNITO_USER_POOL_ID:
        raise CognitoError("NotConfigured", "set COGNITO_USER_POOL_ID or COGNITO_SERVER_URL")
    return settings.COGNITO_USER_POOL_ID


def create_user(email: str, *, send_invitation: bool) -> bool:
    """AdminCreateUser with the address as username, marked verified (the consultant
    vouches for it by inviting it). Cognito emails its own invitation only if asked.
    False if the user already existed (a re-invitation), True if created."""
    kwargs: dict[str, Any] = {
        "UserPoolId": user_pool_id(),
        "Username": email,
        "UserAttributes": [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ],
        "DesiredDeliveryMediums": ["EMAIL"],
    }
    if not send_invitation:
        kwargs["MessageAction"] = "SUPPRESS"
    try:
        call("admin_create_user", **kwargs)
    except CognitoError as exc:
        if exc.code == "UsernameExistsException":
            return False
        raise
    return True


def disable_user(username: str) -> None:
    call("admin_disable_user", UserPoolId=user_pool_id(), Username=username)


def enable_user(username: str) -> None:
    call("admin_enable_user", UserPoolId=user_pool_id(), Username=username)


def get_user(username: str) -> CognitoUser | None:
    try:
        answer = call("admin_get_user", UserPoolId=user_pool_id(), Username=username)
    except CognitoError as exc:
        if exc.code == "UserNotFoundException":
            return None
        raise
    return CognitoUser(
        username=answer["Username"],
        enabled=bool(answer.get("Enabled", True)),
        status=answer.get("UserStatus", ""),
        attributes={a["Name"]: a.get("Value", "") for a in answer.get("UserAttributes", [])},
    )


def app_client() -> AppClient:
    """The portal's app client (COGNITO_CLIENT_ID) as the pool describes it."""
    if not settings.COGNITO_CLIENT_ID:
        raise CognitoError("NotConfigured", "set COGNITO_CLIENT_ID")
    answer = call("describe_user_pool_client", UserPoolId=user_pool_id(), ClientId=settings.COGNITO_CLIENT_ID)
    c = answer["UserPoolClient"]
    return AppClient(
        client_id=c["ClientId"],
        callback_urls=tuple(c.get("CallbackURLs", ())),
        logout_urls=tuple(c.get("LogoutURLs", ())),
        allowed_oauth_flows=tuple(c.get("AllowedOAuthFlows", ())),
        allowed_oauth_scopes=tuple(c.get("AllowedOAuthScopes", ())),
        supported_identity_providers=tuple(c.get("SupportedIdentityProviders", ())),
    )


def discovery_url() -> str:
    """Where the pool's OpenID Connect discovery document is: under COGNITO_SERVER_URL on
    AWS, or under AWS_ENDPOINT_URL on a local stand-in (moto serves it at /<pool>/...)."""
    if settings.AWS_ENDPOINT_URL:
        return f"{settings.AWS_ENDPOINT_URL.rstrip('/')}/{user_pool_id()}/.well-known/openid-configuration"
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
    server_url = next(
        (a["settings"]["server_url"] for a in apps if a.get("provider_id") == "cognito"),
        f"https://cognito-idp.{settings.AWS_REGION}.amazonaws.com/{user_pool_id()}",
    )
    return f"{server_url.rstrip('/')}/.well-known/openid-configuration"
