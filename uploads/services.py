"""Business rules for upload projects and uploads. Views, the API, admin actions and tasks
call these, so each rule has one home. S3 and STS are reached only through uploads.s3."""

from __future__ import annotations

import base64
import binascii
import logging
import math
import re
import shlex
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from django.conf import settings
from django.db import models, transaction
from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone

import audit
from uploads import dispatch, integrity, s3
from uploads.models import CredentialRevocation, Upload, UploadPart, UploadProject
from uploads.tenancy import Tenancy

logger = logging.getLogger(__name__)

# Statuses in which the customer may still send parts (and so get credentials).
ACTIVE = (Upload.Status.CREATED, Upload.Status.UPLOADING, Upload.Status.STALLED)
# Characters allowed in object keys: nothing that is a wildcard or variable in an IAM
# policy resource (`*`, `?`, `${`) and nothing a client must percent-encode to sign.
SAFE_KEY_RE = re.compile(r"^[A-Za-z0-9._/-]+$")
SAFE_SEGMENT_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
# The readable tail of a key; the rest is org/project/upload-id. Short keys keep the
# session policy far below STS's 2,048-character limit.
MAX_SAFE_PATH = 200
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 1024
WINDOWS_RESERVED = (
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
CONTENT_TYPE_RE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$"
)
# Database dumps and backups whose extensions browsers map to unrelated types (".dmp" is a
# tcpdump capture to most of them): stored as plain bytes.
OCTET_STREAM_EXTENSIONS = {"dmp", "dump", "bak", "exp", "dbf", "ora", "trc", "bin", "ckp", "arc"}
SOURCE_IDENTITY_RE = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)


class UploadRefused(Exception):
    """A request the rules refuse. `code` and `message` go to the customer as they are."""

    def __init__(self, code: str, message: str, status: int = 409):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def refuse(
    code: str, message: str, status: int = 409, *, user=None, target=None, project=None, **data
) -> NoReturn:
    """Audit a refusal and raise it. Refusals on bad input change nothing else."""
    audit.record(
        "upload.refused", actor=user, target=target, project=project, reason=code, message=message, **data
    )
    raise UploadRefused(code, message, status)


# Read-side helpers used by the project page -------------------------------------------


def quota_used(project: UploadProject) -> int:
    """Bytes counted against the project's quota: uploads received or still in flight."""
    total = project.uploads.filter(status__in=Upload.COUNTS_AGAINST_QUOTA).aggregate(total=Sum("size"))[
        "total"
    ]
    return total or 0


def in_progress_uploads(project: UploadProject):
    return project.uploads.filter(status__in=Upload.IN_PROGRESS).select_related("uploaded_by")


def completed_uploads(project: UploadProject):
    return project.uploads.exclude(status__in=Upload.IN_PROGRESS).select_related("uploaded_by")


def list_uploads(
    user, project: UploadProject, state: str = "all", size: int | None = None
) -> QuerySet[Upload]:
    """The project's uploads, newest first; `size` narrows them to one file size, as the
    browser does to find an unfinished upload of a file, or one already received."""
    Tenancy(user).project(project.pk)
    qs = project.uploads.select_related("uploaded_by").order_by("-created_at")
    if state == "in_progress":
        qs = qs.filter(status__in=Upload.IN_PROGRESS)
    if size is not None:
        qs = qs.filter(size=size)
    return qs


# Names and keys ------------------------------------------------------------------------


def _check_segment(segment: str, what: str) -> None:
    if segment in ("", ".", ".."):
        raise UploadRefused("invalid_name", f"The {what} has an empty, '.' or '..' part.", 400)
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in segment):
        raise UploadRefused("invalid_name", f"The {what} contains control or invisible characters.", 400)
    if "\\" in segment:
        raise UploadRefused("invalid_name", f"The {what} contains a backslash.", 400)
    if len(segment.encode("utf-8")) > MAX_NAME_BYTES:
        raise UploadRefused("name_too_long", f"Each part of the {what} must be at most 255 bytes.", 400)
    stem = segment.split(".", 1)[0].strip().lower()
    if stem in WINDOWS_RESERVED:
        raise UploadRefused("reserved_name", f"'{segment}' is a reserved file name; rename it first.", 400)
    if segment != segment.strip() or segment.endswith("."):
        raise UploadRefused(
            "invalid_name", f"The {what} has a part starting or ending with a space or dot.", 400
        )


def validate_name(name: str, relative_path: str) -> list[str]:
    """The path's segments (just [name] without a path), or UploadRefused(400)."""
    if not isinstance(name, str) or not name:
        raise UploadRefused("invalid_name", "The file needs a name.", 400)
    if "/" in name:
        raise UploadRefused("invalid_name", "A file name cannot contain '/'.", 400)
    _check_segment(name, "file name")
    if not relative_path:
        return [name]
    if len(relative_path.encode("utf-8")) > MAX_PATH_BYTES:
        raise UploadRefused("name_too_long", "The folder path must be at most 1,024 bytes.", 400)
    if relative_path.startswith("/"):
        raise UploadRefused("invalid_name", "The folder path cannot start with '/'.", 400)
    segments = relative_path.split("/")
    for segment in segments:
        _check_segment(segment, "folder path")
    if segments[-1] != name:
        raise UploadRefused("invalid_name", "The folder path must end with the file name.", 400)
    return segments


