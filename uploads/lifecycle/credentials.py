"""Vending credentials: STS credentials that can PUT exactly one upload's object, for a
short time, to the browser (refreshed before expiry) or once to the AWS CLI."""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

import audit
from uploads import policies, s3
from uploads.lifecycle import names, rules
from uploads.lifecycle.create import create_upload
from uploads.models import Upload, UploadProject
from uploads.refusals import storage_unavailable

logger = logging.getLogger(__name__)


@dataclass
class IssuedCredentials:
    upload: Upload
    credentials: s3.Credentials


def issue_credentials(user, upload: Upload, *, duration: int | None = None) -> IssuedCredentials:
    """STS credentials that can PUT exactly this upload's object, for a short time."""
    rules.require_own_upload_in_open_project(user, upload, "continue")
    rules.require_active(
        user, upload, f"This upload is {upload.get_status_display().lower()}; it takes no more data."
    )
    seconds = duration or settings.UPLOAD_CREDENTIALS_SECONDS
    names.assert_safe_key(upload.object_key)
    policy = policies.session_policy(upload.object_key)
    try:
        creds = s3.assume_role(names.session_name(user, upload), names.source_identity(user), policy, seconds)
    except s3.StorageError as exc:
        logger.error("AssumeRole failed for upload %s: %s", upload.pk, exc.code)
        raise storage_unavailable("Could not get upload permission; please try again.") from None
    expires = creds.expiration
    # Record the expiry even if the upload finished meanwhile: the holder can PUT until then.
    Upload.objects.filter(pk=upload.pk).filter(
        Q(credentials_expire_at__isnull=True) | Q(credentials_expire_at__lt=expires)
    ).update(credentials_expire_at=expires)
    upload.transition(Upload.Status.UPLOADING, allowed={Upload.Status.CREATED, Upload.Status.STALLED})
    upload.refresh_from_db()
    audit.record(
        "upload.credentials_issued",
        actor=user,
        target=upload,
        expires_at=expires.isoformat(),
        seconds=seconds,
        access_key_id=creds.access_key_id,
        session_name=names.session_name(user, upload),
        source_identity=names.source_identity(user),
        # What the credentials can do, as the session policy granted it.
        scope=[{"actions": st["Action"], "resources": st["Resource"]} for st in policy["Statement"]],
    )
    rules.require_active(user, upload, "This upload finished while permission was being prepared.")
    return IssuedCredentials(upload=upload, credentials=creds)


def create_cli_upload(
    user, project: UploadProject, *, name: str, size: int, declared_sha256: str | None = None
) -> IssuedCredentials:
    """The AWS CLI path: the server creates the key (so quota and name rules hold) and
    vends credentials for that one key; the CLI runs its own multipart upload."""
    upload = create_upload(
        user, project, name=name, size=size, declared_sha256=declared_sha256, source=Upload.Source.CLI
    )
    return issue_credentials(user, upload, duration=cli_credentials_seconds(size))


def cli_credentials_seconds(size: int) -> int:
    """As long as the copy needs at UPLOAD_CLI_MIN_SPEED (bytes a second) plus ten minutes,
    between STS's 15 minutes and UPLOAD_CLI_CREDENTIALS_SECONDS (at most an hour): the CLI
    cannot refresh them, and every minute beyond the copy is a minute the key can be
    overwritten."""
    needed = int(size / settings.UPLOAD_CLI_MIN_SPEED) + 600
    return max(900, min(settings.UPLOAD_CLI_CREDENTIALS_SECONDS, needed))


def cli_command(upload: Upload, creds: s3.Credentials) -> str:
    """A command the customer pastes into a shell in the folder holding the file."""
    env = (
        f"AWS_ACCESS_KEY_ID={shlex.quote(creds.access_key_id)} "
        f"AWS_SECRET_ACCESS_KEY={shlex.quote(creds.secret_access_key)} "
        f"AWS_SESSION_TOKEN={shlex.quote(creds.session_token)} "
    )
    cmd = (
        f"aws s3 cp {shlex.quote(upload.original_name)} s3://{s3.bucket()}/{upload.object_key} "
        f"--checksum-algorithm CRC64NVME --region {settings.AWS_REGION}"
    )
    if settings.AWS_PUBLIC_ENDPOINT_URL:
        cmd += f" --endpoint-url {settings.AWS_PUBLIC_ENDPOINT_URL}"
    return env + cmd
