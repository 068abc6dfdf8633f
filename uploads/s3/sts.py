"""STS: the short-lived, session-policy-narrowed credentials the browser and CLI get."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from uploads.s3.client import call, client
from uploads.s3.types import Credentials


def assume_role(
    session_name: str, source_identity: str, policy: dict[str, Any], duration: int
) -> Credentials:
    """Temporary credentials for the uploader role, narrowed by an inline session policy.
    The effective permissions are the intersection of the role's policy and `policy`."""
    kwargs: dict[str, Any] = {
        "RoleArn": settings.UPLOADER_ROLE_ARN,
        "RoleSessionName": session_name,
        "Policy": json.dumps(policy, separators=(",", ":")),
        "DurationSeconds": duration,
    }
    if source_identity:
        kwargs["SourceIdentity"] = source_identity
    resp = call(client("sts").assume_role, **kwargs)
    c = resp["Credentials"]
    return Credentials(
        access_key_id=c["AccessKeyId"],
        secret_access_key=c["SecretAccessKey"],
        session_token=c["SessionToken"],
        expiration=c["Expiration"],
    )