# Letters that Unicode does not decompose into a base letter plus accents, written as a
# reader of the language would spell them in ASCII.
TRANSLITERATIONS = str.maketrans(
    {
        "ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
        "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ł": "l", "Ł": "L",
        "ı": "i", "ħ": "h", "Ħ": "H", "ŋ": "ng", "Ŋ": "NG", "ŧ": "t", "Ŧ": "T",
    }
)  # fmt: skip


def _safe_segment(segment: str) -> str:
    # Fold accents to ASCII where Unicode allows; everything else becomes "_".
    ascii_form = (
        unicodedata.normalize("NFKD", segment.translate(TRANSLITERATIONS)).encode("ascii", "ignore").decode()
    )
    safe = SAFE_SEGMENT_CHARS.sub("_", ascii_form)
    safe = re.sub(r"_+\.", ".", safe).strip("._") or "file"
    return safe[:80]


def safe_relative_path(segments: list[str]) -> str:
    """The readable key tail: only [A-Za-z0-9._/-], no '.'/'..' segments, short. The
    original name and path stay in the database; the key only has to be recognisable."""
    safe = [_safe_segment(s) for s in segments]
    name = safe[-1]
    folders = safe[:-1]
    path = "/".join([*folders, name])
    while len(path) > MAX_SAFE_PATH and folders:
        folders.pop(0)
        path = "/".join([*folders, name])
    return path[-MAX_SAFE_PATH:].lstrip("/.") or "file"


def object_key(project: UploadProject, upload_id: uuid.UUID, segments: list[str]) -> str:
    key = f"{project.key_prefix}{upload_id}/{safe_relative_path(segments)}"
    assert_safe_key(key)
    return key


def assert_safe_key(key: str) -> None:
    """Keys go into IAM policy resources, where `*`, `?` and `${` are live syntax."""
    if not SAFE_KEY_RE.fullmatch(key) or any(seg in ("", ".", "..") for seg in key.split("/")):
        raise ValueError(f"unsafe object key {key!r}")
    if len(key.encode()) > 1024:
        raise ValueError("object key too long")


def plan_parts(size: int) -> tuple[int, int]:
    """(part_size, part_count): at least the minimum part size, large enough that at most
    10,000 parts cover the file, rounded up to the rounding unit."""
    unit = settings.UPLOAD_PART_SIZE_UNIT
    needed = math.ceil(size / s3.MAX_PARTS)
    part_size = max(settings.UPLOAD_MIN_PART_SIZE, math.ceil(needed / unit) * unit)
    if part_size > s3.MAX_PART_SIZE:
        raise UploadRefused("file_too_large", "The file is larger than S3 can store in one object.", 400)
    return part_size, max(1, math.ceil(size / part_size))


def expected_part_sizes(upload: Upload) -> list[int]:
    last = upload.size - (upload.part_count - 1) * upload.part_size
    return [upload.part_size] * (upload.part_count - 1) + [last]


def _extension_allowed(project: UploadProject, name: str) -> bool:
    allowed = project.extension_list
    lower = name.lower()
    return not allowed or any(lower.endswith("." + ext) for ext in allowed)


