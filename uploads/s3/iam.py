"""IAM, for the local stand-in only: in AWS the role is created once, by the deployment."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from uploads.s3.client import call, client
from uploads.s3.types import StorageError


def ensure_local_uploader_role(*, trust_policy: dict[str, Any], permissions: dict[str, Any]) -> bool:
    """Create the uploader role on moto so `make run` works offline; True if created."""
    iam = client("iam")
    name = settings.UPLOADER_ROLE_ARN.rsplit("/", 1)[-1]
    try:
        call(iam.get_role, RoleName=name)
        return False
    except StorageError as exc:
        if exc.code != "NoSuchEntity":
            raise
    call(
        iam.create_role,
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust_policy),
        MaxSessionDuration=3600,
    )
    call(
        iam.put_role_policy,
        RoleName=name,
        PolicyName="upload-objects",
        PolicyDocument=json.dumps(permissions),
    )
    return True
