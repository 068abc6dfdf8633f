"""Cutting off credentials already vended: a customer removed from an organisation, a closed
project, a received CLI upload. STS credentials cannot be recalled, so the portal denies
them in the bucket policy until the last one would have expired."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

import audit
from uploads import policies, s3
from uploads.lifecycle import names
from uploads.models import CredentialRevocation, Upload, UploadProject

logger = logging.getLogger(__name__)


def revoke_user_credentials(
    user, reason: str, *, actor=None, organization=None
) -> CredentialRevocation | None:
    """Cut off every live credential vended to `user` by denying their source identity in
    the bucket policy until the last one would have expired."""
    now = timezone.now()
    live = Upload.objects.filter(uploaded_by=user, credentials_expire_at__gt=now)
    if organization is not None:
        live = live.filter(project__organization=organization)
    until = live.aggregate(m=Max("credentials_expire_at"))["m"]
    if until is None:
        return None
    value = names.source_identity(user)
    return _revoke(
        CredentialRevocation.Kind.IDENTITY,
        value,
        until,
        reason,
        actor=actor,
        target=user,
        organization=organization,
        source_identity=value,
    )


def revoke_project_credentials(
    project: UploadProject, reason: str, *, actor=None
) -> CredentialRevocation | None:
    """Closing a project: deny PutObject under its prefix to every vended session."""
    now = timezone.now()
    live = project.uploads.filter(credentials_expire_at__gt=now)
    until = live.aggregate(m=Max("credentials_expire_at"))["m"]
    if until is None:
        return None
    return _revoke(
        CredentialRevocation.Kind.PREFIX,
        project.key_prefix,
        until,
        reason,
        actor=actor,
        target=project,
        prefix=project.key_prefix,
    )


def revoke_cli_credentials(upload: Upload) -> None:
    """Once a CLI upload is received, its credentials may no longer write its key."""
    if upload.source != Upload.Source.CLI or not upload.credentials_expire_at:
        return
    if upload.credentials_expire_at <= timezone.now():
        return
    _revoke(
        CredentialRevocation.Kind.PREFIX,
        upload.object_key,
        upload.credentials_expire_at,
        "CLI upload received",
        actor=None,
        target=upload,
        prefix=upload.object_key,
    )
    apply_bucket_policy_safely()


def _revoke(
    kind: str, value: str, until: datetime, reason: str, *, actor, target, organization=None, **data
) -> CredentialRevocation:
    # The deny stays a little past the last credentials' expiry to cover clock skew.
    rev = CredentialRevocation.objects.create(
        kind=kind, value=value, reason=reason, expires_at=until + timedelta(minutes=5)
    )
    audit.record(
        "credentials.revoked",
        actor=actor,
        organization=organization,
        target=target,
        until=rev.expires_at.isoformat(),
        reason=reason,
        **data,
    )
    transaction.on_commit(apply_bucket_policy_safely)
    return rev


def bucket_policy(now: datetime | None = None) -> dict:
    """The bucket policy with the revocations live at `now`."""
    live = CredentialRevocation.objects.filter(expires_at__gt=now or timezone.now())
    return policies.bucket_policy(
        revoked_identities=sorted({r.value for r in live if r.kind == CredentialRevocation.Kind.IDENTITY}),
        closed_prefixes=sorted({r.value for r in live if r.kind == CredentialRevocation.Kind.PREFIX}),
    )


def apply_bucket_policy() -> bool:
    """Write the bucket policy if it differs; drop expired revocations. True if written."""
    now = timezone.now()
    CredentialRevocation.objects.filter(expires_at__lte=now).delete()
    if not settings.UPLOAD_BUCKET_POLICY:
        return False
    wanted = bucket_policy(now)
    if s3.get_bucket_policy() == wanted:
        return False
    s3.put_bucket_policy(wanted)
    return True


def apply_bucket_policy_safely() -> None:
    try:
        apply_bucket_policy()
    except s3.StorageError as exc:
        # The revocation row stays; the periodic apply (and setup_storage) writes it later.
        logger.error("could not write the bucket policy: %s", exc.code)