def valid_crc64nvme(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 12:
        return False
    try:
        return len(base64.b64decode(value, validate=True)) == 8
    except (binascii.Error, ValueError):
        return False


# Create ----------------------------------------------------------------------------------


def require_uploader(user, project: UploadProject) -> None:
    if not Tenancy(user).can_upload_to(project):
        refuse(
            "not_allowed",
            "Your role in this organisation lets you see uploads but not send files.",
            403,
            user=user,
            target=project,
        )


def create_upload(
    user,
    project: UploadProject,
    *,
    name: str,
    relative_path: str = "",
    size: int,
    content_type: str = "",
    last_modified: int | None = None,
    batch_id: uuid.UUID | None = None,
    declared_sha256: str | None = None,
    source: str = Upload.Source.BROWSER,
) -> Upload:
    """Check every rule, reserve the quota, and start the multipart upload in S3."""
    require_uploader(user, project)
    try:
        segments = validate_name(name, relative_path or "")
    except UploadRefused as exc:
        refuse(
            exc.code,
            exc.message,
            exc.status,
            user=user,
            target=project,
            name=str(name).encode("unicode_escape").decode()[:300],
        )
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        refuse(
            "invalid_size",
            "The file's size must be a whole number of bytes, zero or more.",
            400,
            user=user,
            target=project,
            size=size,
        )
    if size > s3.MAX_OBJECT_SIZE:
        refuse(
            "file_too_large",
            "Files can be at most 5 TiB (S3's limit).",
            400,
            user=user,
            target=project,
            size=size,
        )
    if not _extension_allowed(project, name):
        refuse(
            "extension_not_allowed",
            f"This project accepts only these file types: {', '.join(project.extension_list)}.",
            400,
            user=user,
            target=project,
            name=name,
        )
    declared = (declared_sha256 or "").lower()
    if declared and not SHA256_RE.fullmatch(declared):
        refuse(
            "invalid_checksum",
            "The SHA-256 must be 64 hexadecimal characters.",
            400,
            user=user,
            target=project,
        )
    # A zero-byte file has no parts: the portal stores it itself (_store_empty).
    part_size, part_count = plan_parts(size) if size else (0, 0)
    if content_type and not CONTENT_TYPE_RE.fullmatch(content_type):
        content_type = ""
    if name.rsplit(".", 1)[-1].lower() in OCTET_STREAM_EXTENSIONS:
        content_type = "application/octet-stream"
    client_mtime = None
    if isinstance(last_modified, int) and 0 <= last_modified < 32503680000000:
        client_mtime = datetime.fromtimestamp(last_modified / 1000, tz=UTC)

    upload_id = uuid.uuid4()
    key = object_key(project, upload_id, segments)
    with transaction.atomic():
        # The project row is the lock for its quota: concurrent creates queue here, so two
        # requests cannot both take the last bytes.
        locked = UploadProject.objects.select_for_update().get(pk=project.pk)
        refusal = None
        if not locked.is_accepting_uploads():
            refusal = (
                "project_closed",
                "This project is closed or past its deadline; no new uploads can start.",
            )
        elif size > locked.max_file_size:
            refusal = (
                "file_too_large",
                f"Files in this project can be at most {locked.max_file_size:,} bytes.",
            )
        elif quota_used(locked) + size > locked.quota_bytes:
            free = max(0, locked.quota_bytes - quota_used(locked))
            refusal = ("quota_exceeded", f"Not enough space left in this project: {free:,} bytes are free.")
        if refusal is None:
            upload = Upload.objects.create(
                id=upload_id,
                project=locked,
                uploaded_by=user,
                batch_id=batch_id,
                original_name=name,
                relative_path=relative_path or "",
                object_key=key,
                size=size,
                content_type=content_type,
                client_last_modified=client_mtime,
                part_size=part_size,
                part_count=part_count,
                declared_sha256=declared,
                source=source,
            )
    if refusal is not None:
        refuse(refusal[0], refusal[1], user=user, target=project, size=size)

    if source == Upload.Source.BROWSER and size:
        try:
            upload.multipart_upload_id = s3.create_multipart_upload(key, content_type)
        except s3.StorageError as exc:
            Upload.objects.filter(pk=upload.pk).update(
                status=Upload.Status.FAILED, status_reason="Storage did not accept the upload."
            )
            logger.error("CreateMultipartUpload failed for %s: %s", upload.pk, exc.code)
            raise UploadRefused(
                "storage_unavailable", "File storage is not answering; please try again shortly.", 503
            ) from None
        Upload.objects.filter(pk=upload.pk).update(multipart_upload_id=upload.multipart_upload_id)
    audit.record(
        "upload.created",
        actor=user,
        target=upload,
        name=name,
        relative_path=relative_path or "",
        size=size,
        key=key,
        part_size=part_size,
        part_count=part_count,
        source=source,
        batch_id=str(batch_id) if batch_id else None,
    )
    if size == 0:
        _store_empty(user, upload)
    return upload


# SHA-256 of no bytes: the portal writes the empty object itself, so it knows this value.
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _store_empty(user, upload: Upload) -> None:
    """Zero-byte files (folders of database exports have them) are real files: the portal puts
    the empty object itself and records it as completed, so it is verified like any other."""
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.COMPLETING)
    try:
        result = s3.put_empty_object(upload.object_key, upload.content_type)
    except s3.StorageError as exc:
        _fail(upload, "Storage did not accept the empty file.", actor=user, code=exc.code)
        raise UploadRefused(
            "storage_unavailable", "File storage is not answering; please try again shortly.", 503
        ) from None
    _record_completed(upload, result, EMPTY_SHA256, actor=user)


# Credentials ------------------------------------------------------------------------------


def session_policy(key: str) -> dict[str, Any]:
    """The inline session policy: s3:PutObject on exactly one object and nothing else.
    PutObject covers CreateMultipartUpload, UploadPart and CompleteMultipartUpload; listing
    and aborting go through the portal, so the browser needs no other action."""
    assert_safe_key(key)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "PutThisObjectOnly",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": s3.object_arn(key),
        }
    ]
    if settings.UPLOAD_KMS_KEY_ID:
        statements.append(s3.kms_statement())
    return {"Version": "2012-10-17", "Statement": statements}


def session_name(user, upload: Upload) -> str:
    return f"u{user.pk}-{upload.pk}"


def source_identity(user) -> str:
    """What CloudTrail shows for every request made with the credentials: the email when
    STS accepts it, else a stable id."""
    email = (getattr(user, "email", "") or "").strip()
    if SOURCE_IDENTITY_RE.fullmatch(email):
        return email
    return f"portal-user-{user.pk}"


@dataclass
class IssuedCredentials:
    upload: Upload
    credentials: s3.Credentials


def _require_own_upload_in_open_project(user, upload: Upload, verb: str) -> None:
    """Only the uploader who started an upload may go on with it, and only while its
    project is open."""
    require_uploader(user, upload.project)
    if upload.uploaded_by_id != user.pk:
        refuse(
            "not_your_upload",
            f"Only the person who started this upload can {verb} it.",
            403,
            user=user,
            target=upload,
        )
    if not upload.project.lets_started_uploads_continue():
        refuse(
            "project_closed",
            "This project is closed or past its deadline; uploads to it have stopped.",
            user=user,
            target=upload,
        )


def issue_credentials(user, upload: Upload, *, duration: int | None = None) -> IssuedCredentials:
    """STS credentials that can PUT exactly this upload's object, for a short time."""
    _require_own_upload_in_open_project(user, upload, "continue")
    if upload.status not in ACTIVE:
        refuse(
            "upload_not_active",
            f"This upload is {upload.get_status_display().lower()}; it takes no more data.",
            user=user,
            target=upload,
            upload_status=upload.status,
        )
    seconds = duration or settings.UPLOAD_CREDENTIALS_SECONDS
    policy = session_policy(upload.object_key)
    try:
        creds = s3.assume_role(session_name(user, upload), source_identity(user), policy, seconds)
    except s3.StorageError as exc:
        logger.error("AssumeRole failed for upload %s: %s", upload.pk, exc.code)
        raise UploadRefused(
            "storage_unavailable", "Could not get upload permission; please try again.", 503
        ) from None
    expires = creds.expiration
    # Record the expiry even if the upload finished meanwhile: the holder can PUT until then.
    Upload.objects.filter(pk=upload.pk).filter(
        Q(credentials_expire_at__isnull=True) | Q(credentials_expire_at__lt=expires)
    ).update(credentials_expire_at=expires)
    Upload.objects.filter(pk=upload.pk, status__in=(Upload.Status.CREATED, Upload.Status.STALLED)).update(
        status=Upload.Status.UPLOADING
    )
    upload.refresh_from_db()
    audit.record(
        "upload.credentials_issued",
        actor=user,
        target=upload,
        expires_at=expires.isoformat(),
        seconds=seconds,
        access_key_id=creds.access_key_id,
        session_name=session_name(user, upload),
        source_identity=source_identity(user),
        # What the credentials can do, as the session policy granted it.
        scope=[{"actions": st["Action"], "resources": st["Resource"]} for st in policy["Statement"]],
    )
    if upload.status not in ACTIVE:
        refuse(
            "upload_not_active",
            "This upload finished while permission was being prepared.",
            user=user,
            target=upload,
            upload_status=upload.status,
        )
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


# Progress ----------------------------------------------------------------------------------


def record_progress(user, upload: Upload, bytes_done: int, parts: list[dict[str, Any]]) -> tuple[bool, int]:
    """Store the browser's progress and per-part checksums, at most once per interval.
    Returns (accepted, seconds until the next call is acted on). Not audited: it is
    frequent and changes no permission."""
    _require_own_upload_in_open_project(user, upload, "continue")
    if upload.status not in ACTIVE:
        raise UploadRefused("upload_not_active", "This upload takes no more data.")
    if not isinstance(bytes_done, int) or not 0 <= bytes_done <= upload.size:
        raise UploadRefused("invalid_progress", "bytes_done must be between 0 and the file size.", 400)
    clean: dict[int, str] = {}
    for p in parts:
        number, checksum = p.get("number"), p.get("checksum_crc64nvme")
        if not isinstance(number, int) or not 1 <= number <= upload.part_count:
            raise UploadRefused("invalid_progress", f"Part {number} is not part of this upload's plan.", 400)
        if not valid_crc64nvme(checksum):
            raise UploadRefused(
                "invalid_checksum", f"Part {number}'s CRC64NVME is not 8 base64-encoded bytes.", 400
            )
        clean[number] = checksum
    interval = settings.UPLOAD_PROGRESS_INTERVAL_SECONDS
    now = timezone.now()
    due = Q(last_progress_at__isnull=True) | Q(last_progress_at__lte=now - timedelta(seconds=interval))
    with transaction.atomic():
        acted = Upload.objects.filter(due, pk=upload.pk, status__in=ACTIVE).update(
            last_progress_at=now, bytes_confirmed=bytes_done, status=Upload.Status.UPLOADING
        )
        if not acted:
            last = Upload.objects.filter(pk=upload.pk).values_list("last_progress_at", flat=True).first()
            wait = interval - (now - last).total_seconds() if last else interval
            return False, max(1, math.ceil(wait))
        sizes = expected_part_sizes(upload)
        UploadPart.objects.bulk_create(
            [
                UploadPart(upload=upload, number=n, size=sizes[n - 1], checksum_crc64nvme=c)
                for n, c in clean.items()
            ],
            update_conflicts=True,
            unique_fields=["upload", "number"],
            update_fields=["checksum_crc64nvme", "size", "updated_at"],
        )
    return True, interval


def list_parts(user, upload: Upload) -> list[dict[str, Any]]:
    """The parts S3 holds (every ListParts page) with what the browser reported for each."""
    Tenancy(user).upload(upload.pk)
    if not upload.multipart_upload_id or upload.status not in Upload.IN_PROGRESS:
        return []
    try:
        parts = s3.list_parts(upload.object_key, upload.multipart_upload_id)
    except s3.StorageError as exc:
        if exc.code == "NoSuchUpload":
            raise UploadRefused(
                "upload_missing", "Storage no longer has this upload; start it again."
            ) from None
        raise UploadRefused(
            "storage_unavailable", "File storage is not answering; please try again.", 503
        ) from None
    recorded = dict(upload.parts.values_list("number", "checksum_crc64nvme"))
    for p in parts:
        p["recorded_checksum_crc64nvme"] = recorded.get(p["number"]) or None
    return parts


# Complete and abort -------------------------------------------------------------------------


def _claim(upload: Upload, user, to: str, **fields) -> str:
    """Move an active upload to `to` (with `fields`) by a conditional update, so two
    concurrent calls cannot both win. Returns the status it had."""
    with transaction.atomic():
        current, reason = (
            Upload.objects.select_for_update()
            .filter(pk=upload.pk)
            .values_list("status", "status_reason")
            .first()
        ) or (None, "")
        if current in ACTIVE:
            # updated_at says since when it is `to` (update() does not touch auto_now fields).
            Upload.objects.filter(pk=upload.pk, status=current).update(
                status=to, updated_at=timezone.now(), **fields
            )
            return current
    upload.status = current
    if current == Upload.Status.ABORTED:
        refuse("upload_aborted", "This upload was cancelled; start a new one.", user=user, target=upload)
    if current == Upload.Status.COMPLETING:
        refuse("already_completing", "This upload is already being completed.", user=user, target=upload)
    if current == Upload.Status.FAILED:
        # Say why: a complete retried after a lost reply only learns the outcome here.
        message = f"This upload failed. {reason} Start a new one.".replace("  ", " ")
        refuse("upload_failed", message, user=user, target=upload)
    refuse(
        "already_completed",
        "This upload is already complete.",
        user=user,
        target=upload,
        upload_status=current,
    )
    raise AssertionError("unreachable")


# The checksums a complete claimed are kept only while it runs (see recover_interrupted_complete).
UNCLAIMED = {"checksum_crc64nvme": "", "checksum_sha256": ""}


def _fail(upload: Upload, reason: str, action: str = "upload.failed", actor=None, **data) -> None:
    """A complete failed for good: say why, and drop the checksums it claimed."""
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.FAILED, status_reason=reason, **UNCLAIMED)
    upload.status, upload.status_reason = Upload.Status.FAILED, reason
    upload.checksum_crc64nvme = upload.checksum_sha256 = ""
    audit.record(action, actor=actor, target=upload, reason=reason, **data)


def _describe_mismatch(upload: Upload, parts: list[dict[str, Any]]) -> str:
    expected = expected_part_sizes(upload)
    have = {p["number"]: p for p in parts}
    problems = []
    missing = [n for n in range(1, upload.part_count + 1) if n not in have]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        problems.append(f"{len(missing)} part(s) missing ({shown})")
    extra = sorted(n for n in have if n > upload.part_count)
    if extra:
        problems.append(f"unexpected part(s) {', '.join(map(str, extra[:10]))}")
    wrong = [
        f"part {n} is {have[n]['size']:,} bytes, expected {expected[n - 1]:,}"
        for n in sorted(have)
        if n <= upload.part_count and have[n]["size"] != expected[n - 1]
    ]
    problems.extend(wrong[:5])
    total = sum(p["size"] for p in parts)
    if total > upload.size:
        problems.append(f"{total:,} bytes received but the file has {upload.size:,}")
    return "; ".join(problems)


def complete_upload(
    user, upload: Upload, checksum_crc64nvme: str | None, checksum_sha256: str | None
) -> Upload:
    """Finish the upload on the server: check the parts against the plan, complete with the
    client's full-object CRC64NVME, compare what S3 computed, record the version."""
    _require_own_upload_in_open_project(user, upload, "complete")
    sha = (checksum_sha256 or "").lower()
    if sha and not SHA256_RE.fullmatch(sha):
        refuse(
            "invalid_checksum",
            "The SHA-256 must be 64 hexadecimal characters.",
            400,
            user=user,
            target=upload,
        )
    crc = checksum_crc64nvme or ""
    if crc and not valid_crc64nvme(crc):
        refuse("invalid_checksum", "The CRC64NVME must be 8 bytes in base64.", 400, user=user, target=upload)
    if upload.source == Upload.Source.BROWSER and not (crc and sha):
        refuse(
            "invalid_checksum",
            "Both the CRC64NVME and the SHA-256 of the whole file are needed.",
            400,
            user=user,
            target=upload,
        )
    if upload.source == Upload.Source.BROWSER and upload.declared_sha256 and sha != upload.declared_sha256:
        _refuse_declared_mismatch(user, upload, sha)
    if upload.status in Upload.RECEIVED and (crc, sha) == (upload.checksum_crc64nvme, upload.checksum_sha256):
        # The same complete again because the first reply was lost (a dropped connection, a
        # proxy's timeout): answer as the first did. Nothing changes, so nothing is audited.
        return upload
    # The checksums claimed are kept, so an interrupted complete can be recovered by them.
    previous = _claim(upload, user, Upload.Status.COMPLETING, checksum_crc64nvme=crc, checksum_sha256=sha)

    def back_off(code: str, message: str, status: int = 409, **data):
        # Nothing happened in S3: the customer can fix the parts and try again.
        completing = Upload.objects.filter(pk=upload.pk, status=Upload.Status.COMPLETING)
        completing.update(status=previous, **UNCLAIMED)
        refuse(code, message, status, user=user, target=upload, **data)

    try:
        if upload.source == Upload.Source.CLI:
            result = _complete_cli(user, upload, crc, back_off)
        else:
            result = _complete_multipart(user, upload, crc, back_off)
    except s3.StorageError as exc:
        logger.error("completing %s failed: %s", upload.pk, exc.code)
        back_off("storage_unavailable", "File storage is not answering; please try again shortly.", 503)
    # S3 confirmed the object: record it even if a slow complete was meanwhile taken for dead
    # and handed back (recover_interrupted_complete).
    if _record_completed(upload, result, sha, actor=user, also_from=ACTIVE):
        revoke_cli_credentials(upload)
    return upload


def _refuse_declared_mismatch(user, upload: Upload, sha: str) -> None:
    """The file the browser read is not the one the customer declared: keep none of it."""
    if upload.status in ACTIVE and upload.multipart_upload_id:
        try:
            s3.abort_multipart_upload(upload.object_key, upload.multipart_upload_id)
        except s3.StorageError as exc:
            logger.error("aborting %s after a declared SHA-256 mismatch failed: %s", upload.pk, exc.code)
        message = (
            f"This file's SHA-256 ({sha}) is not the one you declared ({upload.declared_sha256}): "
            "it is not the file you meant to send, so nothing was kept. Check the file and upload it again."
        )
        _fail(upload, message, actor=user, code="declared_checksum_mismatch")
    refuse(
        "declared_checksum_mismatch",
        upload.status_reason or "This file's SHA-256 is not the one you declared.",
        user=user,
        target=upload,
    )


def _record_completed(
    upload: Upload, result: dict[str, Any], sha: str, actor=None, also_from: tuple[str, ...] = ()
) -> bool:
    """The upload (in `completing`, or one of `also_from`) is now the object version in
    `result`: record it, audit it and queue its verification. False when it was not."""
    statuses = (Upload.Status.COMPLETING, *also_from)
    changed = Upload.objects.filter(pk=upload.pk, status__in=statuses).update(
        status=Upload.Status.UPLOADED,
        version_id=result["version_id"],
        etag=result["etag"],
        checksum_crc64nvme=result["checksum_crc64nvme"],
        checksum_sha256=sha,
        bytes_confirmed=upload.size,
        completed_at=timezone.now(),
        status_reason="",
    )
    upload.refresh_from_db()
    if not changed:
        return False
    audit.record(
        "upload.completed",
        actor=actor,
        target=upload,
        version_id=upload.version_id,
        etag=upload.etag,
        checksum_crc64nvme=upload.checksum_crc64nvme,
        checksum_sha256=sha,
        size=upload.size,
    )
    dispatch.verify_after_commit(upload.id)
    return True


def recover_interrupted_complete(upload: Upload) -> str:
    """A complete whose web process died midway leaves the upload `completing` for good. Ask
    S3 what happened: if it completed the object with the checksum the browser sent, record
    that; if the multipart upload is still open, hand the upload back so the customer's next
    complete runs again; anything else fails it. Returns the outcome."""
    still_open = True
    if upload.source == Upload.Source.BROWSER:
        try:
            s3.list_parts(upload.object_key, upload.multipart_upload_id)
        except s3.StorageError as exc:
            if exc.code != "NoSuchUpload":
                raise
            still_open = False
    if still_open:
        changed = Upload.objects.filter(pk=upload.pk, status=Upload.Status.COMPLETING).update(
            status=Upload.Status.UPLOADING,
            status_reason="The last attempt to finish was interrupted; finishing again will work.",
            updated_at=timezone.now(),
            **UNCLAIMED,
        )
        outcome = "handed_back" if changed else "unchanged"
    else:
        outcome = "failed"
        for version in s3.list_object_versions(upload.object_key):
            if version["delete_marker"]:
                continue
            head = s3.head_object(upload.object_key, version["version_id"] or None)
            if head["checksum_crc64nvme"] == upload.checksum_crc64nvme and head["size"] == upload.size:
                result = {
                    "version_id": head["version_id"],
                    "etag": head["etag"],
                    "checksum_crc64nvme": head["checksum_crc64nvme"],
                }
                recorded = _record_completed(upload, result, upload.checksum_sha256)
                outcome = "completed" if recorded else "unchanged"
                break
        else:
            _fail(upload, "The upload was finished outside the portal, or not with this file's checksum.")
    if outcome != "unchanged":
        audit.record("upload.complete_interrupted", target=upload, outcome=outcome)
    return outcome


def _complete_multipart(user, upload: Upload, crc: str, back_off) -> dict[str, Any]:
    try:
        parts = s3.list_parts(upload.object_key, upload.multipart_upload_id)
    except s3.StorageError as exc:
        if exc.code != "NoSuchUpload":
            raise
        # Only the portal completes or aborts: a vanished upload means someone used the
        # credentials to do it themselves.
        _fail(
            upload,
            "The upload was completed or cancelled outside the portal.",
            "upload.tampering_detected",
            actor=user,
            detail="multipart upload missing at complete",
        )
        raise UploadRefused(
            "upload_missing", "This upload was changed outside the portal; start it again."
        ) from None
    problems = _describe_mismatch(upload, parts)
    if problems:
        back_off(
            "parts_mismatch", f"The parts received do not match the plan: {problems}.", problems=problems
        )
    try:
        result = s3.complete_multipart_upload(upload.object_key, upload.multipart_upload_id, parts, crc)
    except s3.StorageError as exc:
        if exc.code not in ("BadDigest", "InvalidRequest", "InvalidPart"):
            raise
        s3.abort_multipart_upload(upload.object_key, upload.multipart_upload_id)
        _fail(
            upload, "The file's checksum did not match what storage received.", actor=user, s3_error=exc.code
        )
        raise UploadRefused(
            "checksum_mismatch",
            "The file changed while it was being uploaded, or some bytes were damaged on the way. "
            "Please start the upload again.",
        ) from None
    # moto does not check the checksum sent to complete, and no server must be trusted to:
    # compare the value S3 stored for the object's bytes with the browser's. (moto's
    # complete reply omits it, so HeadObject of the new version is the source.)
    head = s3.head_object(upload.object_key, result["version_id"] or None)
    stored = head["checksum_crc64nvme"] or result["checksum_crc64nvme"]
    if stored != crc or head["size"] != upload.size:
        # A store that does not check at complete kept bytes the portal refuses: remove them,
        # so nothing unverified stays under the key (and no later check calls it foreign).
        removed = head["version_id"] or result["version_id"]
        if removed:
            s3.delete_object_version(upload.object_key, removed)
    if stored != crc:
        _fail(
            upload,
            "The file's checksum did not match what storage received.",
            actor=user,
            expected=crc,
            received=stored,
            removed_version=removed,
        )
        raise UploadRefused(
            "checksum_mismatch",
            "The file changed while it was being uploaded, or some bytes were damaged on the way. "
            "Please start the upload again.",
        )
    if head["size"] != upload.size:
        reason = f"Storage holds {head['size']:,} bytes, not {upload.size:,}."
        _fail(upload, reason, actor=user, removed_version=removed)
        raise UploadRefused("size_mismatch", "The stored file does not have the declared size; start again.")
    result["checksum_crc64nvme"] = stored
    return result


def _complete_cli(user, upload: Upload, crc: str, back_off) -> dict[str, Any]:
    try:
        head = s3.head_object(upload.object_key)
    except s3.StorageError as exc:
        if not exc.missing:
            raise
        back_off(
            "object_missing",
            "The file has not arrived yet. Run the command, wait for it to finish, then try again.",
        )
    if head["size"] != upload.size:
        back_off(
            "size_mismatch",
            f"The file received has {head['size']:,} bytes, but you declared {upload.size:,}.",
        )
    if crc and head["checksum_crc64nvme"] and head["checksum_crc64nvme"] != crc:
        back_off("checksum_mismatch", "The file received does not have the checksum you gave.")
    return {
        "version_id": head["version_id"],
        "etag": head["etag"],
        "checksum_crc64nvme": head["checksum_crc64nvme"],
    }


def abort_upload(user, upload: Upload) -> Upload:
    require_uploader(user, upload.project)
    if upload.uploaded_by_id != user.pk:
        refuse(
            "not_your_upload",
            "Only the person who started this upload can cancel it.",
            403,
            user=user,
            target=upload,
        )
    if upload.status == Upload.Status.ABORTED:
        return upload
    _claim(upload, user, Upload.Status.ABORTED)
    Upload.objects.filter(pk=upload.pk).update(status_reason="Cancelled by the customer.")
    upload.refresh_from_db()
    if upload.multipart_upload_id:
        try:
            s3.abort_multipart_upload(upload.object_key, upload.multipart_upload_id)
        except s3.StorageError as exc:
            # The bucket's lifecycle rule removes the parts in the end.
            logger.warning("AbortMultipartUpload failed for %s: %s", upload.pk, exc.code)
    audit.record("upload.aborted", actor=user, target=upload, by="customer")
    return upload


# Foreign writes -----------------------------------------------------------------------


def due_for_foreign_check(now: datetime | None = None) -> QuerySet[Upload]:
    """Uploads whose last vended credentials have expired and that were not checked since:
    from now on nobody but the portal can write to their key."""
    now = now or timezone.now()
    return (
        Upload.objects.filter(credentials_expire_at__lte=now)
        .exclude(status=Upload.Status.COMPLETING)
        .filter(
            Q(foreign_checked_at__isnull=True) | Q(foreign_checked_at__lt=models.F("credentials_expire_at"))
        )
    )


def check_foreign_writes(upload: Upload, *, versions: list[dict[str, Any]] | None = None) -> list[str]:
    """The one server-side check after the credentials expired. PutObject let the holder
    start and complete multipart uploads and PUT over the key; anything on the key other
    than the portal's own multipart upload (while in progress) and the recorded version is
    foreign: unfinished multipart uploads are aborted, extra versions are flagged (kept as
    evidence; downloads and verification use the recorded version only). `versions` is the
    key's listing when the caller already has it."""
    key = upload.object_key
    findings: list[str] = []
    for mpu in s3.list_multipart_uploads(key):
        if mpu["key"] != key:
            continue
        if upload.status in Upload.IN_PROGRESS and mpu["upload_id"] == upload.multipart_upload_id:
            continue
        s3.abort_multipart_upload(key, mpu["upload_id"])
        findings.append(f"aborted a multipart upload the portal did not start ({mpu['upload_id'][:16]}…)")
    recorded = upload.version_id if upload.status in Upload.RECEIVED else None
    for version in s3.list_object_versions(key) if versions is None else versions:
        if version["version_id"] != recorded:
            kind = "delete marker" if version["delete_marker"] else f"{version['size']:,}-byte version"
            findings.append(f"a {kind} written outside the portal ({version['version_id']})")
    Upload.objects.filter(pk=upload.pk).update(foreign_checked_at=timezone.now())
    if findings:
        reason = "Data was written to this file's storage key outside the portal."
        Upload.objects.filter(pk=upload.pk).update(status_reason=reason)
        audit.record("upload.tampering_detected", target=upload, actor_label="system", findings=findings)
    return findings


# Staff download ---------------------------------------------------------------------------


def staff_download_url(staff_user, upload: Upload) -> str:
    """A presigned GET of the recorded version only, valid at most 15 minutes. The caller
    (admin) has already scoped the upload to the consultant's teams."""
    if upload.status not in Upload.RECEIVED or not upload.version_id:
        raise UploadRefused("not_received", "Only received files can be downloaded.")
    # Storage is asked first, so a lost file is said in the portal's words (and flagged),
    # never as S3's XML error behind a link.
    if integrity.check_stored(upload) is not True:
        raise UploadRefused(
            "missing_from_storage",
            f"This file cannot be downloaded: {upload.status_reason} Staff have been told.",
        )
    seconds = min(settings.STAFF_DOWNLOAD_SECONDS, 900)
    url = s3.presigned_get(upload.object_key, upload.version_id, seconds, upload.original_name)
    audit.record(
        "upload.download_link_issued",
        actor=staff_user,
        target=upload,
        version_id=upload.version_id,
        expires_in=seconds,
    )
    return url


# Revocation -------------------------------------------------------------------------------


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
    value = source_identity(user)
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
    until = project.uploads.filter(credentials_expire_at__gt=now).aggregate(m=Max("credentials_expire_at"))[
        "m"
    ]
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


def _revoke(kind, value: str, until: datetime, reason: str, *, actor, target, organization=None, **data):
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


def bucket_policy(now: datetime | None = None) -> dict[str, Any]:
    """The whole bucket policy the portal owns: deny-only statements."""
    now = now or timezone.now()
    bucket_arn = f"arn:aws:s3:::{s3.bucket()}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            # Customer-provided keys would make objects the portal cannot read or verify.
            "Sid": "DenySSEC",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
        },
    ]
    live = CredentialRevocation.objects.filter(expires_at__gt=now)
    identities = sorted({r.value for r in live if r.kind == CredentialRevocation.Kind.IDENTITY})
    prefixes = sorted({r.value for r in live if r.kind == CredentialRevocation.Kind.PREFIX})
    if identities:
        statements.append(
            {
                "Sid": "DenyRevokedIdentities",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"StringEquals": {"aws:SourceIdentity": identities}},
            }
        )
    if prefixes:
        statements.append(
            {
                "Sid": "DenyClosedProjects",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": [f"{bucket_arn}/{p}*" for p in prefixes],
                "Condition": {"ArnEquals": {"aws:PrincipalArn": settings.UPLOADER_ROLE_ARN}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


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
